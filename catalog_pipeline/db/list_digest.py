"""Recognizing an unchanged re-sync without diffing it row by row (PostgreSQL).

A clean load (nothing held, no deactivation withheld) leaves the provider's rows exactly as its
list says, so loading the same list again onto the same rows changes nothing. The load records
both: a digest of the list (`fingerprints_digest`) and a fingerprint of the provider's rows as it
committed them (`catalog_state`), in `providers.list_digest`. The next load whose list and rows
give the same pair skips the diff: every model is unchanged, nothing is written but
`last_synced_at`.

The list digest is SHA-256 over the rows' fingerprints, which the load computes anyway, so it is
cheap; like them it is exact about the values, not about their spelling (`1.50` and `1.5` digest
apart), so a respelled list only misses the shortcut and takes the diff, which finds it unchanged.

The fingerprint covers each row's id, content hash, list fingerprint, activity and `updated_at`: a
writer that changes a row without going through the load (accepting a held price bumps
`updated_at` and clears the row's list fingerprint) makes the next load diff.
"""

from __future__ import annotations

import hashlib

import numpy as np
from sqlalchemy import Connection


def fingerprints_digest(fingerprints: np.ndarray) -> str:
    """Equal for two lists with the same rows in the same order (db/fingerprint.py)."""
    return hashlib.sha256(str(len(fingerprints)).encode() + b"\0" + fingerprints.astype("<i8").tobytes()).hexdigest()


def catalog_state(conn: Connection, provider_id: int) -> str:
    """Fingerprint of the provider's rows: their count and the sum of one 64-bit hash per row."""
    count, total = conn.exec_driver_sql(
        "SELECT count(*), coalesce(sum(hashtextextended(provider_model_id || E'\\t' || coalesce(content_hash, '')"
        " || E'\\t' || coalesce(list_fingerprint::text, '')"
        " || E'\\t' || is_active::text || E'\\t' || (extract(epoch FROM updated_at) * 1000000)::bigint::text, 0)::numeric), 0)"
        " FROM models WHERE provider_id = %(provider_id)s",
        {"provider_id": provider_id},
    ).one()
    return f"{count}:{total}"


def list_digest(conn: Connection, provider_id: int, digest: str) -> str:
    return f"{digest}:{catalog_state(conn, provider_id)}"
