"""The innovation lifecycle: draft -> published -> archived, what publishing requires, what a
published innovation must keep, deleting drafts, and If-Match on every state change."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import InnovationStatus, InstitutionKind, Role
from app.models.innovations import Innovation
from app.models.institutions import Unit
from tests.conftest import (
    COMPLETE_SECTIONS,
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
)
from tests.domains import assert_problem
from tests.fixtures.etag import if_match as with_current_etag

Headers = dict[str, str]
REQUIRED = [
    "/sections/summary",
    "/sections/background_and_aims",
    "/sections/novelty",
    "/sections/implementation",
    "/sections/significance_and_impact",
]


@pytest.fixture
async def dprd(make_institution: InstitutionFactory, make_unit: UnitFactory) -> Unit:
    medan = await make_institution(
        name="Pemerintah Kota Medan", kind=InstitutionKind.pemkot, region_code="12.71"
    )
    return await make_unit(medan, name="Sekretariat DPRD Kota Medan")


@pytest.fixture
async def operator(auth: KeyFactory, dprd: Unit) -> Headers:
    """The DPRD secretariat's unit operator: the one who writes its innovations."""
    return await auth(Role.unit_operator, unit_id=dprd.id)


async def stored(session: AsyncSession, innovation: Innovation) -> dict[str, Any]:
    """The stored row, read with a plain SELECT ({} when it is gone)."""
    columns = [c for c in Innovation.__table__.c if c.name not in ("search_vector",)]
    result = await session.execute(select(*columns).where(Innovation.id == innovation.id))
    found = result.one_or_none()
    return dict(found._mapping) if found is not None else {}


async def act(
    client: httpx.AsyncClient,
    innovation: Innovation,
    action: str,
    headers: Headers,
    if_match: str | None = None,
) -> httpx.Response:
    """POST .../publish or .../archive, or DELETE (action "delete")."""
    if if_match is not None:
        headers = {**headers, "If-Match": if_match}
    url = f"/v1/innovations/{innovation.id}"
    if action == "delete":
        return await client.delete(url, headers=await with_current_etag(client, url, headers))
    return await client.post(f"{url}/{action}", headers=headers)


# --- publish --------------------------------------------------------------------------------


async def test_unit_operator_publishes_a_complete_draft(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
) -> None:
    draft = await make_innovation(dprd)
    response = await act(client, draft, "publish", operator)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["version"]) == ("published", 2)
    assert body["published_at"] is not None
    assert body["archived_at"] is None
    assert response.headers["ETag"] == '"2"'
    row = await stored(session, draft)
    assert (row["status"], row["version"]) == (InnovationStatus.published, 2)
    assert row["published_at"] is not None
    anonymous = await client.get(f"/v1/innovations/{draft.id}")
    assert anonymous.status_code == 200, anonymous.text


async def test_publishing_an_empty_draft_lists_everything_missing_and_changes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
) -> None:
    draft = await make_innovation(dprd, sections={}, sdgs=[], implemented_date=None)
    before = await stored(session, draft)
    response = await act(client, draft, "publish", operator)
    body = assert_problem(response, 422, "innovation.not_publishable")
    assert [error["pointer"] for error in body["errors"]] == [
        *REQUIRED,
        "/sdgs",
        "/implemented_date",
    ]
    assert await stored(session, draft) == before


@pytest.mark.parametrize("missing", REQUIRED)
async def test_publishing_a_draft_without_one_required_section_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
    missing: str,
) -> None:
    name = missing.rsplit("/", 1)[1]
    sections = {k: v for k, v in COMPLETE_SECTIONS.items() if k != name}
    draft = await make_innovation(dprd, sections={**sections, "adaptability": "Mudah ditiru."})
    body = assert_problem(
        await act(client, draft, "publish", operator), 422, "innovation.not_publishable"
    )
    assert [error["pointer"] for error in body["errors"]] == [missing]
    assert (await stored(session, draft))["status"] is InnovationStatus.draft


async def test_optional_sections_are_not_needed_to_publish(
    client: httpx.AsyncClient, dprd: Unit, operator: Headers, make_innovation: InnovationFactory
) -> None:
    draft = await make_innovation(dprd, sections=dict(COMPLETE_SECTIONS))
    response = await act(client, draft, "publish", operator)
    assert response.status_code == 200, response.text
    assert response.json()["sections"]["adaptability"] is None


async def test_draft_written_through_the_api_is_published_once_complete(
    client: httpx.AsyncClient, dprd: Unit, operator: Headers
) -> None:
    body = {
        "unit_id": str(dprd.id),
        "title": "MAJATOKI",
        "acronym_expansion": "Mari Jaga Toilet Kita",
        "year_started": 2021,
        "is_digital": False,
        "stage": "penerapan",
    }
    created = await client.post("/v1/innovations", json=body, headers=operator)
    assert created.status_code == 201, created.text
    url = f"/v1/innovations/{created.json()['id']}"
    refused = await client.post(f"{url}/publish", headers=operator)
    assert_problem(refused, 422, "innovation.not_publishable", pointer="/sdgs")
    completion = {"sdgs": [6], "implemented_date": "2021-07-01", "sections": COMPLETE_SECTIONS}
    assert (
        await client.patch(
            url, json=completion, headers=await with_current_etag(client, url, operator)
        )
    ).status_code == 200
    published = await client.post(f"{url}/publish", headers=operator)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"


# --- invalid transitions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        (InnovationStatus.published, "publish", ["archive"]),
        (InnovationStatus.draft, "archive", ["publish"]),
        (InnovationStatus.archived, "publish", []),
        (InnovationStatus.archived, "archive", []),
    ],
)
async def test_action_not_allowed_from_the_current_status_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
    status: InnovationStatus,
    action: str,
    allowed: list[str],
) -> None:
    innovation = await make_innovation(dprd, status=status)
    before = await stored(session, innovation)
    body = assert_problem(
        await act(client, innovation, action, operator), 409, "innovation.invalid_transition"
    )
    assert body["current_status"] == status.value
    assert body["allowed_actions"] == allowed
    assert await stored(session, innovation) == before


async def test_publishing_twice_is_409(
    client: httpx.AsyncClient, dprd: Unit, operator: Headers, make_innovation: InnovationFactory
) -> None:
    draft = await make_innovation(dprd)
    assert (await act(client, draft, "publish", operator)).status_code == 200
    again = await act(client, draft, "publish", operator)
    body = assert_problem(again, 409, "innovation.invalid_transition")
    assert (body["current_status"], body["allowed_actions"]) == ("published", ["archive"])


# --- archive --------------------------------------------------------------------------------


async def test_archiving_a_published_innovation_takes_it_out_of_the_catalogue(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
) -> None:
    published = await make_innovation(dprd, status=InnovationStatus.published)
    published_at = (await stored(session, published))["published_at"]
    response = await act(client, published, "archive", operator)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["version"]) == ("archived", 2)
    assert body["archived_at"] is not None
    row = await stored(session, published)
    assert (row["status"], row["published_at"]) == (InnovationStatus.archived, published_at)
    assert row["archived_at"] is not None
    assert (await client.get(f"/v1/innovations/{published.id}")).status_code == 404
    owner = await client.get(f"/v1/innovations/{published.id}", headers=operator)
    assert owner.status_code == 200, owner.text


# --- a published innovation stays complete --------------------------------------------------


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"sections": {"summary": ""}}, "/sections/summary"),
        ({"sections": {"novelty": None}}, "/sections/novelty"),
        ({"sections": {"significance_and_impact": "  "}}, "/sections/significance_and_impact"),
        ({"sdgs": []}, "/sdgs"),
        ({"implemented_date": None}, "/implemented_date"),
    ],
)
@pytest.mark.parametrize("status", [InnovationStatus.published, InnovationStatus.archived])
async def test_patch_that_would_leave_a_published_innovation_incomplete_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
    change: dict[str, Any],
    pointer: str,
    status: InnovationStatus,
) -> None:
    innovation = await make_innovation(dprd, status=status)
    before = await stored(session, innovation)
    url = f"/v1/innovations/{innovation.id}"
    response = await client.patch(
        url,
        json={"title": "BARU", **change},
        headers=await with_current_etag(client, url, operator),
    )
    assert_problem(response, 422, "innovation.incomplete", pointer=pointer)
    assert await stored(session, innovation) == before


async def test_published_innovation_may_be_edited_while_it_stays_complete(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
) -> None:
    published = await make_innovation(dprd, status=InnovationStatus.published)
    change = {"sections": {"summary": "Ringkasan baru."}, "sdgs": [11, 16]}
    url = f"/v1/innovations/{published.id}"
    response = await client.patch(
        url, json=change, headers=await with_current_etag(client, url, operator)
    )
    assert response.status_code == 200, response.text
    row = await stored(session, published)
    assert (row["status"], row["sdgs"]) == (InnovationStatus.published, [11, 16])
    assert row["sections"]["summary"] == "Ringkasan baru."


# --- delete ---------------------------------------------------------------------------------


async def test_deleting_a_draft_removes_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
) -> None:
    draft = await make_innovation(dprd)
    response = await act(client, draft, "delete", operator)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert await stored(session, draft) == {}
    gone = await client.get(f"/v1/innovations/{draft.id}", headers=operator)
    assert_problem(gone, 404, "innovation.not_found")


@pytest.mark.parametrize("status", [InnovationStatus.published, InnovationStatus.archived])
async def test_deleting_anything_but_a_draft_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
    status: InnovationStatus,
) -> None:
    innovation = await make_innovation(dprd, status=status)
    body = assert_problem(
        await act(client, innovation, "delete", operator), 409, "innovation.not_a_draft"
    )
    assert body["current_status"] == status.value
    assert (await stored(session, innovation))["status"] is status


async def test_deleting_an_unknown_innovation_is_404(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await client.delete(f"/v1/innovations/{uuid.uuid4()}", headers=admin)
    assert_problem(response, 404, "innovation.not_found")


# --- If-Match on state changes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (InnovationStatus.draft, "publish"),
        (InnovationStatus.published, "archive"),
        (InnovationStatus.draft, "delete"),
    ],
)
async def test_state_change_with_a_stale_if_match_is_412_and_nothing_changes(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
    status: InnovationStatus,
    action: str,
) -> None:
    innovation = await make_innovation(dprd, status=status)
    before = await stored(session, innovation)
    response = await act(client, innovation, action, operator, if_match='"7"')
    assert assert_problem(response, 412, "innovation.version_mismatch")["current_version"] == 1
    assert await stored(session, innovation) == before


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        (InnovationStatus.draft, "publish", 200),
        (InnovationStatus.published, "archive", 200),
        (InnovationStatus.draft, "delete", 204),
    ],
)
async def test_state_change_with_the_current_if_match_applies(
    client: httpx.AsyncClient,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
    status: InnovationStatus,
    action: str,
    expected: int,
) -> None:
    innovation = await make_innovation(dprd, status=status)
    response = await act(client, innovation, action, operator, if_match='"1"')
    assert response.status_code == expected, response.text


async def test_weak_etag_in_if_match_never_matches(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
) -> None:
    draft = await make_innovation(dprd)
    response = await act(client, draft, "delete", operator, if_match='W/"1"')
    assert_problem(response, 412, "innovation.version_mismatch")
    assert (await stored(session, draft))["status"] is InnovationStatus.draft


async def test_publish_after_a_concurrent_edit_is_412(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dprd: Unit,
    operator: Headers,
    make_innovation: InnovationFactory,
) -> None:
    draft = await make_innovation(dprd)
    seen = (await client.get(f"/v1/innovations/{draft.id}", headers=operator)).headers["ETag"]
    edit = await client.patch(
        f"/v1/innovations/{draft.id}",
        json={"title": "E-RESES"},
        headers=await with_current_etag(client, f"/v1/innovations/{draft.id}", operator),
    )
    assert edit.status_code == 200, edit.text
    response = await act(client, draft, "publish", operator, if_match=seen)
    assert_problem(response, 412, "innovation.version_mismatch")
    assert (await stored(session, draft))["status"] is InnovationStatus.draft
