"""Keep secrets out of responses: the admin key and every provider key, whatever text carries them."""

from __future__ import annotations

from collections.abc import Iterable

from catalog_pipeline.defs.resources import ProviderApis

MASK = "[redacted]"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


def provider_keys() -> list[str]:
    return ProviderApis().provider_keys()


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a key containing another key is masked whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text
