"""The change notifier sensor against a real loopback receiver that fails, then accepts."""

from __future__ import annotations

import hashlib
import hmac
import json

import dagster as dg
import pytest

from catalog_pipeline.db.changes import read_changes
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.defs.resources import CatalogDatabase
from catalog_pipeline.defs.sensors import SIGNATURE_HEADER, build_change_notifier

from .change_scenarios import GROQ, load, model, produce_one_change_of_each_kind
from .webhook_receiver import WebhookReceiver

SECRET = "whsec-0123456789-abcdefghij"


def tick(sensor: dg.SensorDefinition, url: str, cursor: str | None) -> tuple[str | None, str]:
    """One evaluation as the daemon runs it; returns the new cursor and the skip message."""
    with dg.build_sensor_context(cursor=cursor, resources={"catalog_db": CatalogDatabase(url=url)}) as context:
        result = sensor(context)
        return context.cursor, result.skip_message


def test_every_change_arrives_in_order_once_the_receiver_comes_back(catalog_url, monkeypatch):
    produce_one_change_of_each_kind(catalog_url)
    all_ids = [row["id"] for row in reversed(read_changes(catalog_engine(catalog_url), limit=1000))]
    assert len(all_ids) == 13
    sensor = build_change_notifier(batch_size=5, max_batches=2)
    with WebhookReceiver(503, 500, 200) as receiver:
        monkeypatch.setenv("CATALOG_WEBHOOK_URL", receiver.url)
        monkeypatch.setenv("CATALOG_WEBHOOK_SECRET", SECRET)

        cursor, message = tick(sensor, catalog_url, None)
        assert cursor is None and "HTTP 503" in message and "sent again next tick" in message
        cursor, message = tick(sensor, catalog_url, cursor)
        assert cursor is None and "HTTP 500" in message
        cursor, message = tick(sensor, catalog_url, cursor)  # accepted: two batches, the bound per tick
        assert cursor == str(all_ids[9]) and "delivered 10 changes" in message
        cursor, message = tick(sensor, catalog_url, cursor)
        assert cursor == str(all_ids[12]) and "delivered 3 changes" in message
        cursor, message = tick(sensor, catalog_url, cursor)
        assert cursor == str(all_ids[12]) and "delivered 0 changes" in message

        # A later sync's changes follow on the next tick.
        load(catalog_engine(catalog_url), GROQ, model("g/x"), model("g/y"))
        cursor, _ = tick(sensor, catalog_url, cursor)

    bodies = [json.loads(d.body) for d in receiver.deliveries]
    attempts = [[c["id"] for c in body["changes"]] for body in bodies]
    assert [d.status for d in receiver.deliveries] == [503, 500, 200, 200, 200, 200]
    # The failed batch went out again with the same change ids and the same bytes.
    assert attempts[0] == attempts[1] == attempts[2] == all_ids[:5]
    assert receiver.deliveries[0].body == receiver.deliveries[2].body
    accepted = [i for d, ids in zip(receiver.deliveries, attempts) if d.status == 200 for i in ids]
    assert accepted[:13] == all_ids and len(accepted) == 14 and accepted[13] > all_ids[-1]
    assert bodies[-1]["changes"][0]["provider_model_id"] == "g/y" and bodies[-1]["changes"][0]["kind"] == "added"
    assert cursor == str(accepted[-1])
    first = bodies[2]["changes"][0]
    assert set(first) == {"id", "provider", "provider_model_id", "kind", "field", "old_value", "new_value", "run_id", "changed_at"}
    for delivery in receiver.deliveries:
        expected = "sha256=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert delivery.headers[SIGNATURE_HEADER] == expected
        assert delivery.headers["Content-Type"] == "application/json"


def test_no_url_means_off_and_an_unreachable_receiver_loses_nothing(sqlite_url, monkeypatch):
    produce_one_change_of_each_kind(sqlite_url)
    monkeypatch.delenv("CATALOG_WEBHOOK_URL", raising=False)
    cursor, message = tick(build_change_notifier(), sqlite_url, "4")
    assert (cursor, message) == ("4", "CATALOG_WEBHOOK_URL is not set")

    with WebhookReceiver(200) as receiver:
        gone = receiver.url  # the receiver stops at the end of this block: nothing listens any more
    monkeypatch.setenv("CATALOG_WEBHOOK_URL", gone)
    monkeypatch.delenv("CATALOG_WEBHOOK_SECRET", raising=False)
    cursor, message = tick(build_change_notifier(), sqlite_url, "4")
    assert cursor == "4" and "ConnectError from http://127.0.0.1:" in message
    assert "url-token" not in message and "/hooks" not in message

    with WebhookReceiver(200) as receiver:
        monkeypatch.setenv("CATALOG_WEBHOOK_URL", receiver.url)
        cursor, message = tick(build_change_notifier(), sqlite_url, "4")
    assert "delivered 9 changes" in message
    assert SIGNATURE_HEADER not in receiver.deliveries[0].headers  # no secret, no signature
    assert [c["id"] for c in json.loads(receiver.deliveries[0].body)["changes"]][0] == 5


@pytest.mark.parametrize("url_set", [True, False])
def test_the_sensor_is_on_by_default_only_with_a_url(url_set, monkeypatch):
    if url_set:
        monkeypatch.setenv("CATALOG_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    else:
        monkeypatch.delenv("CATALOG_WEBHOOK_URL", raising=False)
    expected = dg.DefaultSensorStatus.RUNNING if url_set else dg.DefaultSensorStatus.STOPPED
    assert build_change_notifier().default_status == expected
