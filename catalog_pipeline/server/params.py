"""Strict query parameters for the admin API: a value that could be read two ways is a 400, never
a guess. FastAPI dependencies, so each parameter is also described in the OpenAPI document."""

from __future__ import annotations

from typing import Callable

from fastapi import HTTPException, Query, Request

TRUE_VALUES = ("true", "1")
FALSE_VALUES = ("false", "0")


class BadRequest(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(status_code=400, detail=message)


def _single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


def flag(name: str, default: bool, description: str) -> Callable[..., bool]:
    """A boolean: exactly one of true, false, 1, 0 (any case). Missing means `default`."""
    accepted = "true, false, 1 or 0"

    async def read(  # async: FastAPI runs a plain function in its thread pool, a hop per request
        request: Request,
        value: str | None = Query(
            None, alias=name, description=f"{description} One of {accepted} (any case); default {str(default).lower()}.",
            json_schema_extra={"enum": ["true", "false", "1", "0"]},
        ),
    ) -> bool:
        raw = _single(request, name)
        if raw is None:
            return default
        if raw.lower() in TRUE_VALUES:
            return True
        if raw.lower() in FALSE_VALUES:
            return False
        shown = "empty" if raw == "" else f"{raw[:40]!r}"
        raise BadRequest(f"{name} must be one of {accepted}; got {shown}")

    return read


def number(name: str, default: Callable[[], float], *, above: float, at_most: float, description: str) -> Callable[..., float]:
    """A finite number with `above` < value <= `at_most` (FastAPI checks the declared bounds, so the
    OpenAPI document states them). Missing means `default()`."""

    async def read(
        request: Request,
        value: float | None = Query(None, alias=name, gt=above, le=at_most,
                                    description=f"{description} Range: over {above:g}, at most {at_most:g}."),
    ) -> float:
        _single(request, name)  # FastAPI alone would take the last of repeated values
        return default() if value is None else value

    return read
