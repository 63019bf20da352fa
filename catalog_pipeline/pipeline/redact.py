"""The one redactor and the one mask: every configured secret is replaced by `MASK` wherever text,
bytes or decoded JSON could carry it (provider answers, URLs, error messages, API answers)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MASK = "[redacted]"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


class Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Longest first, so a key containing another key is masked whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._secret_bytes = [s.encode() for s in self._secrets]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def bytes(self, data: bytes) -> bytes:
        for secret in self._secret_bytes:
            if secret in data:
                data = data.replace(secret, MASK.encode())
        return data

    def found_in(self, value: Any) -> bool:
        """Whether any string inside a decoded JSON value still carries a secret."""
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if any(secret in item for secret in self._secrets):
                    return True
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        return False


NO_SECRETS = Redactor(())
