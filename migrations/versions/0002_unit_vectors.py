"""unit vectors: a vector per sentence of every chunk, made at ingestion

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_vectors",
        sa.Column("chunk_id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=16), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("chunk_id"),
    )
    with op.batch_alter_table("unit_vectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_vectors_document_id"), ["document_id"])


def downgrade() -> None:
    with op.batch_alter_table("unit_vectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_vectors_document_id"))
    op.drop_table("unit_vectors")
