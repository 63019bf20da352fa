"""A real `catalog-server` running many runs: one sync of every provider at once, and a provider
materialized from the UI in a real headless Chromium. A server of its own, not test_server_process.py's:
with `--dist loadfile` a module runs on one worker, and the two modules together would be the
longest by far."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_pipeline.providers import ADAPTERS

from .adapter_helpers import fixture_payload, normalize_payloads
from .browser import browser, partition_runs, skip_welcome_dialog, wait_for_run  # noqa: F401 - browser is a fixture
from .catalog_server_fixtures import AUTH, KEY, PROVIDER_KEYS, call, fixtures_http, start_server  # noqa: F401 - fixture
from .catalog_snapshot import models_by_id
from .fixture_routes import serve_provider
from .http_server import FixtureServer
from .server_process import ServerProcess

BROWSER_ASSETS = ("raw_models", "normalized_models", "model_catalog")


@pytest.fixture(scope="module")
def server(fixtures_http: FixtureServer, tmp_path_factory: pytest.TempPathFactory):
    process = start_server(fixtures_http, tmp_path_factory.mktemp("catalog_server"))
    yield process
    process.stop()


def test_all_launches_one_run_per_provider_with_a_key(server: ServerProcess):
    response = call(server, "POST", "/admin/model-sync/all?dry_run=true&wait=true", AUTH)
    assert response.status_code == 200, response.text
    entries = {entry["provider"]: entry for entry in response.json()["details"]["providers"]}
    assert set(entries) == set(ADAPTERS)
    for slug, module in ADAPTERS.items():
        if module.SPEC.key_required and module.SPEC.api_key_env_var not in PROVIDER_KEYS:
            assert entries[slug]["status"] == "skipped", slug
        else:
            assert entries[slug]["status"] in ("succeeded", "failed") and entries[slug]["run_id"], slug
    assert entries["openrouter"]["status"] == "succeeded" and entries["groq"]["status"] == "failed"
    run_ids = [entry["run_id"] for entry in entries.values() if "run_id" in entry]
    assert len(set(run_ids)) == len(run_ids)


UI_PARTITION = "aimo"  # materialized only from the browser: its rows appear only if the UI's run wrote them


def test_the_ui_in_a_browser(browser, server: ServerProcess, fixtures_http: FixtureServer, tmp_path: Path):
    """The UI behind the admin key in a real headless Chromium: refused without credentials, logged
    in with HTTP Basic, the asset graph, and one provider materialized from the UI."""
    from playwright.sync_api import Error as PlaywrightError, expect

    serve_provider(fixtures_http, ADAPTERS[UI_PARTITION])
    database_url = f"sqlite:///{server.database}"
    assert models_by_id(database_url, UI_PARTITION) == {}
    shots = tmp_path / "screenshots"
    shots.mkdir()

    # 1. Without credentials, or with a wrong key, the UI is refused: 401, and Chromium gives up.
    for name, credentials in (("no-key", None), ("wrong-key", {"username": "operator", "password": "not-" + KEY})):
        stranger = browser.new_context(http_credentials=credentials)
        page = stranger.new_page()
        statuses: list[int] = []
        page.on("response", lambda response: statuses.append(response.status))
        try:  # Chromium either shows the 401 page or aborts the navigation, depending on the case
            page.goto(server.url + "/asset-groups")
        except PlaywrightError as exc:
            assert "ERR_INVALID_AUTH_CREDENTIALS" in str(exc)
        assert statuses and set(statuses) == {401}, statuses
        assert page.get_by_text("Global asset lineage").count() == 0
        page.screenshot(path=shots / f"1-refused-{name}.png")
        stranger.close()

    # 2. Logged in with HTTP Basic: the browser sends the credentials on every request of the UI.
    context = browser.new_context(
        http_credentials={"username": "operator", "password": KEY}, viewport={"width": 1400, "height": 900}
    )
    page = context.new_page()
    # The sync assets' own group: the global lineage also holds the across_providers group.
    response = page.goto(server.url + "/locations/catalog_pipeline/asset-groups/model_catalog")
    assert response.status == 200
    skip_welcome_dialog(page)
    for asset in BROWSER_ASSETS:
        expect(page.get_by_text(asset, exact=True).first).to_be_visible(timeout=60_000)
    page.screenshot(path=shots / "2-asset-graph.png")

    # 3. Materialize all, one partition, launch.
    before = {run["runId"] for run in partition_runs(context, server.url, UI_PARTITION)}
    page.get_by_role("button", name="Materialize all…").click()
    expect(page.get_by_text("Launch runs to materialize 3 assets")).to_be_visible(timeout=30_000)
    page.get_by_text("Select a partition or create one").click()
    page.locator(f'[title="{UI_PARTITION}"]').first.click()
    page.keyboard.press("Escape")
    launch = page.get_by_role("button", name="Launch 1 run")
    expect(launch).to_be_enabled(timeout=30_000)
    page.screenshot(path=shots / "3-launch-dialog.png")
    launch.click()

    # 4. The run succeeds; its page says so; the rows are in the catalog.
    run_id = wait_for_run(context, server.url, UI_PARTITION, before)
    page.goto(f"{server.url}/runs/{run_id}")
    expect(page.get_by_text("Success").first).to_be_visible(timeout=60_000)
    page.screenshot(path=shots / "4-run-succeeded.png")
    context.close()

    expected = set(normalize_payloads(UI_PARTITION, fixture_payload(f"{UI_PARTITION}_models.json")).frame["provider_model_id"])
    assert expected and set(models_by_id(database_url, UI_PARTITION)) == expected
    assert sorted(p.name for p in shots.iterdir()) == ["1-refused-no-key.png", "1-refused-wrong-key.png", "2-asset-graph.png", "3-launch-dialog.png", "4-run-succeeded.png"]
