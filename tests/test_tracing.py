"""OpenTelemetry, for real: `inovasi serve` with the OTEL_* variables exports its spans over
OTLP/HTTP to a receiver this test runs, with the incoming `traceparent`'s trace id."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from app.core.config import PROJECT_ROOT
from app.core.telemetry import tracing_requested
from tests.fixtures.servers import wait_until_live
from tests.test_serve import _env, _free_port, served_database  # noqa: F401 - the fixture

trace_service = pytest.importorskip(
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
    reason="the otel extra is not installed",
)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


class _Receiver(BaseHTTPRequestHandler):
    batches: list[Any]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            request = trace_service.ExportTraceServiceRequest()
            request.ParseFromString(body)
            self.batches.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[Any]]]:
    batches: list[Any] = []
    handler = type("Receiver", (_Receiver,), {"batches": batches})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], batches
    server.shutdown()
    server.server_close()


def _spans(batches: list[Any]) -> list[Any]:
    return [
        span
        for batch in batches
        for resource in batch.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def _attributes(span: Any) -> dict[str, Any]:
    return {a.key: a.value.string_value or a.value.int_value for a in span.attributes}


def test_without_the_variables_tracing_stays_off() -> None:
    assert not tracing_requested({})
    assert not tracing_requested({"OTEL_TRACES_EXPORTER": "none"})
    assert not tracing_requested(
        {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    )
    assert tracing_requested({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert tracing_requested({"OTEL_TRACES_EXPORTER": "otlp"})


def test_serve_exports_a_server_span_and_its_statements_with_the_traceparents_trace_id(
    served_database: URL,  # noqa: F811 - the fixture
    receiver: tuple[int, list[Any]],
) -> None:
    otlp_port, batches = receiver
    port = _free_port()
    env = _env(
        served_database,
        DB_POOL_SIZE="2",
        DB_READ_POOL_SIZE="1",
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{otlp_port}",
        OTEL_BSP_SCHEDULE_DELAY="100",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    env.pop("WEB_CONCURRENCY", None)
    process = subprocess.Popen(  # noqa: S603 - a fixed command, no shell
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_live(process, port)
        response = httpx.get(
            f"http://127.0.0.1:{port}/v1/innovations?limit=1",
            headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 15
        while True:
            spans = [s for s in _spans(batches) if s.trace_id.hex() == TRACE_ID]
            server = [s for s in spans if s.kind == s.SPAN_KIND_SERVER]
            database = [s for s in spans if _attributes(s).get("db.system") == "postgresql"]
            if server and database:
                break
            assert time.monotonic() < deadline, _spans(batches)
            time.sleep(0.2)
        assert _attributes(server[0])["http.route"] == "/v1/innovations"
        # Nothing of /livez (probes are not traced).
        assert not [s for s in _spans(batches) if "/livez" in s.name]
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    access = [line for line in output.splitlines() if '"/v1/innovations"' in line]
    assert access, output
    assert f'"trace_id": "{TRACE_ID}"' in access[0], access[0]
