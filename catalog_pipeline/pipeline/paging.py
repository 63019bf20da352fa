"""Paging styles shared by adapters: each returns every page of a model list.

Whatever a style names as the next page, a full URL, an absolute path or a relative one, is
resolved as RFC 3986 says against the URL of the page that carried it, query string kept. Where
it may go is the HTTP client's decision (`origins.py`), not the page's.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urljoin

from .http import FetchedPage, ProviderFetchError, ProviderHttp

MAX_PAGES = 1000

NextRequest = Callable[[FetchedPage, dict[str, Any]], "tuple[str, dict[str, Any]] | None"]


def fetch_pages(
    http: ProviderHttp, path: str, params: dict[str, Any] | None, next_request: NextRequest
) -> list[FetchedPage]:
    """GET `path` (under the API root), then whatever `next_request(page, params)` names, until it
    returns None."""
    pages: list[FetchedPage] = []
    request: tuple[str, dict[str, Any]] | None = (http.url_for(path), dict(params or {}))
    seen: set[str] = set()
    while request is not None:
        target, query = request
        marker = target + "?" + repr(sorted(query.items()))
        if marker in seen:
            raise ProviderFetchError(f"paging loop: {target} asked for the same page twice")
        if len(pages) >= MAX_PAGES:
            raise ProviderFetchError(f"paging stopped after {MAX_PAGES} pages of {http.url_for(path)}")
        seen.add(marker)
        page = http.get_json(target, query)
        pages.append(page)
        request = next_request(page, query)
        page.release_payload()
        if request is not None:
            request = (urljoin(page.url, request[0]), request[1])
    return pages


def single_page(page: FetchedPage, params: dict[str, Any]) -> None:
    return None


def by_next_link(link_of: Callable[[Any], Any]) -> NextRequest:
    """Follow a next-page URL or path found in the payload (absent/empty = last page)."""

    def next_request(page: FetchedPage, params: dict[str, Any]):
        link = link_of(page.payload) if isinstance(page.payload, dict) else None
        if not link or not isinstance(link, str):
            return None
        return link, {}

    return next_request


def by_cursor(cursor_of: Callable[[Any], Any], cursor_param: str) -> NextRequest:
    """Pass the payload's cursor/token back as `cursor_param` until it is empty."""

    def next_request(page: FetchedPage, params: dict[str, Any]):
        cursor = cursor_of(page.payload) if isinstance(page.payload, dict) else None
        if not cursor or not isinstance(cursor, str):
            return None
        return page.url.split("?", 1)[0], {**params, cursor_param: cursor}

    return next_request

