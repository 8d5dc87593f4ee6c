"""The reference client (examples/sync_client.py) driven against the service: pushing a folder
of records through a network that loses responses, and pulling the feed into a file with a
resumable cursor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import InstitutionKind, Role
from app.models.innovations import Innovation
from app.models.institutions import Institution
from app.models.sync import SyncRun
from tests.conftest import COMPLETE_SECTIONS, InstitutionFactory, KeyFactory
from tests.fixtures.sync_client import load_sync_client

sync_client = load_sync_client()


class LosingTransport(httpx.AsyncBaseTransport):
    """Forwards every request, but loses the response of the first `lose` POSTs after the
    service has handled them (a dropped connection), and answers the first `busy` requests
    503 without forwarding them."""

    def __init__(self, inner: httpx.AsyncBaseTransport, lose: int = 0, busy: int = 0) -> None:
        self.inner = inner
        self.lose = lose
        self.busy = busy
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        if self.busy:
            self.busy -= 1
            return httpx.Response(503, headers={"Retry-After": "0"}, request=request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if request.method == "POST" and self.lose:
            self.lose -= 1
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


async def _no_wait(_: float) -> None:
    return None


def _records() -> list[dict[str, Any]]:
    innovation = {
        "title": "SIKULIN",
        "year_started": 2021,
        "implemented_date": "2021-07-01",
        "is_digital": True,
        "stage": "penerapan",
        "sdgs": [16],
        "sections": dict(COMPLETE_SECTIONS),
    }
    return [
        # The innovation comes first in the folder; its unit is applied first all the same.
        {
            "resource": "innovations",
            "external_id": "SIM-1",
            "unit_external_id": "DISDUK",
            **innovation,
            "status": "published",
        },
        {"resource": "units", "external_id": "DISDUK", "name": "Dinas Kependudukan"},
        {
            "resource": "innovations",
            "external_id": "SIM-2",
            "unit_external_id": "DISDUK",
            **innovation,
            "title": "SI-ANTRE",
        },
        # Invalid: no such unit.
        {
            "resource": "innovations",
            "external_id": "SIM-3",
            "unit_external_id": "NOPE",
            **innovation,
        },
    ]


@pytest.fixture
async def city(make_institution: InstitutionFactory) -> Institution:
    return await make_institution(
        name="Pemerintah Kota Medan", kind=InstitutionKind.pemkot, region_code="12.71"
    )


def _client_of(
    app_client: httpx.AsyncClient, headers: dict[str, str], transport: LosingTransport
) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


async def test_push_a_folder_through_lost_responses_applies_each_record_once(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    city: Institution,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    records = _records()
    # An innovation before its unit, in one batch; then one naming the unit pushed before,
    # and a bad one.
    (folder / "01-first.json").write_text(json.dumps([records[0], records[1]]))
    (folder / "02-second.json").write_text(json.dumps(records[2]))
    (folder / "03-bad.json").write_text(json.dumps(records[3]))
    headers = await auth(Role.regional_system, institution_id=city.id)
    # The first batch's response is lost twice and the service is busy once: the client
    # retries with the same Idempotency-Key, and the service replays instead of reapplying.
    transport = LosingTransport(client._transport, lose=2, busy=1)
    async with _client_of(client, headers, transport) as http:
        pusher = sync_client.SyncClient(http, sleep=_no_wait)
        results = await pusher.push(sync_client.read_records(folder), batch_size=2)

    assert transport.sent.count("POST /v1/sync/batch") == 2 + 2 + 1  # 2 lost, 1 busy, 2 batches
    totals = [result["totals"] for result in results]
    assert [(t["created"], t["invalid"]) for t in totals] == [(2, 0), (1, 1)]
    failed = sync_client.report(results)
    assert failed == 1
    assert "item 1 (innovations SIM-3): invalid sync.unknown_reference" in capsys.readouterr().out
    count = await session.scalar(
        select(func.count()).select_from(Innovation).where(Innovation.institution_id == city.id)
    )
    assert count == 2
    runs = await session.scalar(
        select(func.count()).select_from(SyncRun).where(SyncRun.institution_id == city.id)
    )
    assert runs == 2  # replays are not runs

    # Pushing the same folder again (a rerun after a crash) replays: nothing new is written.
    transport = LosingTransport(client._transport)
    async with _client_of(client, headers, transport) as http:
        again = await sync_client.SyncClient(http, sleep=_no_wait).push(
            sync_client.read_records(folder), batch_size=2
        )
    assert again == results


async def test_pull_resumes_from_the_stored_cursor(
    client: httpx.AsyncClient, auth: KeyFactory, city: Institution, tmp_path: Path
) -> None:
    headers = await auth(Role.regional_system, institution_id=city.id)
    state = tmp_path / "state.json"
    out = tmp_path / "changes.jsonl"
    transport = LosingTransport(client._transport)
    async with _client_of(client, headers, transport) as http:
        sync = sync_client.SyncClient(http, sleep=_no_wait)
        # Catch up with whatever the feed already holds.
        await sync.pull(state, lambda items: None)
        await sync.push(_records()[:3])
        assert await sync.pull(state, sync_client.append_changes(out)) == 3
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        assert {(c["resource"], c["external_id"]) for c in lines} == {
            ("units", "DISDUK"),
            ("innovations", "SIM-1"),
            ("innovations", "SIM-2"),
        }
        # Nothing new: nothing appended.
        assert await sync.pull(state, sync_client.append_changes(out)) == 0
        # A change is pulled once, from the stored cursor.
        changed = {**_records()[2], "title": "SI-ANTRE BARU"}
        await sync.push([changed])
        assert await sync.pull(state, sync_client.append_changes(out)) == 1
        last = json.loads(out.read_text().splitlines()[-1])
        assert (last["external_id"], last["version"], last["record"]["title"]) == (
            "SIM-2",
            2,
            "SI-ANTRE BARU",
        )


async def test_pull_resyncs_from_a_stored_cursor_the_feed_no_longer_accepts(
    client: httpx.AsyncClient, auth: KeyFactory, city: Institution, tmp_path: Path
) -> None:
    """A state file holding a cursor of the earlier unsigned format (base64 of
    "<xid>.<position>.<generation>"): the feed answers 400 `sync.invalid_cursor`, and the client
    reads again from the beginning, as after a 410."""
    headers = await auth(Role.regional_system, institution_id=city.id)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"cursor": "MS4wLjA"}))
    out = tmp_path / "changes.jsonl"
    transport = LosingTransport(client._transport)
    async with _client_of(client, headers, transport) as http:
        sync = sync_client.SyncClient(http, sleep=_no_wait)
        await sync.push(_records()[:3])
        assert await sync.pull(state, sync_client.append_changes(out)) >= 3
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {("units", "DISDUK"), ("innovations", "SIM-1")} <= {
        (c["resource"], c["external_id"]) for c in lines
    }
    assert json.loads(state.read_text())["cursor"] != "MS4wLjA"


async def test_a_refusal_is_raised_not_retried(
    client: httpx.AsyncClient, auth: KeyFactory, city: Institution
) -> None:
    headers = await auth(Role.local_admin, institution_id=city.id)  # may not push
    transport = LosingTransport(client._transport)
    async with _client_of(client, headers, transport) as http:
        with pytest.raises(sync_client.SyncError) as refused:
            await sync_client.SyncClient(http, sleep=_no_wait).push(_records()[:1])
    assert refused.value.status_code == 403
    assert transport.sent == ["POST /v1/sync/batch"]


class ScriptedTransport(httpx.AsyncBaseTransport):
    """Answers each request with the next of `script` (a status and headers, or None: the
    connection drops) without forwarding it; once the script is done, forwards to the app."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, script: list[tuple[int, dict[str, str]] | None]
    ) -> None:
        self.inner = inner
        self.script = list(script)
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        if not self.script:
            return await self.inner.handle_async_request(request)
        step = self.script.pop(0)
        if step is None:
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        status, headers = step
        body = json.dumps({"status": status, "code": "scripted", "detail": "scripted"})
        return httpx.Response(status, headers=headers, content=body, request=request)


class VirtualClock:
    """Time that passes only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_the_client_retries_unavailable_answers_and_dropped_connections_with_backoff(
    client: httpx.AsyncClient, auth: KeyFactory, city: Institution
) -> None:
    headers = await auth(Role.regional_system, institution_id=city.id)
    script: list[tuple[int, dict[str, str]] | None] = [
        (503, {"Retry-After": "3"}),  # the database restarting
        None,  # the connection dropped
        (502, {}),
        (429, {"Retry-After": "7"}),
        (504, {}),
    ]
    transport = ScriptedTransport(client._transport, script)
    clock = VirtualClock()
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers
    ) as http:
        pusher = sync_client.SyncClient(http, backoff=1.0, sleep=clock.sleep, clock=clock)
        results = await pusher.push(_records()[:2])
    assert results[0]["totals"]["created"] == 2
    assert transport.sent == 6
    slept = clock.slept
    assert len(slept) == 5
    assert slept[0] >= 3  # never sooner than Retry-After
    assert slept[3] >= 7
    # Otherwise exponential (1, 2, 4, 8, 16 s) with a jitter of +-50%.
    for attempt, seconds in ((2, slept[1]), (3, slept[2]), (5, slept[4])):
        assert 0.5 * 2 ** (attempt - 1) <= seconds < 1.5 * 2 ** (attempt - 1)


async def test_the_client_stops_retrying_when_its_budget_is_spent(
    client: httpx.AsyncClient, auth: KeyFactory, city: Institution
) -> None:
    headers = await auth(Role.regional_system, institution_id=city.id)
    transport = ScriptedTransport(client._transport, [(503, {"Retry-After": "1"})] * 100)
    clock = VirtualClock()
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers
    ) as http:
        pusher = sync_client.SyncClient(
            http, budget=60, backoff=1.0, max_delay=10, sleep=clock.sleep, clock=clock
        )
        with pytest.raises(sync_client.SyncError) as refused:
            await pusher.push(_records()[:2])
    assert refused.value.status_code == 503
    assert sum(clock.slept) <= 60
    assert max(clock.slept) < 15  # the cap (10 s) with its jitter
    assert transport.sent == len(clock.slept) + 1
    assert transport.sent > 5


async def test_a_dropped_connection_past_the_budget_is_raised(
    client: httpx.AsyncClient, auth: KeyFactory, city: Institution
) -> None:
    headers = await auth(Role.regional_system, institution_id=city.id)
    transport = ScriptedTransport(client._transport, [None] * 100)
    clock = VirtualClock()
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers
    ) as http:
        pusher = sync_client.SyncClient(http, budget=10, sleep=clock.sleep, clock=clock)
        with pytest.raises(httpx.TransportError):
            await pusher.push(_records()[:2])
    assert sum(clock.slept) <= 10
    assert transport.sent > 2


@pytest.mark.parametrize("status", [500, 400, 401, 404, 413, 422])
async def test_the_client_gives_up_at_once_on_a_500_or_another_4xx(
    client: httpx.AsyncClient, auth: KeyFactory, city: Institution, status: int
) -> None:
    headers = await auth(Role.regional_system, institution_id=city.id)
    transport = ScriptedTransport(client._transport, [(status, {"Retry-After": "1"})])
    clock = VirtualClock()
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers
    ) as http:
        pusher = sync_client.SyncClient(http, sleep=clock.sleep, clock=clock)
        with pytest.raises(sync_client.SyncError) as refused:
            await pusher.push(_records()[:2])
    assert refused.value.status_code == status
    assert transport.sent == 1
    assert clock.slept == []
