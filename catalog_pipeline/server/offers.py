"""What GET /admin/model-sync/offers?model=... answers, and the discrepancies /status lists.
Framework-free, so the route module of whichever router serves them stays one line per answer."""

from __future__ import annotations

from typing import Any

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.jsonable import jsonable
from catalog_pipeline.db.offers import offers_in, price_discrepancies

MAX_QUERY_LENGTH = 200


class BadOffersQuery(ValueError):
    pass


def offers_answer(model: str | None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 200 with the offers, 404 when no canonical model matches."""
    query = (model or "").strip()
    if not query:
        raise BadOffersQuery("model is required, e.g. ?model=llama 3.3 70b")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadOffersQuery(f"model is longer than {MAX_QUERY_LENGTH} characters")
    with catalog_engine().connect() as conn:
        found = offers_in(conn, query)
    if found is None:
        return 404, {"success": False, "message": f"no canonical model matches {query!r}"}
    # Prices as exact decimal strings: a JSON number would pass through a client's double.
    return 200, {"success": True, **jsonable(found)}


def discrepancies_view() -> list[dict[str, Any]]:
    return jsonable(price_discrepancies(catalog_engine()))
