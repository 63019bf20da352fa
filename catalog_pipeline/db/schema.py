"""Catalog schema (SQLAlchemy Core), identical on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    Index,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from catalog_pipeline.pipeline.money import to_fixed_point
from catalog_pipeline.pipeline.records import PRICE_COLUMNS


class ExactDecimal(TypeDecorator):
    """NUMERIC on PostgreSQL; fixed-point TEXT on SQLite, whose NUMERIC would store a float."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect):
        if value is None:
            return None
        value = value if isinstance(value, Decimal) else Decimal(str(value))
        return to_fixed_point(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect):
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
Timestamp = DateTime(timezone=True)

metadata_obj = MetaData()


def _id_column() -> Column:
    # BIGINT on PostgreSQL for tables that grow with every sync; SQLite's rowid alias must be INTEGER.
    return Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)


# On PostgreSQL these references are not ordinary foreign keys but the same rule checked once per
# statement by triggers (revision 0005; a bulk insert checked row by row was most of a first
# load's server time). SQLite keeps the ordinary constraint. See migrate.schema_differences.
CHECKED_PER_STATEMENT = "checked per statement"


def _reference(target: str, checked_per_statement: bool = False) -> ForeignKey:
    return ForeignKey(target, info={"postgresql": CHECKED_PER_STATEMENT} if checked_per_statement else {})


def _provider_model_key(checked_per_statement: bool = False) -> list[Column]:
    """A model as its provider names it: what a row is keyed by, and what the feed and holds point at."""
    return [
        Column("provider_id", Integer, _reference("providers.id", checked_per_statement), nullable=False),
        Column("provider_model_id", Text, nullable=False),
    ]

def _price_columns() -> list[Column]:
    """The six prices in USD per unit, exact: a model and each period of its price history hold the same."""
    return [Column(name, ExactDecimal) for name in PRICE_COLUMNS]


providers = Table(
    "providers",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("base_url", Text, nullable=False),
    Column("api_key_env_var", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("last_synced_at", Timestamp),
    # The last clean load's list and rows, so the same list again is known unchanged (db/list_digest.py).
    Column("list_digest", Text),
)

# One model as sold by several providers: the Hugging Face id where one exists.
canonical_models = Table(
    "canonical_models",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", Text, nullable=False, unique=True),
    Column("hf_id", Text),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

# Tables whose rows a sync updates in place, with the fillfactor that leaves room in each page for
# a row's next version (PostgreSQL; revision 0008).
UPDATED_IN_PLACE = {"models": 90, "model_price_history": 90}

models = Table(
    "models",
    metadata_obj,
    _id_column(),
    *_provider_model_key(checked_per_statement=True),
    Column("model_name", Text),
    Column("description", Text),
    *_price_columns(),
    Column("context_length", BigInteger),
    Column("max_output_tokens", BigInteger),
    Column("modality", String(128)),
    Column("input_modalities", JSONType),
    Column("output_modalities", JSONType),
    Column("supports_streaming", Boolean),
    Column("supports_function_calling", Boolean),
    Column("supports_vision", Boolean),
    Column("supports_reasoning", Boolean),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("health_status", String(32)),
    # PostgreSQL: first_seen_at, last_seen_at, created_at and updated_at default to now(), the
    # transaction's time, which a load takes as its own; its COPY leaves them out (revision 0010).
    Column("first_seen_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    Column("deactivated_at", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("metadata", JSONType, nullable=False),
    # SHA-1 of the content columns as written: a re-sync compares hashes, not rows.
    Column("content_hash", String(40)),
    # The fingerprint of the listed row the load wrote as it is (db/fingerprint.py); NULL when
    # unknown or when the row is not what its list said (a held price, another writer).
    Column("list_fingerprint", BigInteger),
    # Where the prompt/completion prices came from ('provider' | 'huggingface-router'; see
    # db/second_source.py) and when that source first showed them.
    Column("price_source", String(32)),
    Column("price_observed_at", Timestamp),
    # The model this row sells (see db/canonical.py): method 'hf_id' | 'curated' | 'normalized_name'.
    Column("canonical_model_id", Integer, ForeignKey("canonical_models.id")),
    Column("match_method", String(32)),
    Column("match_confidence", String(16)),
    # As the provider publishes them (see pipeline/lifecycle.py); NULL when it publishes none.
    Column("deprecation_date", Date),
    Column("expiration_date", Date),
    # The link rules and name group the row was last planned in, and its content_hash then: the
    # refresh re-plans only the groups of rows whose key is stale (db/canonical.py).
    Column("link_key", Text),
    Column("link_hash", String(40)),
    UniqueConstraint("provider_id", "provider_model_id", name="uq_models_provider_model"),
    postgresql_with={"fillfactor": UPDATED_IN_PLACE["models"]},
)
# Lookups by provider go through uq_models_provider_model. The link columns are NULL until the
# link refresh fills them: only rows that have one are indexed (revision 0009).
_linked = models.c.canonical_model_id.is_not(None)
Index("ix_models_canonical_model", models.c.canonical_model_id, postgresql_where=_linked, sqlite_where=_linked)
_planned = models.c.link_key.is_not(None)
Index("ix_models_link_key", models.c.link_key, postgresql_where=_planned, sqlite_where=_planned)

# Every fetched model list, as received, so any sync can be re-derived without the provider.
raw_model_lists = Table(
    "raw_model_lists",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider_slug", String(64), nullable=False),
    Column("fetched_at", Timestamp, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("page_count", Integer, nullable=False),
    Column("byte_size", BigInteger, nullable=False),
    Column("run_id", String(64)),
    # NULL when the body equals the provider's previous one: then body_of_id names the row holding it.
    Column("pages_gzip", LargeBinary),
    Column("body_of_id", Integer, ForeignKey("raw_model_lists.id")),
)
Index("ix_raw_model_lists_provider_time", raw_model_lists.c.provider_slug, raw_model_lists.c.id)

# Price moves held for an operator (see db/price_holds.py); the model row keeps old_value meanwhile.
pending_price_changes = Table(
    "pending_price_changes",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_provider_model_key(),
    Column("column_name", String(32), nullable=False),
    Column("old_value", ExactDecimal, nullable=False),
    Column("new_value", ExactDecimal, nullable=False),
    Column("first_detected_at", Timestamp, nullable=False),
    Column("last_detected_at", Timestamp, nullable=False),
    Column("run_id", String(64)),
    UniqueConstraint("provider_id", "provider_model_id", "column_name", name="uq_pending_price_change"),
)

# One row per period in which a model's prices held (see db/history.py); valid_to NULL while current.
model_price_history = Table(
    "model_price_history",
    metadata_obj,
    _id_column(),
    Column("model_id", BigInteger().with_variant(Integer, "sqlite"), _reference("models.id", checked_per_statement=True), nullable=False),
    Column("valid_from", Timestamp, nullable=False),
    Column("valid_to", Timestamp),
    *_price_columns(),
    Column("run_id", String(64)),
    postgresql_with={"fillfactor": UPDATED_IN_PLACE["model_price_history"]},
)
Index("ix_model_price_history_model_time", model_price_history.c.model_id, model_price_history.c.valid_from)

# The change feed (see db/changes.py). `id` grows in commit order, so it is the readers' cursor.
catalog_changes = Table(
    "catalog_changes",
    metadata_obj,
    _id_column(),
    *_provider_model_key(checked_per_statement=True),
    Column("kind", String(32), nullable=False),
    Column("field", String(64)),
    Column("old_value", JSONType),
    Column("new_value", JSONType),
    Column("run_id", String(64)),
    Column("changed_at", Timestamp, nullable=False),
)
# Appended in time order: on PostgreSQL a BRIN index of time ranges, not an entry per change (revision 0009).
Index("ix_catalog_changes_changed_at", catalog_changes.c.changed_at, postgresql_using="brin")
Index("ix_catalog_changes_provider", catalog_changes.c.provider_id, catalog_changes.c.id)
