"""The declarative description every provider adapter module exports as `SPEC`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping
from urllib.parse import urlencode

from .paging import NextRequest, single_page


def env_prefix(slug: str) -> str:
    """`vercel-ai-gateway` -> `VERCEL_AI_GATEWAY`."""
    return slug.upper().replace("-", "_")


@dataclass(frozen=True)
class ProviderSpec:
    slug: str
    name: str
    base_url: str  # the API root as the provider documents it; paths are appended to it
    kind: Literal["text", "image"]
    key_required: bool
    price_unit: str  # the unit the provider quotes, for people: "USD per 1M tokens"
    # The model list: GET <base URL><endpoint_path>?<endpoint_query>, then every page `paging` names.
    endpoint_path: str = "/models"
    endpoint_query: Mapping[str, Any] = field(default_factory=dict, hash=False)
    paging: NextRequest = single_page
    endpoint_note: str = ""  # what the request line does not say, for people: "follows links.next"
    list_path: tuple[str, ...] = ("data",)  # where the entries sit in each page; () = bare array
    auth_scheme: str = "Bearer"
    # Extra request headers taken from the environment when set: {"x-goog-user-project": "GOOGLE_VERTEX_PROJECT"}.
    header_env_vars: tuple[tuple[str, str], ...] = ()
    # Origins besides base_url's that the provider documents for paging or redirects
    # ("https://cdn.example.com"); requests, and so the key, go nowhere else.
    extra_origins: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        """The list call for people (README, docs): `GET /models?verbose=true (note)`."""
        query = f"?{urlencode(self.endpoint_query)}" if self.endpoint_query else ""
        note = f" ({self.endpoint_note})" if self.endpoint_note else ""
        return f"GET {self.endpoint_path}{query}{note}"

    @property
    def api_key_env_var(self) -> str:
        return f"{env_prefix(self.slug)}_API_KEY"

    @property
    def base_url_env_var(self) -> str:
        return f"{env_prefix(self.slug)}_BASE_URL"
