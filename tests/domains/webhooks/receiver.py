"""A real HTTP receiver of webhooks for tests: a threaded `http.server` on a free port of
127.0.0.1 that records every request and answers as a test scripts it (a status, headers, a
body; or holding a request until released, as a slow receiver does)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass(frozen=True)
class Reply:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    def verify(self, secret: str) -> Any:
        """The payload, if the signature verifies with `secret` (raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._replies: dict[str, list[Reply]] = {}
        self._holds: dict[str, threading.Event] = {}
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.arrived:
                    receiver.received.append(Received(self.path, headers, body))
                    receiver.arrived.notify_all()
                hold = receiver._holds.get(self.path)
                if hold is not None:
                    hold.wait(60)
                reply = receiver._next(self.path)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:  # the caller went away (a worker killed mid-request)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _next(self, path: str) -> Reply:
        queue = self._replies.get(path)
        return queue.pop(0) if queue else Reply()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to `path` with these, then 204."""
        self._replies.setdefault(path, []).extend(replies)

    def hold(self, path: str) -> threading.Event:
        """Keep requests to `path` waiting until the returned event is set."""
        event = self._holds[path] = threading.Event()
        return event

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 30) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.at(path)) >= count, timeout)
        found = self.at(path)
        assert len(found) >= count, f"{len(found)} requests to {path}, wanted {count}"
        return found

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        for event in self._holds.values():
            event.set()
        self.server.shutdown()
        self.server.server_close()


def running() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver
