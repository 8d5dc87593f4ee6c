"""The reference client (examples/sync_client.py) driven against the service: pushing a folder
of records through a network that loses responses, and pulling the feed into a file with a
resumable cursor."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
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

CLIENT_PATH = Path(__file__).resolve().parents[3] / "examples" / "sync_client.py"


def _load_client() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_client", CLIENT_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sync_client"] = module
    spec.loader.exec_module(module)
    return module


sync_client = _load_client()


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
