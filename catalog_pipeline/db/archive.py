"""The raw archive: every fetched model list as received, with fetch time and a content hash."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, desc, insert, select

from catalog_pipeline.pipeline.http import FetchedPage, decode_json

from .schema import raw_model_lists


@dataclass
class ArchivedList:
    id: int
    provider_slug: str
    fetched_at: datetime
    content_sha256: str
    page_count: int
    byte_size: int
    pages: list[tuple[str, Any]]  # (url, decoded JSON) in fetch order


def content_sha256(pages: list[FetchedPage]) -> str:
    digest = hashlib.sha256()
    for page in pages:
        digest.update(len(page.body).to_bytes(8, "big"))
        digest.update(page.body)
    return digest.hexdigest()


def archive_pages(conn: Connection, slug: str, pages: list[FetchedPage], run_id: str | None) -> ArchivedList:
    document = [
        {
            "url": page.url,
            "status": page.status,
            "fetched_at": page.fetched_at.isoformat(),
            "body": page.body.decode("utf-8", errors="replace"),
        }
        for page in pages
    ]
    values = {
        "provider_slug": slug,
        "fetched_at": pages[0].fetched_at,
        "content_sha256": content_sha256(pages),
        "page_count": len(pages),
        "byte_size": sum(len(page.body) for page in pages),
        "run_id": run_id,
        "pages_gzip": gzip.compress(json.dumps(document).encode(), compresslevel=6),
    }
    archive_id = conn.execute(insert(raw_model_lists).values(values).returning(raw_model_lists.c.id)).scalar_one()
    return ArchivedList(id=archive_id, pages=[(page.url, page.payload) for page in pages], **{
        k: values[k] for k in ("provider_slug", "fetched_at", "content_sha256", "page_count", "byte_size")
    })


def latest_archive(conn: Connection, slug: str) -> ArchivedList | None:
    row = conn.execute(
        select(raw_model_lists).where(raw_model_lists.c.provider_slug == slug).order_by(desc(raw_model_lists.c.id)).limit(1)
    ).mappings().first()
    if row is None:
        return None
    document = json.loads(gzip.decompress(row["pages_gzip"]))
    pages = [(page["url"], decode_json(page["body"].encode(), url=page["url"])) for page in document]
    return ArchivedList(
        id=row["id"],
        provider_slug=row["provider_slug"],
        fetched_at=row["fetched_at"],
        content_sha256=row["content_sha256"],
        page_count=row["page_count"],
        byte_size=row["byte_size"],
        pages=pages,
    )
