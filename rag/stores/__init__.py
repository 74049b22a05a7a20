"""Shared state in the database, each table beside the store that uses it: `conversations`,
`feedback`, `credentials` (API keys), `unanswered` (refused questions), `rate_limits`,
`shared_secrets`. `schema.open_database` brings the schema up to date (Alembic,
`migrations/`) and imports what older versions kept in files; it is the only module that
imports the other stores. The write path's tables are in `index/manifest.py` and
`index/units.py`, the job queue's in `rag/jobs/queue.py`.
"""
