"""Alembic migrations of the catalog; run them with `catalog db upgrade` (see db/migrate.py)."""
