"""One model across providers: link each catalog row to a canonical model.

Methods, in order of trust (the first that applies wins):

1. `hf_id` (high): the provider states the Hugging Face id. OpenRouter's `hugging_face_id`;
   the Hugging Face router, whose ids are Hub repos; and the providers whose own ids are Hub
   repos (`HF_ID_PROVIDERS`; Chutes appends `-TEE` for its confidential deployments).
2. `curated` (high): an alias in `data/canonical_aliases.json`, each citing its source.
3. `normalized_name` (low): the same name once lower-cased, without the organisation prefix and
   a `:variant` tag. It links to a canonical model found by 1 or 2, or groups rows of at least two
   providers that no better method links.

The canonical slug is the lower-cased Hugging Face id (or, for a name-only group, the name).
Rows that nothing links stay unlinked (canonical_model_id NULL), never guessed. A row that moves
from one canonical model to another (or loses its link) is a change-feed row: kind `changed`,
field `canonical_model`, old and new canonical slug.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, NamedTuple

from sqlalchemy import Connection, Engine, bindparam, case, func, insert, not_, or_, select, text, update

from catalog_pipeline.collector import collector_paused

from .bulk_write import batches, joined_by_index, one_of, planner_without, scanned_in_parallel, stage_rows
from .changes import write_changes
from .schema import canonical_models, models, providers

HF_ID = "hf_id"
CURATED = "curated"
NORMALIZED_NAME = "normalized_name"
CONFIDENCE = {HF_ID: "high", CURATED: "high", NORMALIZED_NAME: "low"}

# Providers whose model ids are Hugging Face repo ids (../shared/provider-apis.md, "Identity").
HF_ID_PROVIDERS = frozenset({"deepinfra", "together", "featherless", "nebius", "novita", "chutes", "huggingface"})
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_ID_SUFFIXES = {"chutes": "-TEE"}
_SEPARATORS = re.compile(r"[\s_]+")


class AliasFileError(ValueError):
    """The curated alias file is malformed; the message names the entry."""


class Link(NamedTuple):  # a tuple: a first refresh plans one per row
    slug: str
    hf_id: str | None
    method: str

    @property
    def confidence(self) -> str:
        return CONFIDENCE[self.method]


@dataclass(frozen=True)
class Alias:
    hf_id: str
    source: str


def canonical_slug(hf_id: str) -> str:
    return hf_id.lower()


def normalized_name(model_id: str) -> str:
    """'meta-llama/Llama-3.3-70B-Instruct:free' -> 'llama-3.3-70b-instruct'."""
    name = model_id.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return _SEPARATORS.sub("-", name).strip("-")


def declared_hf_id(provider_slug: str, model_id: str, metadata: dict[str, Any] | None) -> str | None:
    """The Hugging Face id the provider itself gives for this row, if any."""
    if provider_slug == "openrouter":
        stated = (metadata or {}).get("hugging_face_id")
        return stated if isinstance(stated, str) and _REPO_ID.match(stated) else None
    if provider_slug not in HF_ID_PROVIDERS:
        return None
    suffix = _ID_SUFFIXES.get(provider_slug)
    repo = model_id[: -len(suffix)] if suffix and model_id.endswith(suffix) else model_id
    return repo if _REPO_ID.match(repo) else None


@lru_cache(maxsize=1)
def curated_aliases() -> dict[tuple[str, str], Alias]:
    """(provider slug, provider model id) -> the Hugging Face id it serves, from the package data."""
    text = resources.files("catalog_pipeline.db").joinpath("data/canonical_aliases.json").read_text()
    return parse_aliases(json.loads(text))


def parse_aliases(document: Any) -> dict[tuple[str, str], Alias]:
    aliases: dict[tuple[str, str], Alias] = {}
    entries = document.get("canonical_models") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise AliasFileError("canonical_aliases.json: expected an object with a 'canonical_models' list")
    for index, entry in enumerate(entries):
        hf_id = entry.get("hf_id") if isinstance(entry, dict) else None
        if not isinstance(hf_id, str) or not _REPO_ID.match(hf_id):
            raise AliasFileError(f"canonical_models[{index}]: 'hf_id' must be an org/name Hugging Face id")
        for alias in entry.get("aliases") or []:
            where = f"canonical_models[{index}] ({hf_id})"
            if not isinstance(alias, dict) or not all(isinstance(alias.get(k), str) and alias[k].strip() for k in ("provider", "model", "source")):
                raise AliasFileError(f"{where}: every alias needs non-empty 'provider', 'model' and 'source'")
            key = (alias["provider"], alias["model"])
            if key in aliases and aliases[key].hf_id != hf_id:
                raise AliasFileError(f"{where}: {key[0]} {key[1]} is already an alias of {aliases[key].hf_id}")
            aliases[key] = Alias(hf_id, alias["source"])
    return aliases


def strong_link(provider_slug: str, model_id: str, metadata: dict[str, Any] | None) -> Link | None:
    """The link by `hf_id` or `curated`, the methods trusted enough to carry a price across."""
    hf_id = declared_hf_id(provider_slug, model_id, metadata)
    if hf_id:
        return Link(canonical_slug(hf_id), hf_id, HF_ID)
    alias = curated_aliases().get((provider_slug, model_id))
    if alias:
        return Link(canonical_slug(alias.hf_id), alias.hf_id, CURATED)
    return None


class CatalogRow(NamedTuple):  # a tuple: 400k of them are built per refresh
    id: int
    provider_id: int
    provider_slug: str
    provider_model_id: str
    metadata: dict[str, Any]
    is_active: bool


def plan_links(rows: Iterable[CatalogRow], grouped: dict[int, tuple[Link | None, str]] | None = None) -> dict[int, Link]:
    """Row id -> link for every row some method links (pure: no database). `grouped`: what
    `strong_and_group` gives for rows it already ran on."""
    grouped = grouped or {}
    links: dict[int, Link] = {}
    by_name: dict[str, set[str]] = {}
    hf_ids: dict[str, str] = {}  # slug -> the first stated hf_id
    unlinked: dict[str, list[CatalogRow]] = {}
    for row in rows:
        link, name = grouped.get(row.id) or strong_and_group(row)
        if link:
            links[row.id] = link
            by_name.setdefault(name, set()).add(link.slug)
            if link.hf_id:
                hf_ids.setdefault(link.slug, link.hf_id)
        else:
            unlinked.setdefault(name, []).append(row)
    for name, group in unlinked.items():
        known = by_name.get(name, set())
        if len(known) == 1:
            target = next(iter(known))
        elif not known and len({row.provider_slug for row in group}) >= 2:
            target = name
        else:  # no match, or several canonical models share the name: a guess would be wrong
            continue
        link = Link(target, hf_ids.get(target), NORMALIZED_NAME)
        for row in group:
            links[row.id] = link
    return links


@dataclass
class LinkReport:
    linked: dict[str, int] = field(default_factory=dict)  # method -> rows
    unlinked_active: int = 0  # active rows no method links
    unlinked_examples: list[str] = field(default_factory=list)  # the first few by row id, "provider/model"
    relinked: list[dict[str, Any]] = field(default_factory=list)
    canonical_models: int = 0


def link_rules_fingerprint() -> str:
    """Changes whenever what links a row can change: the curated aliases or the providers and
    suffixes that state Hugging Face ids. A stored key under other rules is stale."""
    rules = json.dumps(
        [sorted(HF_ID_PROVIDERS), sorted(_ID_SUFFIXES.items()), _REPO_ID.pattern,
         sorted((key, alias.hf_id) for key, alias in curated_aliases().items())]
    )
    return hashlib.sha1(rules.encode()).hexdigest()[:12]


def strong_and_group(row: CatalogRow) -> tuple[Link | None, str]:
    """The row's strong link, and the name group whose rows its link depends on (and whose links
    depend on it)."""
    link = strong_link(row.provider_slug, row.provider_model_id, row.metadata)
    return link, normalized_name(link.slug if link else row.provider_model_id)


def rebuild_links(engine: Engine, run_id: str | None = None, *, full: bool = False, examples: int = 50) -> LinkReport:
    """Bring every row's link up to date in one transaction; write only the rows whose link changed.

    A row's link depends only on the rows of its name group (`strong_and_group`), so only the
    groups of rows that are new, changed or planned under other rules since their last plan
    ("stale") are planned again, each whole: their links are what a plan of the whole catalog
    gives. `full` plans every row."""
    now = datetime.now(timezone.utc)
    prefix = f"{link_rules_fingerprint()}:"
    with collector_paused(), engine.begin() as conn:
        # PostgreSQL: the whole table is read for the few stale rows; the planner, taking the filter
        # for most of it, scanned alone (seen here: 0.29 s, in parallel 0.16 s at 420,000 rows).
        with scanned_in_parallel(conn):
            stale = _catalog_rows(conn, None if full else _is_stale(prefix))
        grouped = {item.row.id: strong_and_group(item.row) for item in stale}  # computed once, planned below
        planned_keys = {row_id: prefix + name for row_id, (_, name) in grouped.items()}
        groups = {item.key for item in stale if item.key} | set(planned_keys.values())
        if full:
            others: list[_Stored] = []
        elif len(groups) > _GROUPS_READ_BY_KEY:  # most of the catalog: one read of the rest is quicker
            others = _catalog_rows(conn, not_(_is_stale(prefix)))
        else:
            others = _rows_in_groups(conn, sorted(groups))
        # A row read as stale keeps that reading (its key is rewritten from it); the others are
        # re-linked only, so a row a load changes meanwhile stays stale for the next refresh.
        current = stale + [item for item in others if item.row.id not in planned_keys]
        current.sort(key=lambda item: item.row.id)  # the plan's first stated hf_id is by row id
        links = plan_links((item.row for item in current), grouped)
        ids = _ensure_canonical_models(conn, links.values(), now)
        slugs = {canonical_id: slug for slug, canonical_id in ids.items()}
        old_ids = list({item.link[0] for item in current if item.link[0] is not None} - slugs.keys())
        slugs.update((row_id, slug) for row_id, slug, _ in _canonical_rows(conn, canonical_models.c.id, old_ids))
        relinked: list[dict[str, Any]] = []
        feed: dict[int, list[dict[str, Any]]] = {}
        changed: list[tuple] = []
        for row, old, key, planned_hash, content_hash in current:
            link = links.get(row.id)
            new = (ids[link.slug], link.method, link.confidence) if link else (None, None, None)
            stored = (planned_keys[row.id], content_hash) if row.id in planned_keys else (key, planned_hash)
            if new == old and stored == (key, planned_hash):
                continue
            changed.append((row.id, *new, *stored))
            if old[0] is not None and old[0] != new[0]:
                relink = {
                    "provider": row.provider_slug, "model": row.provider_model_id,
                    "old": slugs.get(old[0]), "new": link.slug if link else None, "method": link.method if link else None,
                }
                relinked.append(relink)
                feed.setdefault(row.provider_id, []).append({
                    "provider_model_id": row.provider_model_id, "kind": "changed", "field": "canonical_model",
                    "old_value": relink["old"], "new_value": relink["new"],
                })
        _write_links(conn, changed)
        for provider_id, rows_changed in feed.items():
            write_changes(conn, provider_id, rows_changed, now, run_id)
        report = _link_summary(conn, examples)
    report.relinked = relinked
    return report


def _is_stale(prefix: str):
    """Rows never planned, planned under other rules, or whose content changed since (a stated
    hf_id lives in `metadata`, which `content_hash` covers)."""
    return or_(
        models.c.link_key.is_(None),
        func.substr(models.c.link_key, 1, len(prefix)) != prefix,
        models.c.link_hash.is_distinct_from(models.c.content_hash),
    )


_GROUPS_READ_BY_KEY = 50_000


def _rows_in_groups(conn: Connection, keys: list[str]) -> list["_Stored"]:
    # PostgreSQL: through the link key's index. With statistics a first sync has outgrown, the
    # planner scanned the whole table for 20,000 keys (seen here: 0.2-0.26 s against 0.05 s).
    with planner_without(conn, "seqscan"):
        return [item for batch in batches(conn, keys) for item in _catalog_rows(conn, one_of(conn, models.c.link_key, batch))]


def _link_summary(conn: Connection, examples: int) -> LinkReport:
    """The counts of the whole catalog as it now stands (most rows were not read), from one scan."""
    unlinked = (models.c.canonical_model_id.is_(None), models.c.is_active.is_(True))
    by_method = conn.execute(
        select(
            models.c.match_method,
            func.count().filter(models.c.canonical_model_id.is_not(None)),
            func.count().filter(*unlinked),
        ).group_by(models.c.match_method).order_by(models.c.match_method)
    ).all()
    first_unlinked = (
        select(providers.c.slug, models.c.provider_model_id).join(providers, providers.c.id == models.c.provider_id)
        .where(*unlinked).order_by(models.c.id).limit(examples)
    )
    # PostgreSQL: along the primary key until enough are found. With statistics that lag behind a
    # first sync the planner fetched every unlinked row and sorted them (seen here: 0.33 s against
    # 0.04 s at 420,000 rows).
    with planner_without(conn, "bitmapscan", "sort"):
        shown = conn.execute(first_unlinked).all()
    return LinkReport(
        linked={method: linked for method, linked, _ in by_method if linked},
        unlinked_active=sum(count for _, _, count in by_method),
        unlinked_examples=[f"{slug}/{model_id}" for slug, model_id in shown],
        canonical_models=conn.execute(select(func.count()).select_from(canonical_models)).scalar_one(),
    )


_UPDATE_CHUNK = 2000  # rows per UPDATE ... FROM (VALUES ...): 12,000 parameters, under SQLite's 32,766
_LINK_UPDATE_COLUMNS = (("i", "bigint"), ("c", "integer"), ("m", "varchar"), ("k", "varchar"), ("g", "text"), ("h", "varchar"))
_LINK_COLUMNS = "canonical_model_id = v.c, match_method = v.m, match_confidence = v.k, link_key = v.g, link_hash = v.h"


def _write_links(conn: Connection, changed: list[tuple]) -> None:
    """One statement per chunk of rows, joined to their new link and key (a first sync links every row)."""
    if not changed:
        return
    if conn.dialect.name == "postgresql":
        stage_rows(conn, "link_updates", _LINK_UPDATE_COLUMNS, changed)
        # Each row by its primary key. Left to itself the planner hashes the whole table (seen
        # here: 0.36 s of a 0.48 s update of 20,000 links in a table of 420,000 rows whose
        # statistics a first sync has outgrown).
        with joined_by_index(conn):
            conn.exec_driver_sql(f"UPDATE models SET {_LINK_COLUMNS} FROM link_updates AS v WHERE models.id = v.i")
        conn.exec_driver_sql("DROP TABLE link_updates")
        return
    for start in range(0, len(changed), _UPDATE_CHUNK):
        chunk = changed[start:start + _UPDATE_CHUNK]
        params: dict[str, Any] = {}
        tuples = []
        for n, values in enumerate(chunk):
            names = [f"{key}{n}" for key in "icmkgh"]
            params.update(zip(names, values))
            tuples.append("(" + ", ".join(f":{name}" for name in names) + ")")
        conn.execute(
            text(
                f"UPDATE models SET {_LINK_COLUMNS}"
                " FROM (SELECT column1 AS i, column2 AS c, column3 AS m, column4 AS k, column5 AS g, column6 AS h"
                f" FROM (VALUES {', '.join(tuples)}) AS t) AS v WHERE models.id = v.i"
            ),
            params,
        )


class _Stored(NamedTuple):
    row: CatalogRow
    link: tuple[Any, Any, Any]  # canonical_model_id, match_method, match_confidence as stored
    key: str | None  # link_key as stored
    planned_hash: str | None  # link_hash as stored
    content_hash: str | None


def _catalog_rows(conn: Connection, where) -> list[_Stored]:
    # The only metadata a link reads is OpenRouter's `hugging_face_id` (declared_hf_id): that one
    # value is taken out in the database, not every row's whole document.
    stated = case((providers.c.slug == "openrouter", models.c.metadata["hugging_face_id"]), else_=None)
    query = select(
        models.c.id, models.c.provider_id, providers.c.slug, models.c.provider_model_id, stated, models.c.is_active,
        models.c.canonical_model_id, models.c.match_method, models.c.match_confidence,
        models.c.link_key, models.c.link_hash, models.c.content_hash,
    ).join(providers, providers.c.id == models.c.provider_id)
    if where is not None:
        query = query.where(where)
    return [
        _Stored(CatalogRow(i, provider_id, slug, model_id, {} if hf is None else {"hugging_face_id": hf}, active),
                (cid, method, confidence), key, planned_hash, content_hash)
        for i, provider_id, slug, model_id, hf, active, cid, method, confidence, key, planned_hash, content_hash
        in conn.execute(query).all()
    ]


def _ensure_canonical_models(conn: Connection, links: Iterable[Link], now: datetime) -> dict[str, int]:
    """slug -> id of the linked slugs, inserting the missing canonical models and filling a newly
    known hf_id."""
    wanted: dict[str, str | None] = {}
    for link in links:
        wanted[link.slug] = _preferred_spelling(link.hf_id, wanted.get(link.slug))
    existing = {slug: (row_id, hf_id) for row_id, slug, hf_id in _canonical_rows(conn, canonical_models.c.slug, list(wanted))}
    added = [
        {"slug": slug, "hf_id": hf_id, "created_at": now, "updated_at": now}
        for slug, hf_id in wanted.items() if slug not in existing
    ]
    if added and conn.dialect.name == "postgresql":  # a first refresh adds one per model: copied, not a row each
        stage_rows(conn, "canonical_additions", (("s", "text"), ("h", "text")), ((row["slug"], row["hf_id"]) for row in added))
        conn.execute(
            text("INSERT INTO canonical_models (slug, hf_id, created_at, updated_at) SELECT s, h, :now, :now FROM canonical_additions"),
            {"now": now},
        )
        conn.exec_driver_sql("DROP TABLE canonical_additions")
    elif added:
        conn.execute(insert(canonical_models), added)
    respelled = [
        {"row_id": existing[slug][0], "better": better, "now": now}
        for slug, hf_id in wanted.items()
        if slug in existing and (better := _preferred_spelling(hf_id, existing[slug][1])) != existing[slug][1]
    ]
    if respelled:
        conn.execute(
            update(canonical_models).where(canonical_models.c.id == bindparam("row_id")).values(hf_id=bindparam("better"), updated_at=bindparam("now")),
            respelled,
        )
    return {slug: row_id for row_id, slug, _ in _canonical_rows(conn, canonical_models.c.slug, list(wanted))}


def _canonical_rows(conn: Connection, column, values: list[Any]) -> list[tuple[int, str, str | None]]:
    """(id, slug, hf_id) of the canonical models whose `column` is one of `values`: those a refresh
    links to or from, not all of them (a catalog of 400k rows has some 130k)."""
    query = select(canonical_models.c.id, canonical_models.c.slug, canonical_models.c.hf_id)
    return [row for batch in batches(conn, values) for row in conn.execute(query.where(one_of(conn, column, batch))).all()]


def _preferred_spelling(candidate: str | None, current: str | None) -> str | None:
    """The Hub's own casing ('Llama-3.3') over a provider's lower-cased copy."""
    if candidate is None:
        return current
    if current is None or (current == current.lower() and candidate != candidate.lower()):
        return candidate
    return current
