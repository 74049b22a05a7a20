"""a model switch without downtime: which Chroma collection is live, and unit vectors per
collection (those of the database's own collection keep the key "")

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_collections",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("embedding_model", sa.String(length=1024), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "change_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("switched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("index_collections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_collections_state"), ["state"])
    key = sa.Column("chroma_collection", sa.String(length=128), nullable=False, server_default="")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("unit_vectors_pkey", "unit_vectors", type_="primary")
        op.add_column("unit_vectors", key)
        op.create_primary_key(
            "unit_vectors_pkey", "unit_vectors", ["chroma_collection", "chunk_id"]
        )
        return
    # SQLite cannot change a primary key: a new table, the rows copied under the key "".
    op.create_table(
        "unit_vectors_0005",
        key,
        sa.Column("chunk_id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=16), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("chroma_collection", "chunk_id"),
    )
    op.execute(
        "INSERT INTO unit_vectors_0005 (chroma_collection, chunk_id, document_id, vectors) "
        "SELECT '', chunk_id, document_id, vectors FROM unit_vectors"
    )
    op.drop_index("ix_unit_vectors_document_id", table_name="unit_vectors")
    op.drop_table("unit_vectors")
    op.rename_table("unit_vectors_0005", "unit_vectors")
    op.create_index("ix_unit_vectors_document_id", "unit_vectors", ["document_id"])


def downgrade() -> None:
    op.execute("DELETE FROM unit_vectors WHERE chroma_collection != ''")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("unit_vectors_pkey", "unit_vectors", type_="primary")
        op.drop_column("unit_vectors", "chroma_collection")
        op.create_primary_key("unit_vectors_pkey", "unit_vectors", ["chunk_id"])
    else:
        op.create_table(
            "unit_vectors_0004",
            sa.Column("chunk_id", sa.String(length=64), nullable=False),
            sa.Column("document_id", sa.String(length=16), nullable=False),
            sa.Column("vectors", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("chunk_id"),
        )
        op.execute(
            "INSERT INTO unit_vectors_0004 (chunk_id, document_id, vectors) "
            "SELECT chunk_id, document_id, vectors FROM unit_vectors"
        )
        op.drop_index("ix_unit_vectors_document_id", table_name="unit_vectors")
        op.drop_table("unit_vectors")
        op.rename_table("unit_vectors_0004", "unit_vectors")
        op.create_index("ix_unit_vectors_document_id", "unit_vectors", ["document_id"])
    op.drop_index("ix_index_collections_state", table_name="index_collections")
    op.drop_table("index_collections")
