"""PostgreSQL: a model row's first_seen_at, last_seen_at, created_at and updated_at default to
its transaction's time, `now()`.

A load inserts its new rows with one COPY and gives all four the same time, the load's; the
server parsed that text four times per row, about a tenth of a first load of 100,000 models on
the server. The load now takes its time from its transaction (db/load.py), and its COPY leaves
the four columns to this default: the same value, with nothing to parse. Every other writer
still gives them explicitly. SQLite keeps no default; its load writes them as before.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# As this revision sets them: bulk_write's list may move on, a revision does not.
TRANSACTION_TIMES = ("first_seen_at", "last_seen_at", "created_at", "updated_at")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE models " + ", ".join(f"ALTER COLUMN {c} SET DEFAULT now()" for c in TRANSACTION_TIMES))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE models " + ", ".join(f"ALTER COLUMN {c} DROP DEFAULT" for c in TRANSACTION_TIMES))
