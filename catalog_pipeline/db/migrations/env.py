"""Alembic environment: runs on the connection db/migrate.py hands over, inside its lock."""

from alembic import context

from catalog_pipeline.db.migrate import VERSION_TABLE, include_catalog_tables
from catalog_pipeline.db.schema import metadata_obj

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "the catalog's migrations run on a connection: use `catalog db upgrade` or"
        " catalog_pipeline.db.migrate.upgrade_catalog(engine), not the alembic command alone"
    )


context.configure(
    connection=connection,
    target_metadata=metadata_obj,
    version_table=VERSION_TABLE,
    include_name=include_catalog_tables,
    compare_type=True,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
