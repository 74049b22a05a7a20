"""Alembic environment: Docent's tables (`index.manifest`, `index.units`, `rag.stores`,
`rag.jobs.queue`) on the connection that `rag.stores.schema.open_database` hands over (it holds
the migration lock), or on the URL in the config when run as
`alembic -c migrations/alembic.ini …`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import index.manifest
import index.units  # noqa: F401  (registers the unit vector table)
import rag.stores.schema  # noqa: F401  (registers the shared-state tables)
from index.database import Base

config = context.config
connection = config.attributes.get("connection")


def run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url") or "").connect() as own:
        run(own)
