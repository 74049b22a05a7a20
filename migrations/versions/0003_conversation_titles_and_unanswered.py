"""conversation titles (the chat's list of past conversations) and the questions Docent
refused (the coverage-gaps view)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=True))
    # Conversations kept before titles existed are titled by their first question.
    op.execute(
        "UPDATE conversations SET title = (SELECT substr(m.content, 1, 80) FROM messages m "
        "WHERE m.conversation_id = conversations.id AND m.role = 'user' "
        "ORDER BY m.id LIMIT 1)"
    )
    op.create_table(
        "unanswered",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("unanswered", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unanswered_created_at"), ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("unanswered", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unanswered_created_at"))
    op.drop_table("unanswered")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("title")
