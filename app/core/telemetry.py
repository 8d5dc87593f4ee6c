"""OpenTelemetry tracing: on when the `otel` extra is installed and the standard OTEL_*
variables ask for it; otherwise nothing is imported and nothing changes.

Set up in each worker process (`app.main.app_factory` runs in each one, after the fork): the
SDK's own configurator reads the OTEL_* variables (exporter, endpoint, sampler, resource), and
the maintained instrumentations trace FastAPI's requests (server spans named by route template)
and asyncpg's statements (every statement of SQLAlchemy's sessions and of the hot reads on the
pool's driver connections) and httpx's outgoing requests. Only traces: metrics and logs stay
Prometheus and structured logs unless OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER say otherwise.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Mapping, MutableMapping

from fastapi import FastAPI

from app.core.middleware import TraceIds

logger = logging.getLogger(__name__)

# The variables whose presence turns tracing on (OTEL_SDK_DISABLED=true or
# OTEL_TRACES_EXPORTER=none keep it off).
_TRIGGERS = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)
# Probes and scrapes are not traced.
_EXCLUDED_URLS = "/metrics,/livez,/readyz"
_configured_pid: int | None = None


def tracing_requested(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER")
    if exporter is not None:
        return exporter.strip().lower() not in ("", "none")
    return any(environ.get(name) for name in _TRIGGERS)


def _current_trace_id() -> str | None:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _configure_process(environ: MutableMapping[str, str]) -> None:
    """The SDK's providers from the OTEL_* variables, once per process."""
    global _configured_pid
    if _configured_pid == os.getpid():
        return
    from opentelemetry.distro import OpenTelemetryConfigurator
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    environ.setdefault("OTEL_TRACES_EXPORTER", "otlp")
    environ.setdefault("OTEL_METRICS_EXPORTER", "none")
    environ.setdefault("OTEL_LOGS_EXPORTER", "none")
    # The extra ships the OTLP exporter over HTTP (protobuf), not gRPC's heavier one.
    environ.setdefault("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    environ.setdefault("OTEL_SERVICE_NAME", "inovasi")
    OpenTelemetryConfigurator().configure()  # type: ignore[no-untyped-call]
    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
    HTTPXClientInstrumentor().instrument()
    _configured_pid = os.getpid()


def install_tracing(app: FastAPI, environ: MutableMapping[str, str] | None = None) -> bool:
    """Trace `app` when the variables ask for it and the extra is installed; True if on."""
    environ = os.environ if environ is None else environ
    if not tracing_requested(environ):
        return False
    if importlib.util.find_spec("opentelemetry.instrumentation.fastapi") is None:
        logger.warning(
            "OTEL_* variables are set but the otel extra is not installed "
            "(pip install 'inovasi[otel]'): no traces are exported"
        )
        return False
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    _configure_process(environ)
    FastAPIInstrumentor.instrument_app(app, excluded_urls=_EXCLUDED_URLS)
    # The access log's trace id is the server span's: the traceparent's when one came.
    trace_ids: TraceIds = app.state.trace_ids
    trace_ids.from_span = _current_trace_id
    return True
