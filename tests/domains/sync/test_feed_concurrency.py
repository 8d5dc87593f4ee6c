"""The changes feed with real, committed, overlapping transactions (docs/sync.md, "Reading it
without skipping anything"): a transaction that began writing first but commits last is held
back, then delivered, and no change is skipped or delivered twice.

Runs on a PostgreSQL server of its own (migrated and seeded here, deleted afterwards): nothing
it commits reaches the shared test database, and no other test's open transaction (another
pytest worker's, say) holds back the feed's horizon, which is the oldest open transaction of
the whole server. Reads through an app on that database with a secretariat key, as a consumer
would."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import insert, select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.core.pagination import CursorSigner
from app.db.session import create_engine, create_sessionmaker
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.domains.sync.repository import FeedPosition
from app.domains.sync.service import decode_cursor
from app.main import create_app
from app.models.enums import InstitutionKind, Role
from app.models.institutions import Institution, Unit
from app.models.sync import SyncChange
from tests.conftest import client_for, make_settings
from tests.fixtures.database import migrate, private_server, seed

FEED = "/v1/sync/changes"
Item = dict[str, Any]


@dataclass(frozen=True)
class Feed:
    """An app on the module's database, a secretariat key for it, and one institution."""

    engine: AsyncEngine
    client: httpx.AsyncClient
    headers: dict[str, str]
    institution_id: uuid.UUID
    signer: CursorSigner

    def at(self, cursor: str) -> FeedPosition:
        """Where a cursor the feed handed out stands."""
        return decode_cursor(cursor, self.signer).at

    async def read_on(self, cursor: str | None, **more: Any) -> tuple[list[Item], str]:
        """Follow next_cursor from `cursor` until has_more is false."""
        items: list[Item] = []
        for _ in range(1000):
            params: dict[str, Any] = {"limit": 1000, **more}
            if cursor is not None:
                params["cursor"] = cursor
            response = await self.client.get(FEED, params=params, headers=self.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                assert isinstance(cursor, str)
                return items, cursor
        raise AssertionError("the feed never reached its end")


@pytest.fixture(scope="module")
def sync_database_url() -> Iterator[URL]:
    with private_server(f"inovasi_sync_{os.getpid()}") as url:
        migrate(url)
        seed(url, make_settings(url))
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def feed(sync_database_url: URL) -> AsyncIterator[Feed]:
    settings = make_settings(sync_database_url)
    engine = create_engine(sync_database_url, settings, null_pool=True)
    async with create_sessionmaker(engine)() as session, session.begin():
        institution = Institution(
            name="Pemerintah Kota Medan", kind=InstitutionKind.pemkot, region_code="12.71"
        )
        session.add(institution)
        issued = await issue_api_key(
            session, None, ApiKeyCreate(name="sync test", role=Role.secretariat_admin)
        )
        await session.flush()
        institution_id = institution.id
    app = create_app(settings, engine=engine)
    try:
        async with client_for(app) as client:
            yield Feed(
                engine,
                client,
                {"Authorization": f"Bearer {issued.secret}"},
                institution_id,
                app.state.cursor_signer,
            )
    finally:
        await app.state.rate_limiter.aclose()
        await engine.dispose()


async def begin_writing(conn: AsyncConnection) -> int:
    """Begin a transaction on `conn` and give it its transaction id now."""
    await conn.begin()
    result = await conn.execute(text("SELECT (pg_current_xact_id()::text)::bigint"))
    xid: int = result.scalar_one()
    return xid


async def add_unit(conn: AsyncConnection, institution_id: uuid.UUID, name: str) -> uuid.UUID:
    unit_id = uuid.uuid4()
    await conn.execute(
        insert(Unit).values(id=unit_id, institution_id=institution_id, name=name, version=1)
    )
    return unit_id


async def test_a_late_commit_is_held_back_then_delivered_and_nothing_is_skipped(
    feed: Feed,
) -> None:
    """T1 writes first, T2 writes after it and commits first. While T1 is open the feed
    delivers neither (T2's id is above T1's, which holds the horizon); once T1 commits, reading
    on from the cursor handed out meanwhile delivers T1's change, then T2's, each exactly once.
    T1's log position is below T2's: a cursor by position alone, once past T2's change, would
    have skipped T1's."""
    _, start = await feed.read_on(None)

    async with feed.engine.connect() as t1, feed.engine.connect() as t2:
        xid1 = await begin_writing(t1)
        first = await add_unit(t1, feed.institution_id, "Dinas Pendidikan Kota Medan")
        xid2 = await begin_writing(t2)
        second = await add_unit(t2, feed.institution_id, "Dinas Kesehatan Kota Medan")
        await t2.commit()
        assert xid1 < xid2

        held, cursor = await feed.read_on(start)
        assert held == []
        # The cursor may move up to the horizon, never past the open transaction's changes.
        assert feed.at(cursor) < FeedPosition(xid1, 0)

        await t1.commit()

    delivered, end = await feed.read_on(cursor)
    assert [(item["id"], item["operation"], item["version"]) for item in delivered] == [
        (str(first), "upsert", 1),
        (str(second), "upsert", 1),
    ]
    again, _ = await feed.read_on(end)
    assert again == []

    async with feed.engine.connect() as conn:
        rows = await conn.execute(
            select(SyncChange.record_id, SyncChange.xid, SyncChange.position).where(
                SyncChange.record_id.in_([first, second])
            )
        )
        logged = {row.record_id: (row.xid, row.position) for row in rows}
    assert logged[first][0] == xid1
    assert logged[second][0] == xid2
    # The late commit's change sits below the early commit's in the log.
    assert logged[first][1] < logged[second][1]


async def test_the_cursor_moves_past_committed_changes_the_reader_is_not_shown(
    feed: Feed,
) -> None:
    """A reader of innovations only, while units change: its pages are empty, but its cursor
    moves past the units' changes once they are below the horizon (it does not scan them again
    on every poll). Its cursor is bound to the resources it read: asking it for units is a 400,
    as units' changes lie behind it."""
    _, start = await feed.read_on(None, resources="innovations")
    async with feed.engine.connect() as conn:
        xid = await begin_writing(conn)
        await add_unit(conn, feed.institution_id, "Dinas Perhubungan Kota Medan")
        await conn.commit()

    items, cursor = await feed.read_on(start, resources="innovations")
    assert items == []
    assert feed.at(cursor) > FeedPosition(xid, 2**62)
    assert feed.at(cursor) > feed.at(start)

    response = await feed.client.get(
        FEED, params={"cursor": cursor, "resources": "units"}, headers=feed.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "sync.cursor_resources_mismatch"
