"""A worker killed in the middle of a delivery (SIGKILL while the receiver holds the request):
its lease lapses, another worker sends the delivery again with the same `webhook-id`, and
only the attempt that finished is recorded. On a database of its own (committed
transactions, a real `inovasi worker` process)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

import app.domains.jobs.builtin  # noqa: F401 - registers every kind
from app.core.config import Settings
from app.db.session import create_sessionmaker
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.domains.jobs.kinds import REGISTRY
from app.domains.jobs.worker import Worker
from app.domains.webhooks import delivery, signing
from app.models.enums import InstitutionKind, Role
from app.models.institutions import Institution
from app.models.webhooks import Webhook, WebhookAttempt, WebhookDelivery
from tests.conftest import TEST_SECRET, make_settings
from tests.domains.webhooks.receiver import Receiver
from tests.fixtures.database import drop_database, migrate, test_database_url

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


@pytest.fixture(scope="module")
def own_url() -> Iterator[URL]:
    url = test_database_url(f"inovasi_test_webhooks_{os.getpid()}")
    migrate(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
async def own_engine(own_url: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(own_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


async def test_a_worker_killed_mid_delivery_is_followed_by_the_same_webhook_id(
    own_url: URL, own_engine: AsyncEngine, receiver: Receiver
) -> None:
    settings: Settings = make_settings(own_url, jobs_lease_seconds=5)
    path = f"/hook/{uuid.uuid4().hex[:10]}"
    secret = signing.new_secret()
    sessions = create_sessionmaker(own_engine)
    async with sessions() as session, session.begin():
        institution = Institution(name="Kementerian Uji Webhook", kind=InstitutionKind.kementerian)
        session.add(institution)
        await session.flush()
        issued = await issue_api_key(
            session,
            None,
            ApiKeyCreate(name="SIPINTER", role=Role.regional_system, institution_id=institution.id),
        )
        webhook = Webhook(
            owner_api_key_id=issued.key.id,
            owner_name="SIPINTER",
            institution_id=institution.id,
            url=receiver.url(path),
            event_types=["record.innovations"],
            secret_encrypted=signing.encrypt(settings.secret_key, secret),
        )
        session.add(webhook)
        await session.flush()
        session.add(
            WebhookDelivery(
                webhook_id=webhook.id,
                message_id="chg_1_1",
                event_type="record.innovations",
                payload={"type": "record.innovations", "data": {}},
            )
        )
        await delivery.queue_run(session, webhook.id)
    release = receiver.hold(path)
    env = {
        **os.environ,
        "DATABASE_URL": own_url.render_as_string(hide_password=False),
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET,
        "JOBS_POLL_INTERVAL_SECONDS": "0.1",
        "JOBS_LEASE_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        [first] = await asyncio.to_thread(receiver.wait_for, path, 1, 60)
    finally:
        proc.kill()  # SIGKILL: no shutdown, no job put back
        await asyncio.wait_for(proc.wait(), 10)
    del receiver._holds[path]
    release.set()
    async with own_engine.begin() as conn:
        # the lease lapses (sooner than its 5 s, so the test does not wait)
        leased = await conn.execute(
            text(
                "UPDATE jobs SET locked_until = now() - interval '1 second' "
                "WHERE kind = :kind AND status = 'running'"
            ),
            {"kind": delivery.DELIVER},
        )
        assert leased.rowcount == 1  # type: ignore[attr-defined]
    kinds = {delivery.DELIVER: REGISTRY[delivery.DELIVER]}
    await Worker(own_engine, settings, kinds=kinds, schedules=[]).run(until_idle=True)
    first_again, second = receiver.at(path)
    assert first_again is first
    assert second.message_id == first.message_id == "chg_1_1"
    first.verify(secret)
    second.verify(secret)
    async with sessions() as session:
        [found] = await session.scalars(select(WebhookDelivery))
        assert (found.status, found.attempts) == ("succeeded", 1)
        [attempt] = await session.scalars(select(WebhookAttempt))
        assert (attempt.attempt, attempt.status_code) == (1, 204)
