"""Each row's link key: the refresh of links re-plans only the name groups that changed.

`link_key` is the link rules' fingerprint and the normalized-name group a row was last planned
in; `link_hash` the row's `content_hash` then. Existing rows start without either (NULL): the
next refresh plans them all, as every refresh did before, and records them.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("models", sa.Column("link_key", sa.Text()))
    op.add_column("models", sa.Column("link_hash", sa.String(40)))
    op.create_index("ix_models_link_key", "models", ["link_key"])


def downgrade() -> None:
    op.drop_index("ix_models_link_key", table_name="models")
    # Not a batch (SQLite's table copy): dropping `models` under its references would fail.
    op.execute("ALTER TABLE models DROP COLUMN link_hash")  # SQLite 3.35 and later
    op.execute("ALTER TABLE models DROP COLUMN link_key")
