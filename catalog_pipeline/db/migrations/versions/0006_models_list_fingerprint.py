"""Each model's list fingerprint: a re-sync spells and diffs only the rows whose fingerprint moved.

Existing rows start without one (NULL, unknown): the next load of their provider diffs them in
full, as before, and stores it. The providers' list digests are cleared: they are now taken over
the fingerprints (db/list_digest.py), so an old one could never match anyway.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("models", sa.Column("list_fingerprint", sa.BigInteger()))
    op.execute("UPDATE providers SET list_digest = NULL")


def downgrade() -> None:
    # Not a batch (SQLite's table copy): dropping `models` under its references would fail.
    op.execute("ALTER TABLE models DROP COLUMN list_fingerprint")  # SQLite 3.35 and later
    op.execute("UPDATE providers SET list_digest = NULL")
