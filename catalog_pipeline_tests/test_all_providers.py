"""All 21 providers in one `sync-models` call into PostgreSQL, one of them failing."""

from __future__ import annotations

from sqlalchemy import func, select

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import models, providers
from catalog_pipeline.providers import ADAPTERS, PROVIDER_SLUGS

from .fixture_routes import serve_all_providers
from .http_server import Reply
from .test_cli import sync_models


def test_registry_has_all_21_providers_with_distinct_env_vars():
    assert len(PROVIDER_SLUGS) == 21
    assert len({m.SPEC.api_key_env_var for m in ADAPTERS.values()}) == 21
    assert {m.SPEC.kind for m in ADAPTERS.values()} == {"text", "image"}


def test_one_call_syncs_21_providers_and_isolates_the_failing_one(provider_env, postgres_url):
    serve_all_providers(provider_env)
    provider_env.route("/together/models", Reply(status=500, body="together is down"))
    done = sync_models(database_url=postgres_url)
    assert done.returncode == 1, done.stdout + done.stderr
    status = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines() if line.split() and line.split()[0] in ADAPTERS}
    assert status.pop("together") == "FAILED"
    assert set(status.values()) == {"OK"} and len(status) == 20, done.stdout
    assert "20 synced, 1 failed, 0 skipped" in done.stdout

    with catalog_engine(postgres_url).connect() as conn:
        counts = dict(
            conn.execute(
                select(providers.c.slug, func.count(models.c.id))
                .join(models, models.c.provider_id == providers.c.id)
                .group_by(providers.c.slug)
            ).all()
        )
    assert "together" not in counts
    assert set(counts) == set(PROVIDER_SLUGS) - {"together"}
    assert all(n >= 5 for n in counts.values()), counts


def test_readme_table_describes_every_provider():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for slug, module in ADAPTERS.items():
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{slug}` |")), None)
        assert row is not None, f"README has no row for {slug}"
        assert f"`{module.SPEC.api_key_env_var}`" in row and module.SPEC.price_unit in row
