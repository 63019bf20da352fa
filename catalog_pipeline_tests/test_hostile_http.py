"""Provider answers as an attacker would shape them, over real loopback HTTP: redirects and next
links to other origins, next links in every RFC 3986 form, oversize bodies, a gzip bomb, an endless
stream. Each fails only its provider, with a message naming the cause."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import random
import threading
from decimal import Decimal

import dagster as dg
import pytest

from catalog_pipeline.db.archive import latest_archive
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.defs.resources import ProviderApis
from catalog_pipeline.pipeline.listing import fetch_model_list
from catalog_pipeline.pipeline.origins import Origins
from catalog_pipeline.providers import adapter_for
from catalog_pipeline.sync import sync_providers

from .catalog_snapshot import catalog_state, models_by_id
from .conftest import FIXTURES, shared_sample
from .hostile_answers import MiB, catalog_definitions, endless_reply, gzip_bomb_reply
from .http_server import FixtureServer, Reply, json_reply
from .sync_helpers import FAST_APIS, catalog_metadata, failure_message, materialize_provider


def fixture(slug: str) -> dict:
    return json.loads((FIXTURES / f"{slug}_models.json").read_text())


@pytest.fixture
def elsewhere():
    """A second loopback server: another port, so another origin."""
    with FixtureServer() as server:
        server.route("/steal/models", json_reply({"data": []}))
        yield server


def featherless_pages(n: int = 2) -> list[dict]:
    models = fixture("featherless")["data"]
    size = -(-len(models) // n)
    return [
        {"data": models[i * size:(i + 1) * size], "pagination": {"current_page": i + 1, "total_pages": n}}
        for i in range(n)
    ]


# --- keys go only to the provider's own origin ---------------------------------------------


def test_a_next_link_to_another_origin_is_refused_and_never_requested(provider_env, elsewhere, catalog_url):
    page = fixture("openrouter")
    page["links"] = {"next": f"{elsewhere.url}/steal/models?offset=5&token=abc123"}
    provider_env.route("/openrouter/models", json_reply(page))
    result = materialize_provider("openrouter", catalog_url)
    assert not result.success
    message = failure_message(result)
    assert f"refused a request to {elsewhere.url}/steal/models?[redacted]" in message, message
    assert "abc123" not in message
    assert elsewhere.requests == []
    assert catalog_state(catalog_url)["models"] == []


def test_a_redirect_to_another_origin_on_page_two_is_refused_and_never_requested(provider_env, elsewhere, sqlite_url):
    first, _ = featherless_pages()
    provider_env.route(
        "/featherless/models",
        json_reply(first),
        Reply(status=302, headers={"Location": f"{elsewhere.url}/steal/models?page=2&key=abc123"}),
    )
    result = materialize_provider("featherless", sqlite_url)
    assert not result.success
    message = failure_message(result)
    assert f"refused a redirect from {provider_env.url}/featherless/models?[redacted]" in message, message
    assert f"to {elsewhere.url}/steal/models?[redacted]" in message and "abc123" not in message
    assert elsewhere.requests == []
    assert catalog_state(sqlite_url)["models"] == []


def test_a_same_origin_redirect_is_followed_with_the_key(provider_env, sqlite_url):
    first, second = featherless_pages()
    provider_env.route(
        "/featherless/models", json_reply(first), Reply(status=307, headers={"Location": "moved/models?page=2&per_page=500"})
    )
    provider_env.route("/featherless/moved/models", json_reply(second))
    result = materialize_provider("featherless", sqlite_url)
    assert result.success, failure_message(result)
    assert set(models_by_id(sqlite_url, "featherless")) == {m["id"] for m in fixture("featherless")["data"]}
    (moved,) = [r for r in provider_env.requests if r.path == "/featherless/moved/models"]
    assert moved.query["page"] == ["2"]
    assert moved.headers["Authorization"] == "Bearer test-key-featherless-0123456789"


def test_an_origin_the_spec_declares_is_followed(provider_env, elsewhere):
    spec = dataclasses.replace(adapter_for("openrouter").SPEC, extra_origins=(elsewhere.url,))
    page = fixture("openrouter")
    page["links"] = {"next": f"{elsewhere.url}/steal/models"}
    provider_env.route("/openrouter/models", json_reply(page))
    with FAST_APIS.client_for(spec) as http:
        pages = fetch_model_list(adapter_for("openrouter"), http)
    assert [p.url for p in pages][1] == f"{elsewhere.url}/steal/models"
    assert elsewhere.hits("/steal/models") == 1


def test_origins_compare_scheme_host_and_port():
    origins = Origins("https://api.example.com/v1")
    assert origins.allow("https://API.example.com:443/v1/models?page=2")
    for other in (
        "http://api.example.com/v1/models",  # downgraded scheme
        "https://api.example.com:8443/v1/models",
        "https://api.example.com.evil.test/v1/models",
        "https://user:pw@api.example.com/v1/models",
        "https://api.example.com:notaport/",
    ):
        assert not origins.allow(other), other


# --- next links resolved as RFC 3986 says ---------------------------------------------------

LINK_FORMS = {
    "absolute_path": lambda server, query: f"/api/v1/models?{query}",
    "absolute_url": lambda server, query: f"{server.url}/api/v1/models?{query}",
    "relative_path": lambda server, query: f"models?{query}",
    "dot_segments": lambda server, query: f"../v1/./models?{query}",
    "query_only": lambda server, query: f"?{query}",
}


def openrouter_sample() -> dict:
    return json.loads(shared_sample("openrouter.json").read_text())


@pytest.mark.parametrize("form", sorted(LINK_FORMS))
@pytest.mark.parametrize("source", ["own_fixture", "real_sample"])
def test_next_links_in_every_form_are_followed_with_their_query(provider_env, sqlite_url, monkeypatch, form, source):
    whole = fixture("openrouter") if source == "own_fixture" else openrouter_sample()
    models = whole["data"]
    size = -(-len(models) // 3)
    pages = [{"data": models[i:i + size]} for i in range(0, len(models), size)]
    queries = [f"offset={i * size}&limit={size}" for i in range(1, len(pages))]
    for page, query in zip(pages, queries):
        page["links"] = {"next": LINK_FORMS[form](provider_env, query)}
    monkeypatch.setenv("OPENROUTER_BASE_URL", f"{provider_env.url}/api/v1")
    provider_env.route("/api/v1/models", *[json_reply(page) for page in pages])

    result = materialize_provider("openrouter", sqlite_url, force=True)
    assert result.success, failure_message(result)
    assert catalog_metadata(result)["fetched"] == len(models)
    seen = [r.query for r in provider_env.requests if r.path == "/api/v1/models"]
    assert seen[0] == {"output_modalities": ["all"]}
    assert [f"offset={q['offset'][0]}&limit={q['limit'][0]}" for q in seen[1:]] == queries
    assert provider_env.hits("/api/v1/api/v1/models") == 0


# --- bounded reads ------------------------------------------------------------------------

def limits(base: ProviderApis = FAST_APIS, **changes) -> ProviderApis:
    return ProviderApis(**{**base.model_dump(), **changes})


SMALL_CAPS = limits(max_page_bytes=2 * MiB, max_provider_bytes=3 * MiB, deadline_seconds=3)


def test_an_oversize_body_stops_at_the_page_cap(provider_env, catalog_url):
    provider_env.route("/openrouter/models", json_reply(fixture("openrouter")))
    assert materialize_provider("openrouter", catalog_url).success
    before = catalog_state(catalog_url)
    huge = fixture("openrouter")
    huge["padding"] = "x" * (5 * MiB)
    provider_env.route("/openrouter/models", json_reply(huge))
    result = materialize_provider("openrouter", catalog_url, apis=SMALL_CAPS)
    assert not result.success
    message = failure_message(result)
    assert "one page went over 2 MiB received (max_page_bytes); stopped reading" in message, message
    assert catalog_state(catalog_url) == before


def test_an_endless_fast_stream_stops_at_the_page_cap(provider_env, sqlite_url):
    provider_env.route("/openrouter/models", endless_reply(b" " * 65536, every=0))
    result = materialize_provider("openrouter", sqlite_url, apis=limits(SMALL_CAPS, deadline_seconds=60))
    assert "one page went over 2 MiB received (max_page_bytes)" in failure_message(result)


def test_a_gzip_bomb_stops_at_the_cap_after_decompression(provider_env, sqlite_url):
    provider_env.route("/openrouter/models", gzip_bomb_reply(expanded_mib=1024))
    result = materialize_provider("openrouter", sqlite_url, apis=SMALL_CAPS)
    assert not result.success
    message = failure_message(result)
    assert "one page went over 2 MiB after decompression (max_page_bytes); stopped reading" in message, message


def test_pages_together_stop_at_the_provider_cap(provider_env, sqlite_url):
    pages = featherless_pages(3)
    for page in pages:
        page["padding"] = "x" * (MiB + MiB // 5)  # each page under the 2 MiB page cap, together over 3 MiB
    provider_env.route("/featherless/models", *[json_reply(page) for page in pages])
    # The byte cap is the point: a busy machine must not hit the 3 s deadline first (seen at load 20).
    result = materialize_provider("featherless", sqlite_url, apis=limits(SMALL_CAPS, deadline_seconds=60))
    assert not result.success
    message = failure_message(result)
    assert "the provider's pages went over 3 MiB received in all (max_provider_bytes)" in message, message
    assert provider_env.hits("/featherless/models") == 3


def test_an_endless_slow_stream_stops_at_the_provider_deadline(provider_env, sqlite_url):
    provider_env.route("/openrouter/models", endless_reply(b" " * 1024, every=0.05))
    # The read timeout never fires (a chunk arrives every 50 ms); without the deadline the page cap
    # would stop this stream after about 3 s, so the test fails rather than hangs.
    apis = limits(SMALL_CAPS, deadline_seconds=1.5, max_page_bytes=64 * 1024)
    result = materialize_provider("openrouter", sqlite_url, apis=apis)
    assert not result.success
    message = failure_message(result)
    assert "the provider's deadline of 1.5s passed while reading the body of" in message, message


def test_a_body_gone_silent_is_cut_at_the_provider_deadline(provider_env, sqlite_url):
    # After its first bytes the body stops; the read timeout (60 s) is far beyond the deadline. Each
    # read waits at most the time left before the deadline, and the deadline watch shuts the socket
    # then: the read ends while the server still holds the rest back.
    released = threading.Event()
    resumed = []

    def silent_after_first_bytes():
        yield b"["
        released.wait(timeout=30)
        resumed.append(True)
        yield b"]"

    provider_env.route("/openrouter/models", Reply(headers={"Content-Type": "application/json"}, chunks=silent_after_first_bytes))
    apis = limits(SMALL_CAPS, deadline_seconds=1.5, read_timeout_seconds=60)
    result = materialize_provider("openrouter", sqlite_url, apis=apis)
    cut_while_silent = not resumed
    released.set()
    assert not result.success
    message = failure_message(result)
    assert "the provider's deadline of 1.5s passed while reading the body of" in message, message
    assert cut_while_silent, "the read went on until the server sent the rest"


def test_the_deadline_covers_retries_and_pages(provider_env, sqlite_url):
    first, second = featherless_pages()
    provider_env.route("/featherless/models", json_reply(first), Reply(status=503, body="busy", delay=0.4))
    apis = limits(SMALL_CAPS, deadline_seconds=1, max_attempts=10, backoff_initial_seconds=0.2)
    result = materialize_provider("featherless", sqlite_url, apis=apis)
    assert not result.success
    message = failure_message(result)
    assert "deadline of 1s passed" in message or "retry budget of 1s exhausted" in message, message
    assert provider_env.hits("/featherless/models") < 10


def test_many_tiny_values_stop_at_the_default_values_cap(provider_env, catalog_url):
    # 64 MiB of `[{},{},...]` passes every byte cap and decodes to some 1.5 GiB of dicts: here two
    # pages of 1.2 MB each, each under the default cap of a million values, together over it.
    pages = featherless_pages(2)
    for page in pages:
        page["padding"] = [{}] * 300_000
    provider_env.route("/featherless/models", json_reply(featherless_pages(2)[0]), json_reply(featherless_pages(2)[1]))
    assert materialize_provider("featherless", catalog_url).success
    before = catalog_state(catalog_url)
    provider_env.route("/featherless/models", *[json_reply(page) for page in pages])
    result = materialize_provider("featherless", catalog_url)
    assert not result.success
    message = failure_message(result)
    assert "the provider's pages hold over 1,000,000 JSON values in all (max_provider_values); stopped reading" in message, message
    assert provider_env.hits("/featherless/models") == 4
    assert catalog_state(catalog_url) == before


def test_json_nested_too_deeply_fails_the_provider_naming_the_cause(provider_env, sqlite_url):
    provider_env.route("/openrouter/models", Reply(body=b"[" * 100_000, headers={"Content-Type": "application/json"}))
    result = materialize_provider("openrouter", sqlite_url)
    assert not result.success
    assert "is nested too deeply to decode (100000 bytes)" in failure_message(result), failure_message(result)


def test_large_incompressible_pages_wait_on_disk_and_are_archived_whole_and_masked(provider_env, sqlite_url, monkeypatch):
    secret = "SECRET-FEATHERLESS-51d0c2"
    monkeypatch.setenv(adapter_for("featherless").SPEC.api_key_env_var, secret)
    pages = featherless_pages(2)
    noise = random.Random(8)
    for page in pages:  # random base64: deflated, each page is still over a MiB, so it is spooled
        page["padding"] = base64.b64encode(noise.randbytes(3 * MiB)).decode()
    pages[0]["echo"] = f"your key: {secret}"  # masked first, then spooled
    provider_env.route("/featherless/models", *[json_reply(page) for page in pages])
    result = materialize_provider("featherless", sqlite_url)
    assert result.success, failure_message(result)
    with catalog_engine(sqlite_url).connect() as conn:
        archived = latest_archive(conn, "featherless")
    sent = [json.loads(json.dumps(page), parse_float=Decimal) for page in pages]
    assert [payload for _, payload in archived.pages] == [{**sent[0], "echo": "your key: [redacted]"}, sent[1]]


def test_every_cap_hit_at_once_fails_only_those_providers(provider_env, catalog_url):
    provider_env.route("/openrouter/models", json_reply({"data": [], "padding": "x" * (5 * MiB)}))
    provider_env.route("/featherless/models", gzip_bomb_reply(expanded_mib=1024))
    provider_env.route("/deepinfra/models", endless_reply(every=0.05))
    provider_env.route("/together/models", json_reply([{}] * 100_000))
    provider_env.route("/groq/models", json_reply(fixture("groq")))
    outcomes = sync_providers(
        ["openrouter", "featherless", "deepinfra", "together", "groq"],
        instance=dg.DagsterInstance.ephemeral(),
        definitions=catalog_definitions(catalog_url, limits(SMALL_CAPS, max_provider_values=50_000)),
    )
    by_slug = {o.slug: o for o in outcomes}
    assert "received (max_page_bytes)" in by_slug["openrouter"].message
    assert "after decompression (max_page_bytes)" in by_slug["featherless"].message
    assert "deadline of 3s passed while reading" in by_slug["deepinfra"].message
    assert "over 50,000 JSON values in all (max_provider_values)" in by_slug["together"].message
    assert [o.status for o in outcomes] == ["failed", "failed", "failed", "failed", "ok"], [o.message for o in outcomes]
    assert len(models_by_id(catalog_url, "groq")) == len(fixture("groq")["data"])
