"""Canonical models, each row's link to one, and where its price came from.

Existing priced rows are marked `price_source = 'provider'` (the only source before this
revision), observed when the row last changed; links are made by the next `canonical_models` run.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from catalog_pipeline.db.schema import Timestamp

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PRICES = ("pricing_prompt", "pricing_completion", "pricing_image", "pricing_request", "pricing_cache_read", "pricing_cache_write")


def upgrade() -> None:
    op.create_table(
        "canonical_models",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("slug", sa.Text(), nullable=False, unique=True),
        sa.Column("hf_id", sa.Text()),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.add_column("models", sa.Column("price_source", sa.String(32)))
    op.add_column("models", sa.Column("price_observed_at", Timestamp))
    if op.get_bind().dialect.name == "sqlite":
        # One statement adds the column with its reference; a batch copy of `models` would have to
        # drop the table that price history and other rows point at.
        op.execute("ALTER TABLE models ADD COLUMN canonical_model_id INTEGER REFERENCES canonical_models (id)")
    else:
        op.add_column("models", sa.Column("canonical_model_id", sa.Integer()))
        op.create_foreign_key(None, "models", "canonical_models", ["canonical_model_id"], ["id"])
    op.add_column("models", sa.Column("match_method", sa.String(32)))
    op.add_column("models", sa.Column("match_confidence", sa.String(16)))
    op.create_index("ix_models_canonical_model", "models", ["canonical_model_id"])
    priced = " OR ".join(f"{column} IS NOT NULL" for column in PRICES)
    op.execute(f"UPDATE models SET price_source = 'provider', price_observed_at = updated_at WHERE {priced}")


def downgrade() -> None:
    op.drop_index("ix_models_canonical_model", "models")
    with op.batch_alter_table("models") as batch:
        for column in ("match_confidence", "match_method", "canonical_model_id", "price_observed_at", "price_source"):
            batch.drop_column(column)
    op.drop_table("canonical_models")
