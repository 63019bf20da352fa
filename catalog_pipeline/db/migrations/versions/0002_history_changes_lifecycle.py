"""Price history, the change feed, and lifecycle dates on models.

Every existing model opens one price period, valid from its first_seen_at, with its current prices.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from catalog_pipeline.db.schema import ExactDecimal, JSONType, Timestamp

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PRICES = ("pricing_prompt", "pricing_completion", "pricing_image", "pricing_request", "pricing_cache_read", "pricing_cache_write")


def upgrade() -> None:
    op.add_column("models", sa.Column("deprecation_date", sa.Date()))
    op.add_column("models", sa.Column("expiration_date", sa.Date()))

    op.create_table(
        "model_price_history",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("model_id", BigId, sa.ForeignKey("models.id"), nullable=False),
        sa.Column("valid_from", Timestamp, nullable=False),
        sa.Column("valid_to", Timestamp),
        *(sa.Column(name, ExactDecimal()) for name in PRICES),
        sa.Column("run_id", sa.String(64)),
    )
    op.create_index("ix_model_price_history_model_time", "model_price_history", ["model_id", "valid_from"])
    prices = ", ".join(PRICES)
    op.execute(
        f"INSERT INTO model_price_history (model_id, valid_from, {prices})"
        f" SELECT id, first_seen_at, {prices} FROM models ORDER BY id"
    )

    op.create_table(
        "catalog_changes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("provider_model_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("field", sa.String(64)),
        sa.Column("old_value", JSONType),
        sa.Column("new_value", JSONType),
        sa.Column("run_id", sa.String(64)),
        sa.Column("changed_at", Timestamp, nullable=False),
    )
    op.create_index("ix_catalog_changes_changed_at", "catalog_changes", ["changed_at"])
    op.create_index("ix_catalog_changes_provider", "catalog_changes", ["provider_id", "id"])


def downgrade() -> None:
    op.drop_table("catalog_changes")
    op.drop_table("model_price_history")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("expiration_date")
        batch.drop_column("deprecation_date")
