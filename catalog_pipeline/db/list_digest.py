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

The rows' fingerprint changes with any write of any of them, whoever the writer (accepting a held
price, an operator's `UPDATE`): the next load then compares the list's row fingerprints with the
stored ones (db/fingerprint.py) and diffs those that differ.
"""

from __future__ import annotations

import hashlib

import numpy as np
from sqlalchemy import Connection


def fingerprints_digest(fingerprints: np.ndarray) -> str:
    """Equal for two lists with the same rows in the same order (db/fingerprint.py)."""
    return hashlib.sha256(str(len(fingerprints)).encode() + b"\0" + fingerprints.astype("<i8").tobytes()).hexdigest()


def catalog_state(conn: Connection, provider_id: int) -> str:
    """Fingerprint of the provider's rows as committed: their count and the sum of a 64-bit hash of
    each row's id and `xmin`, the transaction that wrote it. Any write of a row, by any writer,
    gives it a new `xmin`; nothing else does (freezing keeps it since PostgreSQL 9.4). A dump and
    restore rewrites them all: the next load then only misses the shortcut."""
    count, total = conn.exec_driver_sql(
        f"SELECT {STATE_AGGREGATES} FROM models WHERE provider_id = %(provider_id)s", {"provider_id": provider_id}
    ).one()
    return state_text(count, total)


# The rows' state as aggregates over `models` rows (with their system column `xmin`): a reader
# that scans the provider's rows anyway takes it in the same pass (db/load.py).
STATE_AGGREGATES = "count(*), coalesce(sum(hashint8extended(xmin::text::bigint, id)), 0)"


def state_text(count: int, total) -> str:
    return f"{count}:{total}"


def list_digest(conn: Connection, provider_id: int, digest: str) -> str:
    return f"{digest}:{catalog_state(conn, provider_id)}"
