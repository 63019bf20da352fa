"""Baseline: the catalog as it stood when migrations began.

On an empty database this creates every table. On a catalog made before migrations existed
it adds what earlier versions lacked (`models.content_hash`, `raw_model_lists.body_of_id` with a
nullable `pages_gzip`, `pending_price_changes`), so any such catalog ends at the same schema.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from catalog_pipeline.db.schema import ExactDecimal, JSONType, Timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())

    def has_column(table: str, column: str) -> bool:
        return any(c["name"] == column for c in inspector.get_columns(table))

    if "providers" not in tables:
        _create_providers()
    if "models" not in tables:
        _create_models()
    elif not has_column("models", "content_hash"):
        op.add_column("models", sa.Column("content_hash", sa.String(40)))
    if "raw_model_lists" not in tables:
        _create_raw_model_lists()
    elif not has_column("raw_model_lists", "body_of_id"):
        # SQLite cannot alter a column in place: batch mode copies the table.
        with op.batch_alter_table("raw_model_lists") as batch:
            batch.alter_column("pages_gzip", existing_type=sa.LargeBinary(), nullable=True)
            batch.add_column(sa.Column("body_of_id", sa.Integer()))
            # PostgreSQL's own name for it, as on a catalog created with the column.
            batch.create_foreign_key("raw_model_lists_body_of_id_fkey", "raw_model_lists", ["body_of_id"], ["id"])
    if "pending_price_changes" not in tables:
        _create_pending_price_changes()


def downgrade() -> None:
    for table in ("pending_price_changes", "raw_model_lists", "models", "providers"):
        op.drop_table(table)


def _create_providers() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("api_key_env_var", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("last_synced_at", Timestamp),
    )


def _create_models() -> None:
    op.create_table(
        "models",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("provider_model_id", sa.Text(), nullable=False),
        sa.Column("model_name", sa.Text()),
        sa.Column("description", sa.Text()),
        *(sa.Column(f"pricing_{name}", ExactDecimal()) for name in ("prompt", "completion", "image", "request", "cache_read", "cache_write")),
        sa.Column("context_length", sa.BigInteger()),
        sa.Column("max_output_tokens", sa.BigInteger()),
        sa.Column("modality", sa.String(128)),
        sa.Column("input_modalities", JSONType),
        sa.Column("output_modalities", JSONType),
        sa.Column("supports_streaming", sa.Boolean()),
        sa.Column("supports_function_calling", sa.Boolean()),
        sa.Column("supports_vision", sa.Boolean()),
        sa.Column("supports_reasoning", sa.Boolean()),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("health_status", sa.String(32)),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("deactivated_at", Timestamp),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("content_hash", sa.String(40)),
        sa.UniqueConstraint("provider_id", "provider_model_id", name="uq_models_provider_model"),
    )
    op.create_index("ix_models_provider_active", "models", ["provider_id", "is_active"])


def _create_raw_model_lists() -> None:
    op.create_table(
        "raw_model_lists",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("provider_slug", sa.String(64), nullable=False),
        sa.Column("fetched_at", Timestamp, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("pages_gzip", sa.LargeBinary()),
        sa.Column("body_of_id", sa.Integer(), sa.ForeignKey("raw_model_lists.id")),
    )
    op.create_index("ix_raw_model_lists_provider_time", "raw_model_lists", ["provider_slug", "id"])


def _create_pending_price_changes() -> None:
    op.create_table(
        "pending_price_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("provider_model_id", sa.Text(), nullable=False),
        sa.Column("column_name", sa.String(32), nullable=False),
        sa.Column("old_value", ExactDecimal(), nullable=False),
        sa.Column("new_value", ExactDecimal(), nullable=False),
        sa.Column("first_detected_at", Timestamp, nullable=False),
        sa.Column("last_detected_at", Timestamp, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.UniqueConstraint("provider_id", "provider_model_id", "column_name", name="uq_pending_price_change"),
    )
