"""Google Vertex AI Model Garden: `GET /publishers/{publisher}/models` per publisher, paged by
`pageToken`/`nextPageToken`, OAuth2 access token as Bearer. The list carries no prices, context,
display name or modality, so those columns stay NULL. Rows are keyed `<publisher>/<model>`
(e.g. `google/gemini-2.5-pro`, `meta/llama-3.1-405b-instruct-maas`): unique across publishers and
the form Vertex's OpenAI-compatible endpoint takes as `model`; the full resource name is kept in
metadata. Unverified: no real body is public (shape from the REST reference), the publisher set
is a fixed list, and the `x-goog-user-project` quota header some projects need is not sent.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.http import FetchedPage, ProviderHttp
from catalog_pipeline.pipeline.listing import fetch_declared_list
from catalog_pipeline.pipeline.normalize import extract_entries
from catalog_pipeline.pipeline.paging import by_cursor
from catalog_pipeline.pipeline.records import ModelRecord, SkipModel
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="google-vertex",
    name="Google Vertex AI",
    base_url="https://us-central1-aiplatform.googleapis.com/v1beta1",
    kind="text",
    key_required=True,
    price_unit="none (no prices in the API)",
    endpoint_path="/publishers/{publisher}/models",
    endpoint_query={"pageSize": 100},
    paging=by_cursor(lambda payload: payload.get("nextPageToken"), "pageToken"),
    endpoint_note="per publisher, pageToken paging",
    list_path=("publisherModels",),
    # Some projects bill list calls to a quota project; GOOGLE_VERTEX_PROJECT names it.
    header_env_vars=(("x-goog-user-project", "GOOGLE_VERTEX_PROJECT"),),
)

PUBLISHERS = ("google", "anthropic", "meta", "mistralai", "qwen", "deepseek-ai", "openai")
# PublisherModel.LaunchStage has no retired value today; google.api.LaunchStage's DEPRECATED is
# honoured in case Vertex adopts it, every other stage (previews included) is active.
_RETIRED_STAGES = {"DEPRECATED"}


def fetch(http: ProviderHttp) -> list[FetchedPage]:
    # A failing publisher fails the sync: a partial list would deactivate that publisher's rows.
    pages: list[FetchedPage] = []
    for publisher in PUBLISHERS:
        pages.extend(fetch_declared_list(SPEC, http, SPEC.endpoint_path.format(publisher=publisher)))
    return pages


def entries(pages: list[tuple[str, Any]]) -> list[Any]:
    found: list[Any] = []
    for url, payload in pages:
        # proto3 JSON omits empty repeated fields: a publisher without models answers `{}`.
        if isinstance(payload, dict) and set(payload) <= {"nextPageToken"}:
            continue
        found.extend(extract_entries(payload, SPEC.list_path, url=url))
    return found


def transform(entry: dict[str, Any]) -> ModelRecord:
    name = entry["name"]
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 4 or parts[0] != "publishers" or parts[2] != "models" or not all(parts):
        raise SkipModel(f"name {name!r} is not publishers/<publisher>/models/<model>")
    stage = entry.get("launchStage")
    actions = entry.get("supportedActions")
    return ModelRecord(
        provider_model_id=f"{parts[1]}/{parts[3]}",
        # No prices, context, modality or capability flags in the Model Garden list.
        is_active=stage not in _RETIRED_STAGES,
        metadata={
            "name": name,
            "publisher": parts[1],
            "version_id": entry.get("versionId"),
            "launch_stage": stage,
            "version_state": entry.get("versionState"),
            "open_source_category": entry.get("openSourceCategory"),
            "supported_actions": sorted(actions) if isinstance(actions, dict) else None,
        },
    )
