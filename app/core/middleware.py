"""ASGI middleware: request body limits and media type, one access log line per request (with
the caller and the W3C trace id), unexpected errors logged once, and the 503 of a request still
running when the shutdown grace ends."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_response, unhandled_error_response
from app.core.metrics import METRICS_PATH, Metrics, route_template
from app.core.shutdown import Drain

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# W3C Trace Context, version 00: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16
access_log = structlog.get_logger("inovasi.access")
logger = logging.getLogger(__name__)
# The status the access log and the metrics give a request whose client went away before any
# response was sent (nginx's "client closed request"): not a failure of the service.
CLIENT_CLOSED_REQUEST = 499


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


# The one form-encoded endpoint: the OAuth 2 password grant (Swagger UI's Authorize sends it).
_FORM_PATHS = frozenset({"/v1/auth/token"})


def _is_token_form(scope: Scope, content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/x-www-form-urlencoded" and scope["path"] in _FORM_PATHS


class BodyGuardMiddleware:
    """Refuse bodies over the limit (413) and non-JSON bodies (415) before any handler runs.

    The body is read here, at most `max_bytes` of it (`larger` names path prefixes allowed
    more: the sync batches), and replayed to the application.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger: Mapping[str, int] | None = None,
        streamed: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})
        # Exact paths whose multipart bodies go to the route unread (it streams them to
        # storage and checks the size as they arrive); a declared length above the limit is
        # still refused here.
        self.streamed = dict(streamed or {})

    def _limit(self, path: str) -> int:
        for prefix, limit in self.larger.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        stream_limit = self.streamed.get(scope["path"])
        if stream_limit is not None and headers.get("content-type", "").lower().startswith(
            "multipart/form-data"
        ):
            declared = headers.get("content-length")
            # The form's other fields and boundaries add a little to the file's size.
            if declared is not None and declared.isdigit() and int(declared) > stream_limit + 65536:
                await self._too_large(scope, send, stream_limit)
                return
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get("content-type", "")
        if body and not _is_json(content_type) and not _is_token_form(scope, content_type):
            response = problem_response(
                None,
                415,
                "request.unsupported_media_type",
                "Send the request body as application/json.",
                instance=scope["path"],
            )
            await response(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        response = problem_response(
            None,
            413,
            "request.too_large",
            f"The request body is larger than {limit} bytes.",
            instance=scope["path"],
        )

        async def empty() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        await response(scope, empty, send)


def trace_id_of(scope: Scope) -> str | None:
    """The trace id of a valid W3C `traceparent` header (version 00), None otherwise.

    An invalid header (another version, upper-case hex, an all-zero trace or parent id) is
    ignored, as the specification asks of a receiver that cannot parse it.
    """
    for name, value in scope["headers"]:
        if name == b"traceparent":
            match = _TRACEPARENT.fullmatch(value.decode("latin-1").strip())
            if match is None or match[1] == _ZERO_TRACE or match[2] == _ZERO_PARENT:
                return None
            return match[1]
    return None


class TraceIds:
    """Where the access log reads a request's trace id: the current OpenTelemetry span's when
    tracing is on (`app.core.telemetry` sets `from_span`; the span continues a valid
    `traceparent`, so both agree), else the `traceparent` header's."""

    def __init__(self) -> None:
        self.from_span: Callable[[], str | None] | None = None

    def of(self, scope: Scope) -> str | None:
        if self.from_span is not None:
            found = self.from_span()
            if found is not None:
                return found
        return trace_id_of(scope)


def _caller(state: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The principal the route's policy admitted (`request.state.principal`, set by
    `app.core.security.Access`): its kind and id, both None for an anonymous caller."""
    principal = state.get("principal")
    if principal is None:
        return None, None
    return str(principal.kind), str(principal.id)


class AccessLogMiddleware:
    """One access log line and the request metrics per request, by route template.

    The line carries the client address (the proxy's `X-Forwarded-For` once uvicorn trusts it,
    `FORWARDED_ALLOW_IPS`), the caller the policy admitted (read from the request state: no
    lookup of its own) and the trace id of a valid `traceparent`, which is also bound to the
    structlog context for the request's other lines.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, trace_ids: TraceIds | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.trace_ids = trace_ids or TraceIds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        disconnected = False
        # The request's state dict: `request.state` inside the app is this same dict.
        state: dict[str, Any] = scope.setdefault("state", {})
        trace_id = self.trace_ids.of(scope)
        tokens = structlog.contextvars.bind_contextvars(trace_id=trace_id) if trace_id else None

        async def receive_wrapper() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics = self.metrics
        metrics.in_progress.inc()
        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            metrics.in_progress.dec()
            if not status:
                # No response: the client left first (before its body was all sent, say), or
                # the application failed without answering (a 500).
                status = CLIENT_CLOSED_REQUEST if disconnected else 500
            seconds = time.perf_counter() - started
            route = route_template(scope)
            if route != METRICS_PATH:
                metrics.observe(scope["method"], route or "none", status, seconds)
            client = scope.get("client")
            principal_kind, principal_id = _caller(state)
            # Below the configured level, structlog drops the line first (filter_by_level).
            access_log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 2),
                client=client[0] if client else None,
                principal_kind=principal_kind,
                principal_id=principal_id,
                trace_id=trace_id,
            )
            if tokens is not None:
                structlog.contextvars.reset_contextvars(**tokens)


class UnhandledErrorMiddleware:
    """The innermost middleware: an exception no handler took becomes a 500 problem, logged once;
    a request cancelled before it answered becomes a 503 `service.shutting_down`.

    Left to Starlette, it would reach ServerErrorMiddleware, outside every other middleware,
    which sends the 500 and then re-raises the exception so that the server (uvicorn) logs it
    again, without the request id. Here the error is logged once, with the request id, and the
    response passes through the request-id, CORS and access-log middleware like any other.
    An error after the response has started (a streamed body) cannot be answered: it is
    re-raised for the server to log and close the connection.

    A request is cancelled only when the process stops: on SIGTERM the requests in flight get
    SHUTDOWN_GRACE_SECONDS, then `drain` (app.core.shutdown) cancels the ones still running.
    Such a request, once its work is undone (its transaction rolled back), gets a 503 with
    `Retry-After` and `Connection: close` instead of a cut connection: the client retries, on
    another instance or on this one restarted.
    """

    def __init__(self, app: ASGIApp, drain: Drain | None = None) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.current_task()
        running = self.drain.running if self.drain is not None else None
        if running is not None and task is not None:
            running.add(task)
        try:
            await self.app(scope, receive, send_wrapper)
        except asyncio.CancelledError:
            if started or task is None:
                raise
            task.uncancel()  # answered here: the request ends normally
            logger.warning("request still running at the end of the shutdown grace: 503")
            stopping = problem_response(
                None,
                503,
                "service.shutting_down",
                "The service is shutting down and could not finish this request in time: "
                "retry it (a POST with the same Idempotency-Key).",
                headers={"Retry-After": "1", "Connection": "close"},
                instance=scope["path"],
            )
            await stopping(scope, receive, send)
        except Exception as exc:
            if started:
                raise
            response = unhandled_error_response(Request(scope), exc)
            await response(scope, receive, send)
        finally:
            if running is not None and task is not None:
                running.discard(task)
