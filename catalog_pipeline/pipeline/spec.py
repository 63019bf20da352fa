"""The declarative description every provider adapter module exports as `SPEC`."""

from __future__ import annotations

import os
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
    # Origins besides base_url's that the provider documents for paging or redirects
    # ("https://cdn.example.com"); requests, and so the key, go nowhere else.
    extra_origins: tuple[str, ...] = ()

    @property
    def api_key_env_var(self) -> str:
        return f"{env_prefix(self.slug)}_API_KEY"

    @property
    def base_url_env_var(self) -> str:
        return f"{env_prefix(self.slug)}_BASE_URL"

    def resolved_base_url(self) -> str:
        return (os.environ.get(self.base_url_env_var) or self.base_url).rstrip("/")

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env_var) or None

    def missing_key_reason(self) -> str | None:
        """Why this provider cannot be synced now, or None when it can."""
        if self.key_required and not self.api_key():
            return f"{self.api_key_env_var} is not set"
        return None

    def auth_headers(self) -> dict[str, str]:
        key = self.api_key()
        headers = {"Authorization": f"{self.auth_scheme} {key}"} if key else {}
        headers.update({name: os.environ[var] for name, var in self.header_env_vars if os.environ.get(var)})
        return headers
