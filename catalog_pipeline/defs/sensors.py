"""Sensors. `catalog_change_notifier` POSTs new change-feed rows (db/changes.py) to a webhook.

Delivery is at least once, in change-id order: the sensor cursor holds the id of the last change
the receiver accepted (answered 2xx), and only an accepted batch moves it. A receiver that is
down gets the same batch, with the same change ids, on the next tick; nothing is skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import dagster as dg
import httpx
from sqlalchemy import Engine

from catalog_pipeline.db.changes import read_changes
from catalog_pipeline.settings import WEBHOOK_SECRET_ENV_VAR, WEBHOOK_URL_ENV_VAR, CatalogSettings, load_settings

from .resources import CatalogDatabase

SIGNATURE_HEADER = "X-Catalog-Signature-256"
BATCH_SIZE = 200
MAX_BATCHES_PER_TICK = 10
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Webhook:
    url: str | None
    secret: str | None


def webhook_from_settings(settings: CatalogSettings | None = None) -> Webhook:
    settings = settings or load_settings()
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return Webhook(settings.webhook_url, secret)


@dataclass(frozen=True)
class Delivery:
    cursor: int  # id of the last accepted change
    delivered: int
    failure: str | None = None


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver_changes(engine: Engine, webhook: Webhook, cursor: int, *, batch_size: int, max_batches: int) -> Delivery:
    delivered = 0
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        for _ in range(max_batches):
            batch = read_changes(engine, after_id=cursor, limit=batch_size)
            if not batch:
                break
            body = json.dumps({"changes": batch}, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json"}
            if webhook.secret:
                headers[SIGNATURE_HEADER] = signature(webhook.secret, body)
            try:
                answer = client.post(webhook.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                return Delivery(cursor, delivered, f"{type(exc).__name__} from {_where(webhook.url)}")
            if not 200 <= answer.status_code < 300:
                return Delivery(cursor, delivered, f"HTTP {answer.status_code} from {_where(webhook.url)}")
            cursor, delivered = batch[-1]["id"], delivered + len(batch)
    return Delivery(cursor, delivered)


def _where(url: str) -> str:
    """The receiver without path, query or credentials: a webhook URL often carries a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def build_change_notifier(
    *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES_PER_TICK, settings: CatalogSettings | None = None
) -> dg.SensorDefinition:
    """On by default when a webhook URL is set in `settings` (unset: read now); the URL itself is read at each tick."""

    @dg.sensor(
        name="catalog_change_notifier",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING if webhook_from_settings(settings).url else dg.DefaultSensorStatus.STOPPED,
        description=f"POSTs new catalog changes as JSON batches to ${WEBHOOK_URL_ENV_VAR} (off when unset),"
                    f" signed with HMAC-SHA256 in {SIGNATURE_HEADER} when ${WEBHOOK_SECRET_ENV_VAR} is set.",
    )
    def catalog_change_notifier(context: dg.SensorEvaluationContext, catalog_db: CatalogDatabase) -> dg.SkipReason:
        webhook = webhook_from_settings()
        if not webhook.url:
            return dg.SkipReason(f"{WEBHOOK_URL_ENV_VAR} is not set")
        start = int(context.cursor or 0)
        delivery = deliver_changes(catalog_db.engine(), webhook, start, batch_size=batch_size, max_batches=max_batches)
        if delivery.cursor != start:
            context.update_cursor(str(delivery.cursor))
        if delivery.failure:
            return dg.SkipReason(
                f"delivered {delivery.delivered} changes, then the receiver failed ({delivery.failure});"
                f" changes after id {delivery.cursor} are sent again next tick"
            )
        return dg.SkipReason(f"delivered {delivery.delivered} changes; up to id {delivery.cursor}")

    return catalog_change_notifier

