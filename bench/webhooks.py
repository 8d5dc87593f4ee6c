"""Webhook deliveries a second to 100 local endpoints.

A receiver (uvicorn with a bare ASGI app answering 204, in a process of its own) serves 100
endpoint paths; 100 webhooks of one institution point at them, one each. Then:

- **backlog**: `BENCH_BACKLOG` (20) deliveries queued per endpoint (2,000 in all) and one
  `webhooks.deliver` job per endpoint; one worker, then two (one process), deliver them all
  (each signed, each attempt recorded);
- **events**: `BENCH_EVENTS` (20) workflow events emitted one per transaction (`events.emit`),
  each dispatched by `notifications.dispatch` and fanned out by the webhook hook to the 100
  endpoints, then delivered: from the first emit to the last delivery, one worker, then two.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.webhooks

Without BENCH_DATABASE_URL it uses the embedded PostgreSQL. A database
`inovasi_bench_webhooks` is created (dropped first) and dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL

import app.domains.jobs.builtin  # noqa: F401 - registers every kind
from app.core.config import Environment, Settings
from app.db.session import create_engine, create_sessionmaker
from app.db.url import embedded_server_url, ensure_database, to_async_url
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.domains.jobs.kinds import REGISTRY
from app.domains.jobs.worker import Worker
from app.domains.notifications import audience, events
from app.domains.webhooks import delivery, signing
from app.models.enums import InstitutionKind, Role
from app.models.institutions import Institution
from app.models.webhooks import Webhook, WebhookDelivery
from tests.fixtures.database import drop_database, migrate

ENDPOINTS = 100
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "20"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "20"))
KINDS = ("notifications.dispatch", "email.send", delivery.DELIVER)


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The receiver: read the body, answer 204."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _url() -> URL:
    given = os.environ.get("BENCH_DATABASE_URL")
    base = to_async_url(given) if given else embedded_server_url(Settings().embedded_pg_dir)
    return base.set(database="inovasi_bench_webhooks")


def _settings(url: URL) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=url.render_as_string(hide_password=False),
        secret_key="bench-secret-key-0123456789abcdef0123456789",  # noqa: S106 - a bench's
        log_level="WARNING",
        jobs_poll_interval_seconds=0.05,
        email_backend="log",
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_receiver(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable, "-m", "uvicorn", "bench.webhooks:receiver_app", "--port", str(port),
            "--log-level", "warning", "--no-access-log",
        ]
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the receiver did not start")


async def _setup(settings: Settings, url: URL, port: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    engine = create_engine(url, settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        institution = Institution(name="Kementerian Bench", kind=InstitutionKind.kementerian)
        session.add(institution)
        await session.flush()
        issued = await issue_api_key(
            session,
            None,
            ApiKeyCreate(name="bench", role=Role.regional_system, institution_id=institution.id),
        )
        hooks = [
            Webhook(
                owner_api_key_id=issued.key.id,
                owner_name="bench",
                institution_id=institution.id,
                url=f"http://127.0.0.1:{port}/hook/{n}",
                event_types=["submission.submitted"],
                secret_encrypted=signing.encrypt(settings.secret_key, signing.new_secret()),
            )
            for n in range(ENDPOINTS)
        ]
        session.add_all(hooks)
        await session.flush()
        ids = [hook.id for hook in hooks]
        institution_id = institution.id
    await engine.dispose()
    return institution_id, ids


async def _drain(url: URL, settings: Settings, workers: int) -> float:
    engine = create_engine(url, settings)
    kinds = {name: REGISTRY[name] for name in KINDS}
    started = time.perf_counter()
    await asyncio.gather(
        *(
            Worker(engine, settings, kinds=kinds, schedules=[]).run(until_idle=True)
            for _ in range(workers)
        )
    )
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed


async def _count(url: URL, settings: Settings) -> tuple[int, int]:
    engine = create_engine(url, settings)
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) "
                    "FROM webhook_deliveries"
                )
            )
        ).one()
    await engine.dispose()
    return int(row[0]), int(row[1])


async def _reset(url: URL, settings: Settings) -> None:
    engine = create_engine(url, settings)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM webhook_deliveries"))
        await conn.execute(text("DELETE FROM jobs"))
    await engine.dispose()


async def _backlog(url: URL, settings: Settings, hooks: list[uuid.UUID], workers: int) -> None:
    await _reset(url, settings)
    engine = create_engine(url, settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        session.add_all(
            WebhookDelivery(
                webhook_id=hook,
                message_id=f"bench_{n}",
                event_type="submission.submitted",
                payload={"type": "submission.submitted", "data": {"n": n}},
            )
            for n in range(BACKLOG)
            for hook in hooks
        )
        await session.flush()
        for hook in hooks:
            await delivery.queue_run(session, hook)
    await engine.dispose()
    elapsed = await _drain(url, settings, workers)
    done, total = await _count(url, settings)
    print(
        f"backlog, {workers} worker(s): {done}/{total} delivered in {elapsed:.2f} s = "
        f"{done / elapsed:.0f} deliveries/s"
    )


async def _events(url: URL, settings: Settings, institution_id: uuid.UUID, workers: int) -> None:
    await _reset(url, settings)
    engine = create_engine(url, settings)
    sessions = create_sessionmaker(engine)
    started = time.perf_counter()
    for _ in range(EVENTS):
        async with sessions() as session, session.begin():
            await events.emit(
                session,
                "submission.submitted",
                "submission",
                uuid.uuid4(),
                audience=[audience.local_admins(institution_id)],
                institution_id=institution_id,
                refs={"innovation": None, "competition": None},
            )
    await engine.dispose()
    await _drain(url, settings, workers)
    elapsed = time.perf_counter() - started
    done, total = await _count(url, settings)
    print(
        f"events, {workers} worker(s): {EVENTS} events to {ENDPOINTS} endpoints, {done}/{total} "
        f"delivered in {elapsed:.2f} s = {done / elapsed:.0f} deliveries/s"
    )


async def _run(url: URL, settings: Settings, port: int) -> None:
    institution_id, hooks = await _setup(settings, url, port)
    for workers in (1, 2):
        await _backlog(url, settings, hooks, workers)
    for workers in (1, 2):
        await _events(url, settings, institution_id, workers)


def main() -> None:
    url = _url()
    asyncio.run(ensure_database(url, drop_first=True))
    migrate(url)
    port = _free_port()
    receiver = _start_receiver(port)
    try:
        asyncio.run(_run(url, _settings(url), port))
    finally:
        receiver.kill()
        receiver.wait()
        drop_database(url)


if __name__ == "__main__":
    main()
