"""The registry as the one list of providers: every provider in one `sync-models` call into
PostgreSQL (one of them failing), the README table, and a provider added by its module and its
fixture alone."""

from __future__ import annotations

import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import func, select

import catalog_pipeline.providers as registry
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import models, providers
from catalog_pipeline.providers import ADAPTERS, PROVIDER_SLUGS, adapter_for

from .catalog_snapshot import models_by_id
from .cli_helpers import provider_lines, sync_models_in_process
from .extra_providers import sync_models_with_providers
from .conftest import FIXTURES
from .fixture_routes import serve_all_providers, serve_provider
from .http_server import Reply

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_adapter_module_is_registered_with_its_own_variables_and_fixture():
    modules = sorted(p.stem for p in Path(registry.__file__).parent.glob("*.py") if not p.stem.startswith("_"))
    assert sorted(slug.replace("-", "_") for slug in PROVIDER_SLUGS) == modules
    assert PROVIDER_SLUGS == sorted(PROVIDER_SLUGS)
    specs = [module.SPEC for module in ADAPTERS.values()]
    assert len({spec.api_key_env_var for spec in specs}) == len({spec.base_url_env_var for spec in specs}) == len(specs)
    assert {spec.kind for spec in specs} == {"text", "image"}
    assert [slug for slug in PROVIDER_SLUGS if not (FIXTURES / f"{slug}_models.json").exists()] == []


def test_one_call_syncs_every_provider_and_isolates_the_failing_one(provider_env, postgres_url):
    serve_all_providers(provider_env)
    failing = "together"
    provider_env.route(f"/{failing}{adapter_for(failing).SPEC.endpoint_path}", Reply(status=500, body="together is down"))
    done = sync_models_in_process(database_url=postgres_url)
    assert done.returncode == 1, done.stdout + done.stderr
    status = {slug: line.split()[1] for slug, line in provider_lines(done.stdout, ADAPTERS).items()}
    assert status.pop(failing) == "FAILED"
    assert set(status.values()) == {"OK"} and len(status) == len(PROVIDER_SLUGS) - 1, done.stdout
    assert f"{len(PROVIDER_SLUGS) - 1} synced, 1 failed, 0 skipped" in done.stdout

    with catalog_engine(postgres_url).connect() as conn:
        counts = dict(
            conn.execute(
                select(providers.c.slug, func.count(models.c.id))
                .join(models, models.c.provider_id == providers.c.id)
                .group_by(providers.c.slug)
            ).all()
        )
    assert set(counts) == set(PROVIDER_SLUGS) - {failing}
    assert all(n >= 5 for n in counts.values()), counts


def _readme_rows() -> dict[str, list[str]]:
    rows = {}
    for line in README.read_text().splitlines():
        if line.startswith("| `") and line.count("|") == 9:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells
    return rows


def test_readme_table_has_one_row_per_provider_matching_its_spec():
    rows = _readme_rows()
    assert sorted(rows) == PROVIDER_SLUGS
    for slug, module in ADAPTERS.items():
        spec = module.SPEC
        expected = [
            f"`{slug}`", spec.kind, f"`{spec.endpoint}`", spec.base_url, f"`{spec.api_key_env_var}`",
            "required" if spec.key_required else "optional", spec.price_unit,
        ]
        assert rows[slug][:7] == expected, f"README row of {slug} differs from its SPEC"


# --- a 22nd provider: its module and its fixture, nothing else ------------------------------------

FAKE_SLUG = "acme-test-cloud"
FAKE_ADAPTER = '''
"""Acme Test Cloud: a provider that exists only in a test. Prices in USD per 1M tokens."""

from catalog_pipeline.pipeline.modalities import feature_flags, modality_fields, string_list
from catalog_pipeline.pipeline.money import per_million_tokens
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="acme-test-cloud",
    name="Acme Test Cloud",
    base_url="https://api.acme.invalid/v2",
    kind="text",
    key_required=True,
    price_unit="USD per 1M tokens",
    endpoint_path="/catalog/models",
    endpoint_query={"detail": "full"},
    list_path=("result", "models"),
)


def transform(entry):
    prices = entry.get("usd_per_million") or {}
    return ModelRecord(
        provider_model_id=entry["model"],
        pricing_prompt=per_million_tokens(prices.get("in"), field="usd_per_million.in"),
        pricing_completion=per_million_tokens(prices.get("out"), field="usd_per_million.out"),
        **modality_fields(string_list(entry.get("inputs")), ["text"]),
        **feature_flags(string_list(entry.get("features"))),
    )
'''
FAKE_LIST = {"result": {"models": [
    {"model": "acme/rocket-1", "usd_per_million": {"in": 1.25, "out": 10}, "inputs": ["text", "image"], "features": ["tools"]},
    {"model": "acme/pebble-mini", "usd_per_million": {"in": "0.05", "out": "0.4"}, "inputs": "text"},
    {"model": "acme/broken", "usd_per_million": {"in": "cheap"}},
]}}


def _module_from(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"test_only_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_provider_added_as_a_module_and_a_fixture_syncs_end_to_end(provider_env, sqlite_url, tmp_path):
    package, fixtures = tmp_path / "providers", tmp_path / "fixtures"
    package.mkdir(), fixtures.mkdir()
    (package / f"{FAKE_SLUG.replace('-', '_')}.py").write_text(FAKE_ADAPTER)
    (fixtures / f"{FAKE_SLUG}_models.json").write_text(json.dumps(FAKE_LIST))

    adapter = _module_from(package / f"{FAKE_SLUG.replace('-', '_')}.py")
    serve_provider(provider_env, adapter, fixtures)
    env = {
        adapter.SPEC.base_url_env_var: f"{provider_env.url}/{FAKE_SLUG}",
        adapter.SPEC.api_key_env_var: "test-key-acme-0123456789",
    }
    listed, done = sync_models_with_providers(
        package, ["--list-providers"], ["--providers", FAKE_SLUG], database_url=sqlite_url, extra_env=env
    )
    assert listed.returncode == 0, listed.stderr
    assert FAKE_SLUG in listed.stdout and f"{len(PROVIDER_SLUGS) + 1} providers" in listed.stdout

    assert done.returncode == 0, done.stdout + done.stderr
    line = provider_lines(done.stdout, {FAKE_SLUG})[FAKE_SLUG]
    assert "OK" in line and "Fetched: 3, Transformed: 2, Skipped: 1" in line, line

    (request,) = [r for r in provider_env.requests if r.path.startswith(f"/{FAKE_SLUG}")]
    assert request.path == f"/{FAKE_SLUG}/catalog/models" and request.query == {"detail": ["full"]}
    assert request.headers["Authorization"] == "Bearer test-key-acme-0123456789"
    rows = models_by_id(sqlite_url, FAKE_SLUG)
    assert set(rows) == {"acme/rocket-1", "acme/pebble-mini"}
    rocket, pebble = rows["acme/rocket-1"], rows["acme/pebble-mini"]
    assert rocket["pricing_prompt"] == Decimal("0.00000125") and rocket["pricing_completion"] == Decimal("0.00001")
    assert rocket["modality"] == "text+image->text" and rocket["supports_vision"] is True
    assert rocket["supports_function_calling"] is True and rocket["supports_reasoning"] is False
    assert pebble["pricing_prompt"] == Decimal("0.00000005") and pebble["supports_function_calling"] is None


# --- a module in the package that is no adapter ---------------------------------------------------


@pytest.fixture
def extra_package_dir(tmp_path, monkeypatch):
    """A directory on the registry's package path for this test only."""
    directory = tmp_path / "more_providers"
    directory.mkdir()
    monkeypatch.setattr(registry, "__path__", [*registry.__path__, str(directory)])
    yield directory
    for name in [n for n in sys.modules if n.startswith(f"{registry.__name__}.") and n.rsplit(".", 1)[1] in
                 {p.stem for p in directory.glob("*.py")}]:
        del sys.modules[name]


def test_a_module_without_spec_and_transform_is_named_in_the_error(extra_package_dir):
    (extra_package_dir / "helpers_for_x.py").write_text("VALUE = 1\n")
    with pytest.raises(ImportError, match=r"catalog_pipeline\.providers\.helpers_for_x .* no ProviderSpec SPEC and transform"):
        registry.discover_adapters()


def test_a_module_named_unlike_its_slug_is_refused(extra_package_dir):
    (extra_package_dir / "acme_misnamed.py").write_text(FAKE_ADAPTER)
    with pytest.raises(ImportError, match=r"acme_misnamed declares slug 'acme-test-cloud'; its module must be named after it"):
        registry.discover_adapters()


def test_private_modules_in_the_package_are_not_providers(extra_package_dir):
    (extra_package_dir / "_shared_bits.py").write_text("raise RuntimeError('never imported')\n")
    assert list(registry.discover_adapters()) == PROVIDER_SLUGS
