"""A real HTTP server on 127.0.0.1 whose answers each test scripts, route by route."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts)
    drop_after: int | None = None  # close the socket after this many body bytes (reset mid-body)
    before_answer: Callable[[], None] | None = None  # runs in the request's thread first (wait on an event)
    # Sent with chunked encoding instead of `body`, one chunk per item, for as long as it yields.
    chunks: Callable[[], Iterable[bytes]] | None = None
    hold: threading.Event | None = None  # answer only once the test sets it (a provider mid-answer)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        # Fixtures decoded like the pipeline decodes hold Decimals; a JSON number is a double anyway.
        return json.dumps(self.body, default=_decimal_as_number).encode()


def _decimal_as_number(value: Any) -> float:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_reply(payload: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status=status, body=payload, headers={"Content-Type": "application/json", **headers})


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    client_port: int = 0  # the client's end of the connection (which process asked: peer_pid)


class FixtureServer:
    """`server.route("/v1/models", reply, reply2, ...)`: successive calls get successive replies;
    the last one repeats. `server.requests` records what arrived."""

    def __init__(self) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body are two writes: with Nagle's algorithm the body waits for the
            # client's delayed ACK of the headers, 40 ms per request on a kept-alive connection.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                server._record(Request(parts.path, parse_qs(parts.query), dict(self.headers), self.client_address[1]))
                reply = server._next_reply(parts.path)
                if reply.before_answer is not None:
                    reply.before_answer()
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.hold is not None:
                    reply.hold.wait(timeout=300)
                body = reply.encoded()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.chunks is not None:
                        self._send_chunked(reply.chunks())
                        return
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if reply.drop_after is not None:
                        self.wfile.write(body[: reply.drop_after])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send_chunked(self, chunks: Iterable[bytes]) -> None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in chunks:
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._routes[path] = list(replies)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            replies = self._routes.get(path)
            if not replies:
                return json_reply({"error": f"no route for {path}"}, status=404)
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def __enter__(self) -> "FixtureServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def peer_pid(client_port: int) -> int | None:
    """The process holding the loopback connection whose client end is `client_port` (Linux /proc),
    looked up while the request is open; None when no process holds it."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == client_port and int(fields[2].rsplit(":", 1)[1], 16) != client_port:
                    inode = fields[9]
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == target for fd in os.listdir(f"/proc/{pid}/fd")):
                return int(pid)
        except OSError:  # gone, or not ours to read
            continue
    return None

