"""The declarative description every provider adapter module exports as `SPEC`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


def env_prefix(slug: str) -> str:
    """`vercel-ai-gateway` -> `VERCEL_AI_GATEWAY`."""
    return slug.upper().replace("-", "_")


@dataclass(frozen=True)
class ProviderSpec:
    slug: str
    name: str
    base_url: str  # the API root as the provider documents it; the adapter appends its path
    kind: Literal["text", "image"]
    key_required: bool
    endpoint: str  # what `fetch` calls, for people: "GET /models?output_modalities=all"
    price_unit: str  # the unit the provider quotes, for people: "USD per 1M tokens"
    list_path: tuple[str, ...] = ("data",)  # where the entries sit in each page; () = bare array
    auth_scheme: str = "Bearer"
    unverified: str = ""  # what the docs leave unverified, for the README table
    # Extra request headers taken from the environment when set: {"x-goog-user-project": "GOOGLE_VERTEX_PROJECT"}.
    header_env_vars: tuple[tuple[str, str], ...] = ()

    @property
    def api_key_env_var(self) -> str:
        return f"{env_prefix(self.slug)}_API_KEY"

    @property
    def base_url_env_var(self) -> str:
        return f"{env_prefix(self.slug)}_BASE_URL"
