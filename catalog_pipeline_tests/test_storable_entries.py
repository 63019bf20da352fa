"""Entries the database cannot hold as sent: each is cleaned or skipped with its reason in the
normalizer, the rest of the provider syncs, and SQLite and PostgreSQL end up with the same rows."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any, Callable

import pytest

from catalog_pipeline.db.schema import models
from catalog_pipeline.defs.checks import prices_are_plausible
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.pipeline.storable import LABEL_WIDTHS

from .catalog_snapshot import catalog_state, models_by_id
from .fixture_routes import fixture
from .http_server import Reply
from .module_catalogs import module_postgres_url, module_sqlite_url, serving  # noqa: F401 - fixtures
from .sync_helpers import catalog_metadata, failure_message, materialize_provider

GOOD_IDS = {m["id"] for m in fixture("openrouter_models.json")["data"]}


def hostile_entry(model_id: str, change: Callable[[dict[str, Any]], None] = lambda entry: None) -> dict[str, Any]:
    entry = copy.deepcopy(fixture("openrouter_models.json")["data"][1])
    entry["id"] = model_id
    change(entry)
    return entry


def listing(*entries: dict[str, Any], raw: dict[str, str] | None = None) -> Reply:
    """The fixture list plus `entries`, as JSON text. `raw` puts number literals that Python's JSON
    encoder cannot write (1e999999) in place of their placeholder strings."""
    payload = fixture("openrouter_models.json")
    payload["data"].extend(entries)
    body = json.dumps(payload)  # NUL and lone surrogates go out as \u0000 / \ud800 escapes
    for placeholder, literal in (raw or {}).items():
        body = body.replace(json.dumps(placeholder), literal)
    return Reply(body=body, headers={"Content-Type": "application/json"})


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(entry: dict[str, Any]) -> None:
        *parents, key = path.split(".")
        node = entry
        for parent in parents:
            node = node[parent]
        node[key] = value

    return change


# name -> (entry, raw literals, reason the entry is skipped for)
SKIPPED = {
    "nul_in_id": (hostile_entry("bad/\x00id"), None, "contains a NUL character or a lone surrogate"),
    "lone_surrogate_in_id": (hostile_entry("bad/\ud800id"), None, "contains a NUL character or a lone surrogate"),
    "id_of_513_characters": (hostile_entry("x" * 513), None, "the id has 513 characters, the catalog keeps at most 512"),
    "id_of_1_mb": (hostile_entry("m" * 1_000_000), None, "the id has 1000000 characters"),
    "context_length_2_pow_63": (hostile_entry("big/context", _set("context_length", 2**63)), None, "context_length 9223372036854775808 does not fit a 64-bit integer"),
    "context_length_1e400": (hostile_entry("huge/context", _set("context_length", "@1e400")), {"@1e400": "1e400"}, "context_length 1E+400 does not fit a 64-bit integer"),
    "max_output_tokens_2_pow_63": (hostile_entry("big/output", _set("top_provider.max_completion_tokens", 2**63)), None, "max_output_tokens 9223372036854775808 does not fit"),
    "request_price_1e999999": (hostile_entry("huge/request", _set("pricing.request", "@1e999999")), {"@1e999999": "1e999999"}, "pricing_request 1E+999999 has 1000000 digits before the decimal point"),
    "image_price_1e999999": (hostile_entry("huge/image", _set("pricing.image", "1e999999")), None, "pricing_image 1E+999999 has 1000000 digits before the decimal point"),
    "price_beyond_numeric_scale": (hostile_entry("tiny/beyond", _set("pricing.prompt", "1e-16384")), None, "pricing_prompt 1E-16384 has 16384 digits after the decimal point, the catalog keeps at most 30"),
    "price_with_31_places": (hostile_entry("tiny/31", _set("pricing.prompt", "0.0000012345678901234567890123456")), None, "has 31 digits after the decimal point"),
    "modality_over_128_characters": (hostile_entry("long/modality", _set("architecture.modality", "text->" + "x" * 200)), None, "modality has 206 characters, the catalog keeps at most 128"),
}

# name -> (entry, raw literals, the stored row's expected values)
STORED = {
    "nul_in_name": (hostile_entry("clean/name", _set("name", "Bad\x00 Name")), None, {"model_name": "Bad Name"}),
    "lone_surrogate_in_description": (hostile_entry("clean/description", _set("description", "half \ud83d of a pair")), None, {"description": "half \ufffd of a pair"}),
    "nul_and_surrogate_in_metadata": (
        hostile_entry("clean/metadata", lambda e: e.update({"hugging_face_id": "hf\x00id", "odd\udc00key": ["v\ud800", {"n\x00": 1}]})),
        None,
        {"metadata": lambda m: m["hugging_face_id"] == "hfid" and m["odd\ufffdkey"] == ["v\ufffd", {"n": 1}]},
    ),
    # No lone surrogate: a document orjson spells, with a NUL in a key and a value, still cleaned.
    "nul_in_metadata": (
        hostile_entry("clean/nul-metadata", lambda e: e.update({"hugging_face_id": "hf\x00id", "deep": [{"n\x00": "v"}]})),
        None,
        {"metadata": lambda m: m["hugging_face_id"] == "hfid" and m["deep"] == [{"n": "v"}]},
    ),
    "nul_in_modalities": (hostile_entry("clean/modalities", _set("architecture.input_modalities", ["text\x00", "image"])), None, {"input_modalities": ["text", "image"]}),
    "id_of_512_characters": (hostile_entry("y" * 512), None, {"provider_model_id": "y" * 512}),
    "context_length_bigint_max": (hostile_entry("max/context", _set("context_length", 2**63 - 1)), None, {"context_length": 2**63 - 1}),
    "price_with_30_places": (hostile_entry("tiny/30", _set("pricing.prompt", "0.000000000000000000000000000001")), None, {"pricing_prompt": Decimal("1E-30")}),
    "image_and_request_prices_at_their_bounds": (
        hostile_entry("bounds/ok", lambda e: e["pricing"].update({"image": "10", "request": "100"})),
        None,
        {"pricing_image": Decimal(10), "pricing_request": Decimal(100)},
    ),
}


def _sync_every_variant(url: str) -> dict[str, Any]:
    """One sync of the fixture list plus every case above, in SKIPPED then STORED order: why it
    failed (None) and its metadata, whose skip reasons come one per skipped entry, in order."""
    cases = [*SKIPPED.values(), *STORED.values()]
    raw = {k: v for _, literals, _ in cases for k, v in (literals or {}).items()}
    with serving("openrouter") as server:
        server.route("/openrouter/models", listing(*(entry for entry, _, _ in cases), raw=raw))
        result = materialize_provider("openrouter", url)
    return {"error": failure_message(result)} | (catalog_metadata(result) if result.success else {})


def _reasons_by_case(meta: dict[str, Any]) -> dict[str, str]:
    assert meta["error"] is None, meta["error"]
    # Exactly the SKIPPED cases are skipped, every other entry is added: so the reasons line up.
    assert (meta["skipped"], meta["added"]) == (len(SKIPPED), len(GOOD_IDS) + len(STORED)), meta["skipped_reasons"]
    return dict(zip(SKIPPED, meta["skipped_reasons"]))


# The cases share one sync per database (module-scoped): each test only reads what it left.
@pytest.fixture(scope="module")
def every_variant_on_sqlite(module_sqlite_url):
    return module_sqlite_url, _sync_every_variant(module_sqlite_url)


@pytest.fixture(scope="module")
def every_variant_on_postgresql(module_postgres_url):
    return module_postgres_url, _sync_every_variant(module_postgres_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def every_variant(request):
    return request.getfixturevalue(f"every_variant_on_{request.param}")


@pytest.mark.parametrize("case", sorted(SKIPPED))
def test_an_entry_the_database_cannot_hold_is_skipped_and_the_rest_sync(every_variant, case):
    url, meta = every_variant
    shown = _reasons_by_case(meta)[case]
    assert SKIPPED[case][2] in shown, shown
    assert len(shown) < 300  # a 1 MB id is quoted, not copied into the run metadata
    rows = models_by_id(url, "openrouter")
    assert SKIPPED[case][0]["id"] not in rows
    assert set(rows) == GOOD_IDS | {entry["id"] for entry, _, _ in STORED.values()}


@pytest.mark.parametrize("case", sorted(STORED))
def test_an_entry_within_the_limits_is_stored_cleaned(every_variant, case):
    url, meta = every_variant
    _reasons_by_case(meta)
    entry, _, expected = STORED[case]
    rows = models_by_id(url, "openrouter")
    assert GOOD_IDS <= set(rows)
    row = rows[entry["id"]]
    for column, value in expected.items():
        assert value(row[column]) if callable(value) else row[column] == value, (column, row[column])


def test_every_variant_at_once_loads_identically_on_sqlite_and_postgresql(every_variant_on_sqlite, every_variant_on_postgresql):
    read_back = []
    for url, meta in (every_variant_on_sqlite, every_variant_on_postgresql):
        _reasons_by_case(meta)
        rows = catalog_state(url)["models"]
        assert len(rows) == len(GOOD_IDS) + len(STORED)
        read_back.append(sorted((_content(row) for row in rows), key=lambda row: row["provider_model_id"]))
    assert read_back[0] == read_back[1]


def _content(row: dict[str, Any]) -> dict[str, Any]:
    written_at = {"id", "provider_id", "first_seen_at", "last_seen_at", "deactivated_at", "created_at", "updated_at", "price_observed_at"}
    return {column: value for column, value in row.items() if column not in written_at}


@pytest.mark.parametrize(
    ("column", "price", "unit"),
    [("pricing_image", "10.01", "USD per image"), ("pricing_request", "100.5", "USD per request")],
)
def test_image_and_request_prices_beyond_their_bound_stop_the_provider(provider_env, catalog_url, column, price, unit):
    provider_env.route("/openrouter/models", listing())
    assert materialize_provider("openrouter", catalog_url).success
    before = catalog_state(catalog_url)
    key = column.removeprefix("pricing_")
    provider_env.route("/openrouter/models", listing(hostile_entry("unit/slip", _set(f"pricing.{key}", price))))
    result = materialize_provider("openrouter", catalog_url)
    assert not result.success
    message = failure_message(result)
    assert f"unit/slip: {column} = {price} {unit}, above" in message, message
    assert catalog_state(catalog_url)["models"] == before["models"]


def test_the_plausibility_check_bounds_all_six_price_columns():
    at_bounds = ModelRecord(
        "at/bounds", pricing_prompt=Decimal("0.001"), pricing_completion=Decimal("0.001"), pricing_image=Decimal(10),
        pricing_request=Decimal(100), pricing_cache_read=Decimal("0.001"), pricing_cache_write=Decimal("0.001"),
    )
    assert prices_are_plausible(records_to_frame([at_bounds])).passed
    for column in ("pricing_prompt", "pricing_completion", "pricing_image", "pricing_request", "pricing_cache_read", "pricing_cache_write"):
        over = copy.copy(at_bounds)
        setattr(over, column, getattr(at_bounds, column) + Decimal("0.000001"))
        result = prices_are_plausible(records_to_frame([over]))
        assert not result.passed and result.metadata["problems"].value == 1, column


def test_label_widths_are_the_schema_widths():
    assert LABEL_WIDTHS == {column: models.c[column].type.length for column in LABEL_WIDTHS}
