import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.defs.resources import ProviderApis
from catalog_pipeline.pipeline.normalize import PayloadShapeError
from catalog_pipeline.providers import google_vertex

from .adapter_helpers import fixture_payload, normalize_payloads, row
from .http_server import json_reply
from .sync_helpers import materialize_provider


def _pages() -> list:
    by_publisher = fixture_payload("google-vertex_models.json")
    return [page for pages in by_publisher.values() for page in pages]


def test_ids_are_publisher_qualified_and_nothing_is_priced():
    result = normalize_payloads("google-vertex", *_pages())
    assert result.skipped == []
    assert sorted(result.frame["provider_model_id"]) == [
        "anthropic/claude-sonnet-4", "google/gemini-2.5-pro", "google/gemini-3-pro-preview", "google/gemma3",
        "google/old-bison", "google/text-embedding-005", "meta/llama-3.1-405b-instruct-maas",
    ]
    pro = row(result, "google/gemini-2.5-pro")
    assert pro["model_name"] == "google/gemini-2.5-pro"
    for column in ("pricing_prompt", "pricing_completion", "context_length", "modality", "supports_vision"):
        assert pro[column] is None
    assert pro["metadata"]["name"] == "publishers/google/models/gemini-2.5-pro"
    assert pro["metadata"]["launch_stage"] == "GA" and pro["metadata"]["version_state"] == "VERSION_STATE_STABLE"
    assert pro["metadata"]["supported_actions"] == ["openGenerationAiStudio", "openNotebook"]


def test_previews_stay_active_and_a_deprecated_stage_does_not():
    result = normalize_payloads("google-vertex", *_pages())
    preview = row(result, "google/gemini-3-pro-preview")
    assert preview["is_active"] is True and preview["metadata"]["launch_stage"] == "PUBLIC_PREVIEW"
    assert row(result, "google/old-bison")["is_active"] is False
    assert row(result, "google/gemma3")["metadata"]["open_source_category"] == "GOOGLE_OWNED_OSS_WITH_GOOGLE_CHECKPOINT"


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    pages = _pages()
    pages[-1]["publisherModels"] += [{"versionId": "001"}, {"name": "projects/p/models/custom"}]
    result = normalize_payloads("google-vertex", *pages)
    assert len(result.frame) == 7
    assert any("missing field 'name'" in reason for reason in result.skipped)
    assert any("'projects/p/models/custom' is not publishers/<publisher>/models/<model>" in r for r in result.skipped)


def test_empty_publisher_page_is_empty_but_a_wrong_envelope_is_an_error():
    assert normalize_payloads("google-vertex", {}, {"nextPageToken": ""}).fetched == 0
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'publisherModels'"):
        normalize_payloads("google-vertex", {"models": []})
    with pytest.raises(PayloadShapeError, match="expected a list at publisherModels"):
        normalize_payloads("google-vertex", {"publisherModels": {"name": "x"}})


def test_sync_over_http_walks_publishers_and_pages(provider_env, sqlite_url):
    by_publisher = fixture_payload("google-vertex_models.json")
    google_first, google_second = by_publisher["google"]
    provider_env.route("/google-vertex/publishers/google/models", json_reply(google_first), json_reply(google_second))
    provider_env.route("/google-vertex/publishers/meta/models", json_reply(by_publisher["meta"][0]))
    for publisher in set(google_vertex.PUBLISHERS) - {"google", "meta"}:
        provider_env.route(f"/google-vertex/publishers/{publisher}/models", json_reply({}))
    result = materialize_provider("google-vertex", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("google-vertex", database_url=sqlite_url)}
    assert len(rows) == 6
    assert rows["meta/llama-3.1-405b-instruct-maas"]["pricing_prompt"] is None
    assert rows["google/old-bison"]["is_active"] is False
    google = [r for r in provider_env.requests if r.path == "/google-vertex/publishers/google/models"]
    assert [r.query for r in google] == [{"pageSize": ["100"]}, {"pageSize": ["100"], "pageToken": ["page-2-token"]}]
    assert len(provider_env.requests) == len(google_vertex.PUBLISHERS) + 1
    assert {r.headers["Authorization"] for r in provider_env.requests} == {"Bearer test-key-google-vertex-0123456789"}
    assert all("x-goog-user-project" not in {k.lower() for k in r.headers} for r in provider_env.requests)


def test_quota_project_header_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("GOOGLE_VERTEX_API_KEY", "token-abc")
    monkeypatch.setenv("GOOGLE_VERTEX_PROJECT", "billing-project-7")
    assert ProviderApis().credentials_for(google_vertex.SPEC).headers == {
        "Authorization": "Bearer token-abc", "x-goog-user-project": "billing-project-7",
    }
