"""Who sees which submission (list and get), the list's filters, sort and pages, and the CSV
export of an edition for whoever runs it."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from app.models.enums import CompetitionStatus
from tests.domains import assert_problem
from tests.domains.submissions.conftest import PATH, Edition, World, forbidden

S = CompetitionStatus
EXPORT_COLUMNS = [
    "submission_id",
    "competition_code",
    "group_code",
    "category_code",
    "innovation_id",
    "innovation_title",
    "institution_id",
    "institution_name",
    "unit_id",
    "unit_name",
    "status",
    "sent_at",
    "submitted_at",
    "screened_at",
    "screening_outcome",
    "screening_reason",
    "screening_note",
]


@dataclass
class Board:
    """Entries of the national KIPP edition (Medan's and Surabaya's) and of North Sumatra's
    provincial edition (Medan's), by name -> id."""

    provincial: Edition
    ids: dict[str, str]

    def of(self, *names: str) -> set[str]:
        return {self.ids[n] for n in names}


@pytest.fixture
async def b(w: World) -> Board:
    provincial = await w.edition(hub=w.hub_sumut)
    ids: dict[str, str] = {}
    for name, status in [
        ("m_draft", "draft"),
        ("m_awaiting", "awaiting_local_admin"),
        ("m_submitted", "submitted"),
        ("m_in", "screened_in"),
        ("m_out", "screened_out"),
    ]:
        ids[name] = (await w.at(status))["id"]
    source = await w.innovation(w.surabaya_unit)
    await w.award(source, "top_45")
    replication = await w.draft(
        await w.innovation(w.medan_unit2),
        w.local,
        group=w.kipp.replikasi,
        answers=w.kipp.answers(w.kipp.replikasi),
        source_innovation_id=str(source.id),
    )
    ids["m_replication"] = (await w.move(replication, "submitted", operator=w.local))["id"]
    sby = {"operator": w.operator_sby, "local": w.local_sby}
    for name, status in [("s_in", "screened_in"), ("s_draft", "draft")]:
        innovation = await w.innovation(w.surabaya_unit)
        entry = await w.draft(innovation, w.operator_sby)
        ids[name] = (await w.move(entry, status, **sby))["id"]
    entry = await w.draft(await w.innovation(), edition=provincial)
    ids["p_in"] = (await w.move(entry, "screened_in", screener=w.hub_admin_sumut))["id"]
    entry = await w.draft(await w.innovation(), edition=provincial)
    ids["p_draft"] = entry["id"]
    return Board(provincial, ids)


NATIONAL = [
    "m_draft",
    "m_awaiting",
    "m_submitted",
    "m_in",
    "m_out",
    "m_replication",
    "s_in",
    "s_draft",
]
MEDAN = [
    "m_draft",
    "m_awaiting",
    "m_submitted",
    "m_in",
    "m_out",
    "m_replication",
    "p_in",
    "p_draft",
]


async def listed(w: World, headers: dict[str, str], **params: Any) -> set[str]:
    """Every id the list gives the caller, over all pages."""
    found: list[str] = []
    query: dict[str, Any] = {"limit": 3, **params}
    while True:
        response = await w.client.get(PATH, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        found += [item["id"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        query["cursor"] = body["next_cursor"]
    assert len(found) == len(set(found)), "a page repeated an entry"
    return set(found)


def viewer(w: World, name: str) -> dict[str, str]:
    return {
        "anonymous": {},
        "evaluator": w.evaluator,
        "operator": w.operator,
        "operator2": w.operator2,
        "local": w.local,
        "regional": w.regional,
        "hub_admin": w.hub_admin_sumut,
        "admin": w.admin,
        "local_sby": w.local_sby,
    }[name]


# --- who sees what --------------------------------------------------------------------------


async def test_the_secretariat_sees_everything(w: World, b: Board) -> None:
    assert await listed(w, w.admin) == set(b.ids.values())
    for entry_id in b.ids.values():
        assert (await w.get(entry_id, w.admin)).status_code == 200


@pytest.mark.parametrize("name", ["operator", "operator2", "local", "regional"])
async def test_an_institution_sees_its_own_entries(w: World, b: Board, name: str) -> None:
    headers = viewer(w, name)
    assert await listed(w, headers) == b.of(*MEDAN)
    page = await w.client.get(PATH, params={"limit": 1}, headers=headers)
    assert "answers" not in page.json()["items"][0]  # the single entry carries them
    got = await w.get(b.ids["m_draft"], headers)
    assert got.status_code == 200, got.text
    assert got.json()["answers"] == w.kipp.answers()
    assert got.headers["ETag"] == '"1"'
    for other in ("s_in", "s_draft"):
        assert_problem(await w.get(b.ids[other], headers), 404, "submission.not_found")


async def test_a_hub_admin_sees_the_editions_its_hub_runs(w: World, b: Board) -> None:
    assert await listed(w, w.hub_admin_sumut) == b.of("p_in", "p_draft")
    assert (await w.get(b.ids["p_draft"], w.hub_admin_sumut)).status_code == 200
    assert_problem(await w.get(b.ids["m_in"], w.hub_admin_sumut), 404, "submission.not_found")
    jatim_admin = await w.hub_admin(w.hub_jatim)
    assert await listed(w, jatim_admin) == set()
    assert_problem(await w.get(b.ids["p_in"], jatim_admin), 404, "submission.not_found")


@pytest.mark.parametrize(
    "edition_status", [S.registration_open, S.evaluation, S.results_published, S.closed]
)
async def test_the_public_sees_screened_in_entries_once_results_are_out(
    w: World, b: Board, edition_status: CompetitionStatus
) -> None:
    await w.set_status(w.kipp, edition_status)
    public = edition_status in (S.results_published, S.closed)
    expected = b.of("m_in", "s_in") if public else set()
    for name in ("anonymous", "evaluator"):
        headers = viewer(w, name)
        assert await listed(w, headers) == expected, name
        for key, entry_id in b.ids.items():
            response = await w.get(entry_id, headers)
            if entry_id in expected:
                assert response.status_code == 200, response.text
                assert response.json()["status"] == "screened_in"
            else:
                assert response.status_code == 404, (name, key, response.text)
                assert_problem(response, 404, "submission.not_found")


async def test_an_unknown_submission_is_404(w: World) -> None:
    assert_problem(await w.get(str(uuid.uuid4())), 404, "submission.not_found")


# --- filters, sort, pages -------------------------------------------------------------------


async def test_filters(w: World, b: Board) -> None:
    kipp = w.kipp

    async def only(**params: Any) -> set[str]:
        return await listed(w, w.admin, **params)

    assert await only(competition_id=str(kipp.id)) == b.of(*NATIONAL)
    assert await only(competition_id=str(b.provincial.id)) == b.of("p_in", "p_draft")
    assert await only(group_id=str(kipp.replikasi.id)) == b.of("m_replication")
    assert await only(category_id=str(b.provincial.category.id)) == b.of("p_in", "p_draft")
    assert await only(status="draft") == b.of("m_draft", "s_draft", "p_draft")
    assert await only(status=["screened_in", "screened_out"]) == b.of(
        "m_in", "m_out", "s_in", "p_in"
    )
    assert await only(institution_id=str(w.surabaya.id)) == b.of("s_in", "s_draft")
    assert await only(region="35") == b.of("s_in", "s_draft")
    assert await only(region="35.78") == b.of("s_in", "s_draft")
    assert await only(region="12") == b.of(*MEDAN)
    assert await only(region="12.71") == b.of(*MEDAN)
    assert await only(region="11") == set()
    assert await only(round_id=str(kipp.round1.id)) == b.of(
        "m_submitted", "m_in", "m_out", "m_replication", "s_in"
    )
    assert await only(
        competition_id=str(kipp.id), status="screened_in", institution_id=str(w.medan.id)
    ) == b.of("m_in")


async def test_filters_stay_within_the_callers_reach(w: World, b: Board) -> None:
    assert await listed(w, w.local, institution_id=str(w.surabaya.id)) == set()
    assert await listed(w, w.hub_admin_sumut, competition_id=str(w.kipp.id)) == set()


async def test_sort_and_pages(w: World, b: Board) -> None:
    def ids(response: Any) -> list[str]:
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    newest = ids(await w.client.get(PATH, params={"limit": 100}, headers=w.admin))
    oldest = ids(
        await w.client.get(PATH, params={"limit": 100, "sort": "created_at"}, headers=w.admin)
    )
    assert newest == list(reversed(oldest))
    assert set(newest) == set(b.ids.values())
    first = await w.client.get(PATH, params={"limit": 4}, headers=w.admin)
    assert ids(first) == newest[:4]
    assert first.json()["has_more"] is True
    second = await w.client.get(
        PATH, params={"limit": 4, "cursor": first.json()["next_cursor"]}, headers=w.admin
    )
    assert ids(second) == newest[4:8]
    bad = await w.client.get(PATH, params={"sort": "title"}, headers=w.admin)
    assert bad.status_code == 422


# --- the export -----------------------------------------------------------------------------


def rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0] == EXPORT_COLUMNS
    return [dict(zip(EXPORT_COLUMNS, line, strict=True)) for line in lines[1:]]


async def test_the_secretariat_exports_an_edition(w: World, b: Board) -> None:
    response = await w.client.get(
        f"{PATH}/export", params={"competition_id": str(w.kipp.id)}, headers=w.admin
    )
    found = rows(response)
    assert {r["submission_id"] for r in found} == b.of(*NATIONAL)
    by_id = {r["submission_id"]: r for r in found}
    m_in = by_id[b.ids["m_in"]]
    expected = {
        "competition_code": "KIPP-UJI",
        "group_code": "umum",
        "category_code": "pelayanan_publik",
        "status": "screened_in",
        "institution_name": "Pemerintah Kota Medan",
        "unit_name": "Sekretariat DPRD Kota Medan",
        "screening_outcome": "in",
    }
    assert {k: m_in[k] for k in expected} == expected
    assert all(m_in[k] for k in ("sent_at", "submitted_at", "screened_at")), m_in
    got = (await w.get(b.ids["m_in"])).json()
    assert (m_in["innovation_id"], m_in["innovation_title"], m_in["institution_id"]) == (
        got["innovation_id"],
        got["innovation_title"],
        str(w.medan.id),
    )
    draft = by_id[b.ids["s_draft"]]
    assert (draft["status"], draft["sent_at"], draft["screening_outcome"]) == ("draft", "", "")
    assert draft["institution_name"] == "Pemerintah Kota Surabaya"
    assert by_id[b.ids["m_replication"]]["group_code"] == "replikasi"
    m_out = by_id[b.ids["m_out"]]
    assert (m_out["screening_outcome"], m_out["screening_reason"]) == ("out", "incomplete")


async def test_the_hub_admin_exports_its_own_edition_only(w: World, b: Board) -> None:
    response = await w.client.get(
        f"{PATH}/export", params={"competition_id": str(b.provincial.id)}, headers=w.hub_admin_sumut
    )
    assert {r["submission_id"] for r in rows(response)} == b.of("p_in", "p_draft")
    response = await w.client.get(
        f"{PATH}/export", params={"competition_id": str(w.kipp.id)}, headers=w.hub_admin_sumut
    )
    forbidden(response)


async def test_others_may_not_export(w: World, b: Board) -> None:
    for name in ("local", "operator", "regional", "evaluator"):
        response = await w.client.get(
            f"{PATH}/export", params={"competition_id": str(w.kipp.id)}, headers=viewer(w, name)
        )
        forbidden(response)


async def test_the_export_needs_an_edition(w: World) -> None:
    response = await w.client.get(f"{PATH}/export", headers=w.admin)
    assert_problem(response, 422, "validation_failed")
    anonymous = await w.client.get(f"{PATH}/export", params={"competition_id": str(w.kipp.id)})
    assert_problem(anonymous, 401, "auth.required")


async def test_the_public_does_not_see_what_the_institution_and_organiser_wrote(
    w: World,
) -> None:
    entry = await w.at("submitted")
    await w.ok(entry["id"], "screen", w.admin, outcome="in", reason="Lengkap dan tepat waktu.")
    await w.set_status(w.kipp, CompetitionStatus.results_published)
    inside = (await w.get(entry["id"], w.local)).json()
    assert inside["screening_note"] == "Lengkap dan tepat waktu."
    for headers in ({}, w.evaluator, w.local_sby):
        shown = (await w.get(entry["id"], headers)).json()
        assert shown["status"] == "screened_in"
        assert shown["screening_note"] is None
        listed: list[dict[str, Any]] = (
            await w.client.get("/v1/submissions", headers=headers)
        ).json()["items"]
        assert [(i["id"], i["screening_note"]) for i in listed] == [(entry["id"], None)]
    listed = (await w.client.get("/v1/submissions", headers=w.admin)).json()["items"]
    assert [i["screening_note"] for i in listed if i["id"] == entry["id"]] == [
        "Lengkap dan tepat waktu."
    ]
