"""The raw archive: every fetched model list as received, with fetch time and a content hash.
Configured secrets are masked on the way in and on the way out (an archive written before masking
existed must not bring a key back into rows)."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, desc, func, insert, select

from catalog_pipeline.collector import collector_paused
from catalog_pipeline.pipeline.http import FetchedPage, decode_json
from catalog_pipeline.pipeline.redact import NO_SECRETS, Redactor

from .schema import raw_model_lists

ESCAPED_PIECE = 1024 * 1024  # a body is written to the archive this many bytes at a time


@dataclass
class ArchivedList:
    id: int
    provider_slug: str
    fetched_at: datetime
    content_sha256: str
    page_count: int
    byte_size: int
    pages: list[tuple[str, Any]]  # (url, decoded JSON) in fetch order


def archive_pages(
    conn: Connection, slug: str, pages: list[FetchedPage], run_id: str | None, *, redact: Redactor = NO_SECRETS
) -> ArchivedList:
    """Record this fetch; its body is stored once per distinct content (a daily unchanged list of
    8 MB would otherwise pile up), every fetch still gets its own row with time and hash."""
    with collector_paused():
        return _archived(conn, slug, pages, run_id, redact)


def _archived(conn: Connection, slug: str, pages: list[FetchedPage], run_id: str | None, redact: Redactor) -> ArchivedList:
    pages, digest = _masked_with_digest(pages, redact)
    previous = conn.execute(
        select(raw_model_lists.c.id, raw_model_lists.c.content_sha256, raw_model_lists.c.body_of_id)
        .where(raw_model_lists.c.provider_slug == slug)
        .order_by(desc(raw_model_lists.c.id))
        .limit(1)
    ).first()
    same_body = previous is not None and previous.content_sha256 == digest
    values = {
        "provider_slug": slug,
        "fetched_at": pages[0].fetched_at,
        "content_sha256": digest,
        "page_count": len(pages),
        "byte_size": sum(page.size for page in pages),
        "run_id": run_id,
        "pages_gzip": None if same_body else _document_gzip(pages),
        "body_of_id": (previous.body_of_id or previous.id) if same_body else None,
    }
    archive_id = conn.execute(insert(raw_model_lists).values(values).returning(raw_model_lists.c.id)).scalar_one()
    return ArchivedList(id=archive_id, pages=[(page.url, page.payload) for page in pages], **{
        k: values[k] for k in ("provider_slug", "fetched_at", "content_sha256", "page_count", "byte_size")
    })


def _document_gzip(pages: list[FetchedPage]) -> bytes:
    """`[{"url", "status", "fetched_at", "body"}, ...]` as JSON, gzipped, written a piece at a time:
    no page is ever in memory as bytes, text and JSON at once, let alone every page."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6) as document:
        for number, page in enumerate(pages):
            head = json.dumps({"url": page.url, "status": page.status, "fetched_at": page.fetched_at.isoformat()})
            document.write(("[" if number == 0 else ", ").encode() + head[:-1].encode() + b', "body": "')
            _write_json_string_content(document, page.body)
            document.write(b'"}')
        document.write(b"]" if pages else b"[]")
    return out.getvalue()


def _write_json_string_content(out: gzip.GzipFile, body: bytes) -> None:
    """The body, read as UTF-8 (bad bytes replaced), escaped as inside a JSON string."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    view = memoryview(body)
    for start in range(0, len(body), ESCAPED_PIECE):
        out.write(json.dumps(decoder.decode(view[start:start + ESCAPED_PIECE]))[1:-1].encode())
    out.write(json.dumps(decoder.decode(b"", final=True))[1:-1].encode())


def _masked_with_digest(pages: list[FetchedPage], redact: Redactor) -> tuple[list[FetchedPage], str]:
    """The pages with any key masked, and the SHA-256 of their masked bodies (each length-prefixed),
    from one unpacking of each body."""
    digest = hashlib.sha256()
    kept = []
    for page in pages:
        body = page.body
        masked, url = redact.bytes(body), redact(page.url)
        if masked is not body or url != page.url:  # else keep the page and its decoded payload
            page = FetchedPage.of(url, page.status, masked, fetched_at=page.fetched_at)
        digest.update(len(masked).to_bytes(8, "big"))
        digest.update(masked)
        kept.append(page)
    return kept, digest.hexdigest()


def latest_archive(conn: Connection, slug: str, *, redact: Redactor = NO_SECRETS) -> ArchivedList | None:
    row = conn.execute(
        select(raw_model_lists).where(raw_model_lists.c.provider_slug == slug).order_by(desc(raw_model_lists.c.id)).limit(1)
    ).mappings().first()
    if row is None:
        return None
    body = row["pages_gzip"]
    if body is None:
        body = conn.execute(select(raw_model_lists.c.pages_gzip).where(raw_model_lists.c.id == row["body_of_id"])).scalar_one()
    document = json.loads(gzip.decompress(body))
    pages = []
    for page in document:  # each body let go once decoded: the text of every page is never held with all payloads
        url = redact(page["url"])
        pages.append((url, decode_json(redact(page.pop("body")).encode(), url=url)))
    return ArchivedList(
        id=row["id"],
        provider_slug=row["provider_slug"],
        fetched_at=row["fetched_at"],
        content_sha256=row["content_sha256"],
        page_count=row["page_count"],
        byte_size=row["byte_size"],
        pages=pages,
    )


def archived_slugs(conn: Connection) -> set[str]:
    """Providers with at least one archived list."""
    return set(conn.execute(select(raw_model_lists.c.provider_slug).distinct()).scalars())


def last_fetch_pages(conn: Connection) -> dict[str, int]:
    """Each archived provider's page count (the requests its fetch made) in its newest list."""
    newest = select(func.max(raw_model_lists.c.id)).group_by(raw_model_lists.c.provider_slug)
    query = select(raw_model_lists.c.provider_slug, raw_model_lists.c.page_count).where(raw_model_lists.c.id.in_(newest))
    return dict(conn.execute(query).all())
