"""A real webhook receiver on 127.0.0.1: answers POSTs with scripted statuses (the last one
repeats) and records every body and its headers, whatever it answered."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]
    status: int


class WebhookReceiver:
    def __init__(self, *statuses: int) -> None:
        self._statuses = list(statuses) or [200]
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    status = receiver._statuses.pop(0) if len(receiver._statuses) > 1 else receiver._statuses[0]
                    receiver.deliveries.append(Delivery(body, dict(self.headers), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/hooks/catalog?token=url-token-0123456789"

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
