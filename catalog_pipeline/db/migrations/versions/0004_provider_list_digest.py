"""The provider's list digest: a re-sync of an unchanged list skips the row-by-row diff.

Existing providers start without one (NULL): their next load diffs in full, as before, and
records it.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("providers", sa.Column("list_digest", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("list_digest")
