"""What emitting an event adds to a write, and how many emails a minute the worker sends.

- **Emit overhead**: as bench/jobs.py's enqueue overhead, with `notifications.events.emit` of a
  realistic event (an entry returned: audience, a reason, three refs) instead of a bare job.
- **Emails a minute**: 1,000 emails of one mailing (each its own `email.send` job: render the
  templates in the recipient's language, SMTP to a local aiosmtpd server, mark it sent), sent by
  one worker, then by two (one process).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.notifications

Without BENCH_DATABASE_URL it uses the embedded PostgreSQL. A database
`inovasi_bench_notifications` is created (dropped first) on that server and dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

import app.domains.jobs.builtin  # noqa: F401 - registers every job kind
from app.core.config import Environment, Settings
from app.db.session import create_engine, create_sessionmaker
from app.db.url import embedded_server_url, ensure_database, to_async_url
from app.domains.jobs.kinds import REGISTRY
from app.domains.jobs.worker import Worker
from app.domains.notifications import audience, events
from app.domains.notifications.dispatch import queue_emails
from app.models.accounts import User
from app.models.enums import Role
from app.models.notifications import Mailing
from bench.jobs import write_overhead
from tests.fixtures.database import drop_database, migrate

WRITES = int(os.environ.get("BENCH_WRITES", "1000"))
EMAILS = int(os.environ.get("BENCH_EMAILS", "1000"))


class _Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.count += 1
        return "250 OK"


def _url() -> URL:
    given = os.environ.get("BENCH_DATABASE_URL")
    base = to_async_url(given) if given else embedded_server_url(Settings().embedded_pg_dir)
    return base.set(database="inovasi_bench_notifications")


def _settings(url: URL, smtp_port: int) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=url.render_as_string(hide_password=False),
        secret_key="bench-secret-key-0123456789abcdef0123456789",  # noqa: S106
        log_level="WARNING",
        jobs_poll_interval_seconds=0.05,
        email_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
    )


async def _emit_overhead(url: URL, settings: Settings) -> None:
    async def one_event(session: AsyncSession, institution_id: uuid.UUID) -> object:
        return await events.emit(
            session,
            "submission.returned",
            "submission",
            uuid.uuid4(),
            audience=[
                audience.unit_operators(uuid.uuid4()),
                audience.local_admins(institution_id),
            ],
            institution_id=institution_id,
            data={"reason": "Lengkapi bukti dukung anggaran dan regulasi."},
            refs={"innovation": uuid.uuid4(), "competition": uuid.uuid4()},
        )

    await write_overhead(url, settings, one_event, "emit", WRITES)


async def _emails(url: URL, settings: Settings, sink: _Sink, workers: int) -> None:
    engine = create_engine(url, settings)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("DELETE FROM jobs"))
        mailing = Mailing(
            subject="Jadwal wawancara, {{ name }}",
            body="Yth. {{ name }},\n\nTahap wawancara dimulai pekan depan.\n\nSalam.",
            audience={"kind": "hub_members", "hub_id": str(uuid.uuid4())},
            created_by_name="bench",
        )
        session.add(mailing)
        people = [
            User(
                email=f"penerima.{uuid.uuid4().hex[:12]}@example.go.id",
                name=f"Penerima {n}",
                role=Role.evaluator,
                password_hash="!",  # noqa: S106 - nobody signs in
                language="en" if n % 3 == 0 else None,
            )
            for n in range(EMAILS)
        ]
        session.add_all(people)
        await session.flush()
        await queue_emails(
            session,
            [
                {
                    "id": uuid.uuid4(),
                    "mailing_id": mailing.id,
                    "user_id": person.id,
                    "recipient": person.email,
                    "kind": "mailing",
                    "language": person.language or "id",
                    "message_id": f"<{uuid.uuid4().hex}@bench>",
                }
                for person in people
            ],
        )
    before = sink.count
    kinds = {"email.send": REGISTRY["email.send"]}
    started = time.perf_counter()
    await asyncio.gather(
        *(
            Worker(engine, settings, kinds=kinds, schedules=[]).run(until_idle=True)
            for _ in range(workers)
        )
    )
    elapsed = time.perf_counter() - started
    await engine.dispose()
    sent = sink.count - before
    rate = 60 * sent / elapsed
    print(f"{workers} worker(s): {sent} emails in {elapsed:.2f} s = {rate:,.0f} a minute")


async def _run(url: URL, settings: Settings, sink: _Sink) -> None:
    await _emit_overhead(url, settings)
    await _emails(url, settings, sink, 1)
    await _emails(url, settings, sink, 2)


def main() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    url = _url()
    asyncio.run(ensure_database(url, drop_first=True))
    migrate(url)
    try:
        asyncio.run(_run(url, _settings(url, port), sink))
    finally:
        drop_database(url)
        controller.stop()


if __name__ == "__main__":
    main()
