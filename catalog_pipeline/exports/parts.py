"""The export files put together from each provider's part, kept beside them between exports.

A provider's part of a file (its LiteLLM entries; its catalog.json models and the offers its
linked rows add to `canonical_models`) depends only on its own active rows, their links and the
canonical models' slugs. On PostgreSQL the database fingerprints those rows per provider (ids,
content hashes, price sighting times, links), and a part whose fingerprint is unchanged is read
back from its file instead of read from the catalog and spelled again, so an export after one
provider's sync spells that provider's rows only. The parts are joined in the order one read of
the whole catalog gives (provider slug, then model id, in the database's collation): the files are
byte for byte what `dumps_compact` of the whole document writes. The `canonical_models` section
sorts every provider's offers together: it is kept whole, under the fingerprints of every provider
and of the canonical models' Hugging Face ids, and spelled again when any of them moves. SQLite has
no fingerprint: every part is spelled on every export and none is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, Iterable

from sqlalchemy import Connection, func, select, text

from catalog_pipeline.db.schema import canonical_models, models, providers

from . import catalog_json, litellm
from .rows import active_rows
from .writer import dumps_compact

# Per provider: id, content hash (covers every exported model column), price sighting time and
# link of each row, hashed to 64 bits per row and summed (an aggregate in no order: no sort, no
# string of the whole provider). A row's canonical slug never changes (respelling changes hf_id,
# read afresh).
_FINGERPRINTS_SQL = (
    "SELECT p.slug, count(*), count(*) || ':' || sum(hashtextextended(concat(m.id, '|', m.content_hash, '|',"
    " m.price_observed_at, '|', m.canonical_model_id, '|', m.match_method, '|', m.match_confidence), 0))"
    " FROM models m JOIN providers p ON p.id = m.provider_id WHERE m.is_active {} GROUP BY p.slug ORDER BY p.slug"
)
_FINGERPRINTS, _FINGERPRINTS_OF = (text(_FINGERPRINTS_SQL.format(where)) for where in ("", "AND p.slug = ANY(:slugs)"))
# The canonical models' slugs and Hugging Face ids, which the `canonical_models` section also shows.
_CANONICAL_FINGERPRINT = text(
    "SELECT count(*) || ':' || coalesce(sum(hashtextextended(concat(slug, '|', hf_id), 0)), 0) FROM canonical_models"
)
_COPY_CHUNK = 1024 * 1024
_OFFERS = "offers"
# An offers part's first line: its rows' fingerprint and the format of its lines (`offer_line`), so a
# part kept in another format is spelled again, not misread; then, as its note, the digest of its
# lines, which the `canonical_models` section is kept under.
_OFFERS_FORMAT = "offer-lines-v3"
# The `canonical_models` section of catalog.json, kept under a name no provider slug can have (and
# that keep_only leaves alone): it is spelled from every provider's offers, so it is kept whole.
_SECTION = ".canonical_models"


def write_exports(conn: Connection, outputs: dict[str, Path]) -> int:
    """Each format of `outputs` to its file (through a partial file: a reader never sees half of
    one); returns the number of models written."""
    fingerprints = _fingerprints(conn)
    parts = {fmt: _Parts(Path(output)) for fmt, output in outputs.items()}
    pieces: dict[str, list[str | _KeptPiece]] = {fmt: [] for fmt in outputs}
    offers: list[str | _KeptPiece] = []  # each provider's offer lines, in slug order
    offer_digests: list[str] = []
    section: str | _KeptPiece | None = None
    try:
        for slug, (count, fingerprint) in fingerprints.items():
            kept, kept_offers, digest = _provider_pieces(conn, parts, slug, fingerprint)
            for fmt in outputs:
                pieces[fmt].append(kept[fmt])
            if "json" in outputs:
                offers.append(kept_offers)
                if kept_offers:  # a provider with no linked row adds nothing to the section
                    offer_digests.append(f"{slug}={digest}")
        if "json" in outputs:
            keeps_parts = conn.dialect.name == "postgresql" and all(f is not None for _, f in fingerprints.values())
            section_key = _section_key(conn, offer_digests) if keeps_parts else None
            section = parts["json"].kept(_SECTION, section_key) if section_key is not None else None
            if section is None:
                lines: list[list[str | None]] = []
                for piece in offers:
                    text = piece.text() if isinstance(piece, _KeptPiece) else piece
                    if text:
                        lines.extend(json.loads(f"[{text}]"))  # strings and nulls only
                section = catalog_json.canonical_section_text(lines, lambda slugs: _hf_ids(conn, slugs))
                parts["json"].write(_SECTION, section_key, section)
        layouts = {
            fmt: [("{", pieces[fmt], "}")] if fmt == "litellm" else [
                (_document_head(conn, list(fingerprints)) + ',"models":[', pieces[fmt], "]"),
                (',"canonical_models":', [section], "}"),  # a list: never empty text
            ]
            for fmt in outputs
        }
        # Each file on a thread of its own: copying the kept parts (hundreds of MB at 400,000 models)
        # is reads and writes, which leave the interpreter lock to the other file.
        with ThreadPoolExecutor(max_workers=len(outputs)) as pool:
            written = [pool.submit(_write_file, Path(output), layouts[fmt]) for fmt, output in outputs.items()]
            for future in written:
                future.result()
        for fmt in outputs:
            parts[fmt].keep_only(fingerprints)
    finally:
        for fmt_pieces in pieces.values():
            _close(fmt_pieces)
        _close(offers)
        _close([section])
    return sum(count for count, _ in fingerprints.values())


def spell_ahead(conn: Connection, outputs: dict[str, Path], slug: str) -> bool:
    """PostgreSQL: the provider's parts spelled now unless kept for its rows as they stand, so that
    the next export only copies them; True when they were spelled. Elsewhere nothing is kept."""
    if conn.dialect.name != "postgresql":
        return False
    fingerprints = _fingerprints(conn, [slug])
    if slug not in fingerprints:  # no active row: no part
        return False
    parts = {fmt: _Parts(Path(output)) for fmt, output in outputs.items()}
    kept, kept_offers, _ = _provider_pieces(conn, parts, slug, fingerprints[slug][1])
    spelled = not any(isinstance(piece, _KeptPiece) for piece in (*kept.values(), kept_offers))
    _close((*kept.values(), kept_offers))
    return spelled


def _provider_pieces(
    conn: Connection, parts: dict[str, "_Parts"], slug: str, fingerprint: str | None
) -> tuple[dict[str, "str | _KeptPiece"], "str | _KeptPiece", str | None]:
    """The provider's piece of each file and its offers, kept or else spelled (and kept for the
    next export), and the offers' digest."""
    kept: dict[str, str | _KeptPiece | None] = {fmt: parts[fmt].kept(slug, fingerprint) for fmt in parts}
    offers_key = fingerprint and f"{fingerprint} {_OFFERS_FORMAT}"
    kept_offers: str | _KeptPiece | None = parts["json"].kept(slug, offers_key, _OFFERS) if "json" in parts else ""
    if all(piece is not None for piece in (*kept.values(), kept_offers)):
        return kept, kept_offers, kept_offers.note if isinstance(kept_offers, _KeptPiece) else None
    _close((*kept.values(), kept_offers))
    spelled, offers = _spelled(conn, slug, parts)
    for fmt in parts:
        parts[fmt].write(slug, fingerprint, spelled[fmt])
    digest = _digest(offers)
    if "json" in parts:
        parts["json"].write(slug, offers_key, offers, _OFFERS, note=digest)
    return spelled, offers, digest


def _fingerprints(conn: Connection, slugs: list[str] | None = None) -> dict[str, tuple[int, str | None]]:
    """slug -> (active rows, fingerprint or None), for the providers with active rows (of `slugs`,
    or all), in slug order."""
    if conn.dialect.name == "postgresql":
        query = _FINGERPRINTS if slugs is None else _FINGERPRINTS_OF
        return {slug: (count, fingerprint) for slug, count, fingerprint in conn.execute(query, {"slugs": slugs})}
    query = (
        select(providers.c.slug, func.count()).join(models, models.c.provider_id == providers.c.id)
        .where(models.c.is_active.is_(True)).group_by(providers.c.slug).order_by(providers.c.slug)
    )
    return {slug: (count, None) for slug, count in conn.execute(query)}


def _section_key(conn: Connection, offer_digests: list[str]) -> str:
    """What the `canonical_models` section is spelled from: the offers of every provider that has
    any (each part's digest) and the canonical models' Hugging Face ids. A provider whose rows
    change without moving an offer (or that links no row) leaves it as it was."""
    spelled_from = ";".join(offer_digests) + "|" + conn.execute(_CANONICAL_FINGERPRINT).scalar_one()
    return f"section-v2:{hashlib.sha256(spelled_from.encode()).hexdigest()}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _spelled(conn: Connection, slug: str, formats: Iterable[str]) -> tuple[dict[str, str], str]:
    """The provider's parts spelled from its rows: each format's entries, and its offers."""
    rows = active_rows(conn, slug)
    spelled = {}
    for fmt in formats:
        if fmt == "litellm":
            spelled[fmt] = dumps_compact(litellm.build(rows))[1:-1]
        else:
            spelled[fmt] = dumps_compact([catalog_json.model_entry(row) for row in rows])[1:-1]
    linked = [catalog_json.offer_line(row) for row in rows if row["canonical_model"]]
    return spelled, json.dumps(linked, separators=(",", ":"))[1:-1]


def _document_head(conn: Connection, slugs: list[str]) -> str:
    """catalog.json up to its `models` list: the header without its closing brace."""
    return dumps_compact(catalog_json.header(_provider_entries(conn, slugs)))[:-1]


def _write_file(output: Path, layout: list[tuple[str, list[str | _KeptPiece], str]]) -> None:
    """The file through a partial one (a reader never sees half of it), joined piece by piece."""
    partial = output.with_name(f".{output.name}.partial")
    # Binary: a kept part is copied as the bytes it is, never decoded and encoded again.
    with partial.open("wb") as file:
        for opening, pieces, closing in layout:
            _join(file, opening, pieces, closing)
        file.write(b"\n")
    partial.replace(output)


def _join(file: BinaryIO, opening: str, pieces: list[str | _KeptPiece], closing: str) -> None:
    file.write(opening.encode())
    first = True
    for piece in pieces:
        if not piece:
            continue
        if not first:
            file.write(b",")
        if isinstance(piece, _KeptPiece):
            piece.copy_to(file)
        else:
            file.write(piece.encode())
        first = False
    file.write(closing.encode())


def _close(pieces) -> None:
    for piece in pieces:
        if isinstance(piece, _KeptPiece):
            piece.close()


def _provider_entries(conn: Connection, slugs: list[str]) -> list[dict[str, Any]]:
    query = select(providers.c.slug.label("provider"), providers.c.name.label("provider_name"), providers.c.base_url,
                   providers.c.kind, providers.c.last_synced_at).where(providers.c.slug.in_(slugs))
    return [catalog_json.provider_entry(dict(row)) for row in conn.execute(query).mappings()]


def _hf_ids(conn: Connection, slugs) -> dict[str, str | None]:
    # Only the canonical models that have one: most, named by a provider's id alone, have none.
    query = select(canonical_models.c.slug, canonical_models.c.hf_id).where(canonical_models.c.hf_id.is_not(None))
    known = dict(conn.execute(query).all())
    return {slug: known.get(slug) for slug in slugs}


class _Parts:
    """The parts of one export file: `.<file name>.parts/<provider>[.<kind>]`, each starting with
    the fingerprint of the rows it was spelled from."""

    def __init__(self, output: Path) -> None:
        self.directory = output.with_name(f".{output.name}.parts")

    def kept(self, slug: str, fingerprint: str | None, kind: str = "") -> "_KeptPiece | None":
        """The part as it lies in its file, when it was spelled from these rows; it is opened now,
        so a part another export replaces meanwhile is still this one. Its first line is the
        fingerprint, then a tab and the note it was written with, if any."""
        if fingerprint is None:
            return None
        try:
            file = self._path(slug, kind).open("rb")
        except FileNotFoundError:
            return None
        # The first line says which rows the part was spelled from: a stale part is not read.
        first_line = file.readline()
        key, _, note = first_line.rstrip(b"\n").partition(b"\t")
        if not first_line.endswith(b"\n") or key != fingerprint.encode():
            file.close()
            return None
        start = file.tell()
        return _KeptPiece(file, start, os.fstat(file.fileno()).st_size - start, note.decode())

    def write(self, slug: str, fingerprint: str | None, piece: str, kind: str = "", note: str = "") -> None:
        if fingerprint is None:
            return
        self.directory.mkdir(exist_ok=True)
        path = self._path(slug, kind)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        first_line = f"{fingerprint}\t{note}" if note else fingerprint
        partial.write_bytes(f"{first_line}\n{piece}".encode())
        partial.replace(path)

    def keep_only(self, slugs) -> None:
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            if not path.name.startswith(".") and path.name.split(".", 1)[0] not in slugs:
                path.unlink(missing_ok=True)

    def _path(self, slug: str, kind: str) -> Path:
        return self.directory / (f"{slug}.{kind}" if kind else slug)


class _KeptPiece:
    """A kept part's bytes after its fingerprint line, in a file opened when it was found."""

    def __init__(self, file: BinaryIO, start: int, size: int, note: str = "") -> None:
        self._file, self._start, self._size = file, start, size
        self.note = note

    def __bool__(self) -> bool:
        return self._size > 0

    def copy_to(self, output: BinaryIO) -> None:
        self._file.seek(self._start)
        left = self._size
        while left > 0:
            chunk = self._file.read(min(left, _COPY_CHUNK))
            if not chunk:
                raise OSError(f"{self._file.name} ended {left} bytes early")
            output.write(chunk)
            left -= len(chunk)

    def text(self) -> str:
        self._file.seek(self._start)
        return self._file.read(self._size).decode("utf-8")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "_KeptPiece":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
