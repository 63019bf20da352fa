"""Room in each page of `models` and `model_price_history` for the next version of its rows.

A sync updates the rows whose price or content moved, and closes their price period. With full
pages (PostgreSQL's default fillfactor of 100) every such row moves to another page and each of
its indexes gets a new entry; with a tenth of each page kept free, PostgreSQL writes the new
version beside the old one and no index changes (a "heap-only tuple" update): a sync of 10,000
repriced models of 100,000 spent about half as long in those statements, measured. Only pages
written from now on keep the room: an existing catalog gains it as its rows are rewritten.
SQLite has no such setting.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# As this revision sets them: schema.py's UPDATED_IN_PLACE may move on, a revision does not.
UPDATED_IN_PLACE = {"models": 90, "model_price_history": 90}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, fillfactor in UPDATED_IN_PLACE.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {fillfactor})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in UPDATED_IN_PLACE:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
