"""Hub maturity: instruments (weighted aspects of weighted questions whose options carry
scores; versioned by code and revision, frozen once published) and the hubs' yearly
assessments against them (answered with evidence by the hub's admins, verified or returned by
the secretariat), with their scores, who may do what and who sees what."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
import pytest

from app.models.enums import HubKind, HubStatus, Role
from app.models.hubs import Hub
from tests.domains import assert_problem
from tests.domains.hubs.conftest import Headers, World
from tests.fixtures.etag import if_match

S = HubStatus
CODE = "jipp-maturity"
EVIDENCE = {
    "title": "Peraturan Gubernur Sumatera Utara tentang Peta Jalan Inovasi Daerah",
    "url": "https://jdih.sumutprov.go.id/pergub-peta-jalan-inovasi.pdf",
}


def option(code: str, score: float, *, evidence: bool = False) -> dict[str, Any]:
    return {
        "code": code,
        "label": f"Pilihan {code} (skor {score})",
        "score": score,
        "requires_evidence": evidence,
    }


def question(code: str, weight: float, *options: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "text": f"Pertanyaan {code}?", "weight": weight, "options": list(options)}


def instrument_body(code: str = CODE, **overrides: Any) -> dict[str, Any]:
    """Planning (0.4: questions 0.1/0.2/0.7, so exact decimals matter) and dissemination (0.6:
    0.5/0.5). PLN-1 c and DSM-2 c need evidence. Scores by option:

    PLN-1 a 0, b 50, c 100*   PLN-2 a 0, b 40, c 80   PLN-3 a 10, b 60, c 90
    DSM-1 a 0, b 33.35, c 100 DSM-2 a 0, b 75, c 100*
    """
    return {
        "code": code,
        "name": "Instrumen Kematangan Simpul JIPP",
        "description": "Penilaian kematangan simpul Jaringan Inovasi Pelayanan Publik.",
        "aspects": [
            {
                "aspect": "planning",
                "name": "Perencanaan",
                "weight": 0.4,
                "questions": [
                    question(
                        "PLN-1",
                        0.1,
                        option("a", 0),
                        option("b", 50),
                        option("c", 100, evidence=True),
                    ),
                    question("PLN-2", 0.2, option("a", 0), option("b", 40), option("c", 80)),
                    question("PLN-3", 0.7, option("a", 10), option("b", 60), option("c", 90)),
                ],
            },
            {
                "aspect": "dissemination",
                "name": "Diseminasi",
                "weight": 0.6,
                "questions": [
                    question("DSM-1", 0.5, option("a", 0), option("b", 33.35), option("c", 100)),
                    question(
                        "DSM-2",
                        0.5,
                        option("a", 0),
                        option("b", 75),
                        option("c", 100, evidence=True),
                    ),
                ],
            },
        ],
        **overrides,
    }


def revision_2_aspects() -> list[dict[str, Any]]:
    """Revision 2 adds an evaluation aspect with one question (weights 0.4/0.4/0.2)."""
    aspects: list[dict[str, Any]] = copy.deepcopy(instrument_body()["aspects"])
    aspects[1]["weight"] = 0.4
    aspects.append(
        {
            "aspect": "evaluation",
            "name": "Evaluasi",
            "weight": 0.2,
            "questions": [question("EVL-1", 1, option("a", 0), option("b", 100))],
        }
    )
    return aspects


def answer(
    question_code: str, option_code: str, *, evidence: bool = False, comment: str | None = None
) -> dict[str, Any]:
    return {
        "question_code": question_code,
        "option_code": option_code,
        "evidence": [EVIDENCE] if evidence else [],
        "comment": comment,
    }


# The hub's full answer set and what it scores (computed by hand):
#   planning      = 0.1*100 + 0.2*40 + 0.7*60  = 10 + 8 + 42     = 60
#   dissemination = 0.5*33.35 + 0.5*75          = 16.675 + 37.5  = 54.175 (54.18 shown)
#   total         = 0.4*60 + 0.6*54.175         = 24 + 32.505    = 56.505 -> 56.51
# (binary floats give 56.50499..., so 56.51 proves the sums are decimal).
HUB_ANSWERS = [
    answer("PLN-1", "c", evidence=True, comment="Pergub Nomor 12 Tahun 2024."),
    answer("PLN-2", "b"),
    answer("PLN-3", "b"),
    answer("DSM-1", "b"),
    answer("DSM-2", "b"),
]
SELF_SCORE = 56.51


def field_messages(problem: dict[str, Any], pointer: str) -> list[str]:
    return [e["message"] for e in problem["errors"] if e.get("pointer") == pointer]


def by_code(assessment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["question_code"]: a for a in assessment["answers"]}


def aspects_of(assessment: dict[str, Any]) -> dict[str, tuple[float, float, float | None]]:
    return {
        a["aspect"]: (a["weight"], a["self_score"], a["verified_score"])
        for a in assessment["aspects"]
    }


# --- requests -------------------------------------------------------------------------------


async def create_instrument(w: World, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await w.client.post(
        "/v1/maturity-instruments", json=body or instrument_body(), headers=w.admin
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def transition(
    w: World, instrument_id: str, action: str, headers: Headers | None = None, **body: Any
) -> httpx.Response:
    return await w.client.post(
        f"/v1/maturity-instruments/{instrument_id}/transitions",
        json={"action": action, **body},
        headers=w.admin if headers is None else headers,
    )


async def published_instrument(w: World, body: dict[str, Any] | None = None) -> dict[str, Any]:
    instrument = await create_instrument(w, body)
    response = await transition(w, instrument["id"], "publish")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def assessments_path(hub: Hub, assessment_id: str | None = None, action: str = "") -> str:
    path = f"/v1/hubs/{hub.id}/assessments"
    if assessment_id is not None:
        path += f"/{assessment_id}"
    return path + (f"/{action}" if action else "")


async def open_assessment(
    w: World, hub: Hub, headers: Headers, instrument_id: str, year: int = 2025
) -> httpx.Response:
    return await w.client.post(
        assessments_path(hub),
        json={"period_year": year, "instrument_id": instrument_id},
        headers=headers,
    )


async def put_answers(
    w: World, hub: Hub, assessment_id: str, headers: Headers, answers: list[dict[str, Any]]
) -> httpx.Response:
    return await w.client.put(
        assessments_path(hub, assessment_id, "answers"),
        json={"answers": answers},
        headers=await if_match(w.client, assessments_path(hub, assessment_id, "answers"), headers),
    )


async def submit(w: World, hub: Hub, assessment_id: str, headers: Headers) -> httpx.Response:
    return await w.client.post(assessments_path(hub, assessment_id, "submit"), headers=headers)


async def review(
    w: World,
    hub: Hub,
    assessment_id: str,
    action: str,
    headers: Headers | None = None,
    **body: Any,
) -> httpx.Response:
    return await w.client.post(
        assessments_path(hub, assessment_id, "review"),
        json={"action": action, **body},
        headers=w.admin if headers is None else headers,
    )


async def get_assessment(
    w: World, hub: Hub, assessment_id: str, headers: Headers | None = None
) -> httpx.Response:
    return await w.client.get(assessments_path(hub, assessment_id), headers=headers or {})


async def listed(w: World, hub: Hub, headers: Headers | None = None, **params: Any) -> list[int]:
    response = await w.client.get(assessments_path(hub), params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return [a["period_year"] for a in response.json()["items"]]


class Setup:
    """A published instrument, the North Sumatra hub (active) and its admin's headers."""

    def __init__(self, w: World, hub: Hub, hub_admin: Headers, instrument: dict[str, Any]):
        self.w, self.hub, self.hub_admin, self.instrument = w, hub, hub_admin, instrument

    async def draft(self, year: int = 2025, answers: list[dict[str, Any]] | None = None) -> str:
        response = await open_assessment(
            self.w, self.hub, self.hub_admin, self.instrument["id"], year
        )
        assert response.status_code == 201, response.text
        assessment_id: str = response.json()["id"]
        if answers:
            put = await put_answers(self.w, self.hub, assessment_id, self.hub_admin, answers)
            assert put.status_code == 200, put.text
        return assessment_id

    async def submitted(self, year: int = 2025) -> str:
        assessment_id = await self.draft(year, HUB_ANSWERS)
        response = await submit(self.w, self.hub, assessment_id, self.hub_admin)
        assert response.status_code == 200, response.text
        return assessment_id

    async def returned(self, year: int = 2025) -> str:
        assessment_id = await self.submitted(year)
        response = await review(
            self.w, self.hub, assessment_id, "return", reason="Lengkapi bukti diseminasi."
        )
        assert response.status_code == 200, response.text
        return assessment_id

    async def verified(self, year: int = 2025) -> str:
        assessment_id = await self.submitted(year)
        response = await review(self.w, self.hub, assessment_id, "verify")
        assert response.status_code == 200, response.text
        return assessment_id


@pytest.fixture
async def s(w: World) -> Setup:
    hub = await w.hub()
    return Setup(w, hub, await w.hub_admin(hub), await published_instrument(w))


# --- instruments: creating and weights ------------------------------------------------------


async def test_the_secretariat_creates_revision_1_as_a_draft(w: World) -> None:
    response = await w.client.post(
        "/v1/maturity-instruments", json=instrument_body(), headers=w.admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/maturity-instruments/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (body["code"], body["revision"], body["status"]) == (CODE, 1, "draft")
    assert (body["published_at"], body["retired_at"]) == (None, None)
    planning, dissemination = body["aspects"]
    assert [q["weight"] for q in planning["questions"]] == [0.1, 0.2, 0.7]
    assert (planning["weight"], dissemination["weight"]) == (0.4, 0.6)
    assert planning["questions"][0]["options"][2] == option("c", 100, evidence=True)
    assert dissemination["questions"][0]["options"][1]["score"] == 33.35
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "create",
        "maturity_instrument",
        body["id"],
    )
    assert event.changes["revision"] == {"before": None, "after": 1}


def _break(body: dict[str, Any], how: str) -> None:
    planning = body["aspects"][0]
    if how == "aspects":
        planning["weight"] = 0.3
    elif how == "questions":
        planning["questions"][2]["weight"] = 0.8
    elif how == "question_code":
        body["aspects"][1]["questions"][0]["code"] = "PLN-2"
    elif how == "option_code":
        planning["questions"][0]["options"][1]["code"] = "a"
    elif how == "aspect":
        body["aspects"][1]["aspect"] = "planning"
    elif how == "one_option":
        planning["questions"][1]["options"] = [option("a", 0)]
    elif how == "score":
        planning["questions"][1]["options"][2]["score"] = 100.5
    elif how == "weight_places":
        planning["questions"][0]["weight"] = 0.12345
        planning["questions"][2]["weight"] = 0.67655


@pytest.mark.parametrize(
    ("how", "pointer", "message"),
    [
        ("aspects", "/aspects", "the weights of the aspects sum to 0.9, not 1"),
        ("questions", "/aspects/0", "the weights of the planning questions sum to 1.1, not 1"),
        ("question_code", "/aspects", "question code 'PLN-2' appears twice"),
        ("option_code", "/aspects/0/questions/0", "option code 'a' appears twice"),
        ("aspect", "/aspects", "aspect code 'planning' appears twice"),
        ("one_option", "/aspects/0/questions/1/options", "at least 2 items"),
        ("score", "/aspects/0/questions/1/options/2/score", "less than or equal to 100"),
        ("weight_places", "/aspects/0/questions/0/weight", "at most 4 decimal places"),
    ],
)
async def test_an_invalid_instrument_is_422_naming_the_problem(
    w: World, how: str, pointer: str, message: str
) -> None:
    body = instrument_body()
    _break(body, how)
    response = await w.client.post("/v1/maturity-instruments", json=body, headers=w.admin)
    problem = assert_problem(response, 422, "validation_failed", pointer=pointer)
    assert any(message in m for m in field_messages(problem, pointer)), problem
    listed_ = await w.client.get("/v1/maturity-instruments", headers=w.admin)
    assert listed_.json()["items"] == []


async def test_weights_are_summed_as_decimals(w: World) -> None:
    """0.7 + 0.2 + 0.1 and ten times 0.1 are 0.9999999999999999 in binary floats; the
    instrument is accepted. And three thirds written to four places are not 1."""
    assert sum([0.7, 0.2, 0.1]) != 1
    assert sum([0.1] * 10) != 1
    body = instrument_body()
    body["aspects"][0]["questions"].reverse()
    body["aspects"][1]["questions"] = [
        question(f"DSM-{i}", 0.1, option("a", 0), option("b", 100)) for i in range(10)
    ]
    created = await create_instrument(w, body)
    assert [q["weight"] for q in created["aspects"][0]["questions"]] == [0.7, 0.2, 0.1]
    body = instrument_body("thirds")
    body["aspects"][0]["questions"] = [
        question(f"T-{i}", 0.3333, option("a", 0), option("b", 100)) for i in range(3)
    ]
    response = await w.client.post("/v1/maturity-instruments", json=body, headers=w.admin)
    problem = assert_problem(response, 422, "validation_failed", pointer="/aspects/0")
    assert "sum to 0.9999, not 1" in field_messages(problem, "/aspects/0")[0]


async def test_a_draft_is_edited_and_its_weights_checked_again(w: World) -> None:
    instrument = await create_instrument(w)
    path = f"/v1/maturity-instruments/{instrument['id']}"
    aspects = instrument_body()["aspects"]
    aspects[1]["weight"] = 0.5
    bad = await w.client.patch(
        path, json={"aspects": aspects}, headers=await if_match(w.client, path, w.admin)
    )
    problem = assert_problem(bad, 422, "validation_failed", pointer="/aspects")
    assert "sum to 0.9, not 1" in field_messages(problem, "/aspects")[0]
    good = await w.client.patch(
        path,
        json={"name": "Instrumen Kematangan Simpul JIPP 2025", "aspects": revision_2_aspects()},
        headers={**w.admin, "If-Match": '"1"'},
    )
    assert good.status_code == 200, good.text
    assert good.headers["ETag"] == '"2"'
    assert [a["aspect"] for a in good.json()["aspects"]] == [
        "planning",
        "dissemination",
        "evaluation",
    ]
    stale = await w.client.patch(
        path, json={"name": "Nama Lain"}, headers={**w.admin, "If-Match": '"1"'}
    )
    problem = assert_problem(stale, 412, "maturity_instrument.version_mismatch")
    assert problem["current_version"] == 2


@pytest.mark.parametrize("field", ["name", "aspects"])
async def test_a_drafts_name_and_aspects_cannot_be_removed(w: World, field: str) -> None:
    instrument = await create_instrument(w)
    response = await w.client.patch(
        f"/v1/maturity-instruments/{instrument['id']}",
        json={field: None},
        headers=await if_match(w.client, f"/v1/maturity-instruments/{instrument['id']}", w.admin),
    )
    assert_problem(response, 422, "maturity_instrument.field_required", pointer=f"/{field}")


async def test_only_the_secretariat_writes_instruments(w: World) -> None:
    hub = await w.hub()
    hub_admin = await w.hub_admin(hub)
    local_admin = await w.auth(Role.local_admin, institution_id=w.sumut.id)
    for headers in (hub_admin, local_admin):
        response = await w.client.post(
            "/v1/maturity-instruments", json=instrument_body(), headers=headers
        )
        assert_problem(response, 403, "auth.role_forbidden")
    response = await w.client.post("/v1/maturity-instruments", json=instrument_body())
    assert_problem(response, 401, "auth.required")
    instrument = await create_instrument(w)
    assert_problem(await transition(w, instrument["id"], "publish", hub_admin), 403,
                   "auth.role_forbidden")  # fmt: skip
    response = await w.client.patch(
        f"/v1/maturity-instruments/{instrument['id']}",
        json={"name": "X Y"},
        headers=await if_match(w.client, f"/v1/maturity-instruments/{instrument['id']}", hub_admin),
    )
    assert_problem(response, 403, "auth.role_forbidden")


async def test_drafts_are_the_secretariats_only(w: World) -> None:
    published = await published_instrument(w)
    draft = await create_instrument(w, instrument_body("jipp-draft"))
    hub_admin = await w.hub_admin(await w.hub())
    for headers in ({}, hub_admin):
        response = await w.client.get(f"/v1/maturity-instruments/{draft['id']}", headers=headers)
        assert_problem(response, 404, "maturity_instrument.not_found")
        seen = await w.client.get(f"/v1/maturity-instruments/{published['id']}", headers=headers)
        assert seen.status_code == 200, seen.text
        items = (await w.client.get("/v1/maturity-instruments", headers=headers)).json()["items"]
        assert [i["id"] for i in items] == [published["id"]]
    items = (await w.client.get("/v1/maturity-instruments", headers=w.admin)).json()["items"]
    assert [i["id"] for i in items] == [draft["id"], published["id"]]  # by code
    got = await w.client.get(f"/v1/maturity-instruments/{draft['id']}", headers=w.admin)
    assert got.status_code == 200
    assert got.json()["status"] == "draft"


# --- instruments: versions ------------------------------------------------------------------


async def test_a_code_has_one_draft_at_a_time(w: World) -> None:
    first = await create_instrument(w)
    response = await w.client.post(
        "/v1/maturity-instruments", json=instrument_body(), headers=w.admin
    )
    assert_problem(response, 409, "maturity_instrument.draft_exists")
    assert (await transition(w, first["id"], "publish")).status_code == 200
    second = await create_instrument(w, instrument_body(aspects=revision_2_aspects()))
    assert (second["code"], second["revision"], second["status"]) == (CODE, 2, "draft")
    response = await w.client.post(
        "/v1/maturity-instruments", json=instrument_body(), headers=w.admin
    )
    assert_problem(response, 409, "maturity_instrument.draft_exists")
    other = await create_instrument(w, instrument_body("jipp-lain"))
    assert other["revision"] == 1


async def test_publishing_revision_2_retires_revision_1(w: World) -> None:
    first = await published_instrument(w)
    assert first["status"] == "published"
    assert first["published_at"] is not None
    second = await create_instrument(w, instrument_body(aspects=revision_2_aspects()))
    response = await transition(w, second["id"], "publish", reason="Menambah aspek evaluasi.")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "published"
    old = (await w.client.get(f"/v1/maturity-instruments/{first['id']}")).json()
    assert (old["status"], old["revision"]) == ("retired", 1)
    assert old["retired_at"] is not None
    assert old["aspects"] == first["aspects"]
    revisions = await w.client.get("/v1/maturity-instruments", params={"code": CODE})
    assert [(i["revision"], i["status"]) for i in revisions.json()["items"]] == [
        (1, "retired"),
        (2, "published"),
    ]
    published = await w.client.get("/v1/maturity-instruments", params={"status": "published"})
    assert [i["id"] for i in published.json()["items"]] == [second["id"]]
    events = {(e.action, e.entity_id): e for e in await w.events(response)}
    assert set(events) == {("retire", first["id"]), ("publish", second["id"])}
    retire = events[("retire", first["id"])]
    assert retire.changes["status"] == {"before": "published", "after": "retired"}
    assert retire.changes["reason"]["after"] == "Superseded by revision 2."
    publish = events[("publish", second["id"])]
    assert publish.changes["status"] == {"before": "draft", "after": "published"}
    assert publish.changes["reason"]["after"] == "Menambah aspek evaluasi."


@pytest.mark.parametrize("state", ["published", "retired"])
async def test_a_published_or_retired_revision_is_frozen(w: World, state: str) -> None:
    instrument = await published_instrument(w)
    if state == "retired":
        assert (await transition(w, instrument["id"], "retire")).status_code == 200
    path = f"/v1/maturity-instruments/{instrument['id']}"
    for response in (
        await w.client.patch(
            path, json={"name": "Instrumen Baru"}, headers=await if_match(w.client, path, w.admin)
        ),
        await w.client.patch(
            path,
            json={"aspects": revision_2_aspects()},
            headers=await if_match(w.client, path, w.admin),
        ),
        await w.client.delete(path, headers=await if_match(w.client, path, w.admin)),
    ):
        problem = assert_problem(response, 409, "maturity_instrument.frozen")
        assert problem["current_status"] == state
    got = (await w.client.get(path)).json()
    assert (got["name"], got["status"], got["aspects"]) == (
        instrument["name"],
        state,
        instrument["aspects"],
    )


async def test_a_draft_revision_can_be_deleted(w: World) -> None:
    instrument = await create_instrument(w)
    path = f"/v1/maturity-instruments/{instrument['id']}"
    stale = await w.client.delete(path, headers={**w.admin, "If-Match": '"7"'})
    assert_problem(stale, 412, "maturity_instrument.version_mismatch")
    response = await w.client.delete(path, headers={**w.admin, "If-Match": '"1"'})
    assert response.status_code == 204, response.text
    assert_problem(await w.client.get(path, headers=w.admin), 404, "maturity_instrument.not_found")
    (event,) = await w.events(response)
    assert (event.action, event.entity_type) == ("delete", "maturity_instrument")
    # the code is free again: its next draft is revision 1
    assert (await create_instrument(w))["revision"] == 1


@pytest.mark.parametrize(
    ("state", "action", "allowed"),
    [
        ("draft", "retire", ["publish"]),
        ("published", "publish", ["retire"]),
        ("retired", "publish", []),
        ("retired", "retire", []),
    ],
)
async def test_an_instrument_step_from_the_wrong_state_is_409(
    w: World, state: str, action: str, allowed: list[str]
) -> None:
    instrument = await create_instrument(w)
    if state != "draft":
        assert (await transition(w, instrument["id"], "publish")).status_code == 200
    if state == "retired":
        assert (await transition(w, instrument["id"], "retire")).status_code == 200
    problem = assert_problem(
        await transition(w, instrument["id"], action), 409, "maturity_instrument.invalid_transition"
    )
    assert (problem["current_status"], problem["allowed_actions"]) == (state, allowed)


# --- assessments: opening -------------------------------------------------------------------


async def test_a_hub_admin_opens_its_hubs_assessment_of_a_year(w: World, s: Setup) -> None:
    response = await open_assessment(w, s.hub, s.hub_admin, s.instrument["id"], 2025)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == assessments_path(s.hub, body["id"])
    assert response.headers["ETag"] == '"1"'
    assert (body["hub_id"], body["instrument_id"]) == (str(s.hub.id), s.instrument["id"])
    assert (body["period_year"], body["status"], body["version"]) == (2025, "draft", 1)
    assert (body["questions_total"], body["questions_answered"], body["answers"]) == (5, 0, [])
    assert (body["self_score"], body["total_score"]) == (None, None)
    assert aspects_of(body) == {"planning": (0.4, 0, None), "dissemination": (0.6, 0, None)}
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "create",
        "maturity_assessment",
        body["id"],
    )
    assert event.institution_id == w.sumut.id
    assert event.changes["period_year"] == {"before": None, "after": 2025}


async def test_a_designated_hub_is_assessed_too(w: World, s: Setup) -> None:
    hub = await w.hub(host=w.jatim, status=S.designated)
    response = await open_assessment(w, hub, await w.hub_admin(hub), s.instrument["id"])
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("status", [S.candidate, S.committed, S.inactive])
async def test_a_hub_outside_the_network_is_not_assessed(
    w: World, s: Setup, status: HubStatus
) -> None:
    hub = await w.hub(host=w.jatim, status=status)
    response = await open_assessment(w, hub, await w.hub_admin(hub), s.instrument["id"])
    problem = assert_problem(response, 409, "hub.not_assessable")
    assert problem["current_status"] == status.value


async def test_one_assessment_per_hub_and_year(w: World, s: Setup) -> None:
    first = await s.draft(2025)
    response = await open_assessment(w, s.hub, s.hub_admin, s.instrument["id"], 2025)
    assert_problem(response, 409, "assessment.duplicate_year", pointer="/period_year")
    other_year = await open_assessment(w, s.hub, s.hub_admin, s.instrument["id"], 2024)
    assert other_year.status_code == 201, other_year.text
    jatim = await w.hub(host=w.jatim)
    same_year = await open_assessment(w, jatim, await w.hub_admin(jatim), s.instrument["id"])
    assert same_year.status_code == 201, same_year.text
    items = (await w.client.get(assessments_path(s.hub), headers=s.hub_admin)).json()["items"]
    assert [(a["period_year"], a["id"]) for a in items] == [
        (2025, first),
        (2024, other_year.json()["id"]),
    ]


@pytest.mark.parametrize(
    ("year", "code", "pointer"),
    [
        (2027, "assessment.future_year", "/period_year"),
        (2018, "validation_failed", "/period_year"),
    ],
)
async def test_the_year_must_be_a_real_one(
    w: World, s: Setup, year: int, code: str, pointer: str
) -> None:
    response = await open_assessment(w, s.hub, s.hub_admin, s.instrument["id"], year)
    assert_problem(response, 422, code, pointer=pointer)


@pytest.mark.parametrize("state", ["draft", "retired", "missing"])
async def test_an_assessment_answers_a_published_instrument(w: World, s: Setup, state: str) -> None:
    if state == "missing":
        instrument_id = str(uuid.uuid4())
    else:
        instrument = await create_instrument(w, instrument_body("jipp-lain"))
        if state == "retired":
            assert (await transition(w, instrument["id"], "publish")).status_code == 200
            assert (await transition(w, instrument["id"], "retire")).status_code == 200
        instrument_id = instrument["id"]
    response = await open_assessment(w, s.hub, s.hub_admin, instrument_id)
    assert_problem(response, 422, "assessment.instrument_not_published", pointer="/instrument_id")
    assert await listed(w, s.hub, s.hub_admin) == []


# --- assessments: answering and scoring -----------------------------------------------------


async def test_answers_are_scored_with_aspect_subtotals(w: World, s: Setup) -> None:
    assessment_id = await s.draft()
    response = await put_answers(w, s.hub, assessment_id, s.hub_admin, HUB_ANSWERS[:2])
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["ETag"] == '"2"'
    assert (body["questions_answered"], body["version"]) == (2, 2)
    # planning so far: 0.1*100 + 0.2*40 = 18; dissemination unanswered
    assert aspects_of(body) == {"planning": (0.4, 18, None), "dissemination": (0.6, 0, None)}
    pln1 = by_code(body)["PLN-1"]
    assert pln1 == {
        "question_code": "PLN-1",
        "option_code": "c",
        "self_score": 100,
        "evidence": [EVIDENCE],
        "comment": "Pergub Nomor 12 Tahun 2024.",
        "verified_option_code": None,
        "verified_score": None,
        "verifier_note": None,
    }
    # the rest: the earlier answers stay, a re-sent one is replaced
    response = await put_answers(
        w, s.hub, assessment_id, s.hub_admin, [*HUB_ANSWERS[2:], answer("PLN-2", "c")]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["questions_answered"] == 5
    assert {c: a["option_code"] for c, a in by_code(body).items()} == {
        "PLN-1": "c",
        "PLN-2": "c",
        "PLN-3": "b",
        "DSM-1": "b",
        "DSM-2": "b",
    }
    # planning = 10 + 0.2*80 + 42 = 68; dissemination = 16.675 + 37.5 = 54.175 -> 54.18
    assert aspects_of(body) == {
        "planning": (0.4, 68, None),
        "dissemination": (0.6, 54.18, None),
    }
    assert body["self_score"] is None  # set on submission
    got = await get_assessment(w, s.hub, assessment_id, s.hub_admin)
    assert got.json()["aspects"] == body["aspects"]
    assert by_code(got.json()) == by_code(body)


async def test_answering_is_audited_per_question(w: World, s: Setup) -> None:
    assessment_id = await s.draft(answers=HUB_ANSWERS)
    response = await put_answers(
        w, s.hub, assessment_id, s.hub_admin, [HUB_ANSWERS[1], answer("DSM-1", "c")]
    )
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "answer",
        "maturity_assessment",
        assessment_id,
    )
    assert "answers.PLN-2" not in event.changes  # re-sent unchanged
    assert event.changes["answers.DSM-1"]["before"]["option_code"] == "b"
    assert event.changes["answers.DSM-1"]["after"]["option_code"] == "c"


@pytest.mark.parametrize(
    ("answers", "code", "pointers"),
    [
        ([answer("PLN-1", "b"), answer("PLN-9", "a")], "assessment.unknown_question",
         ["/answers/1/question_code"]),
        ([answer("PLN-2", "d")], "assessment.unknown_option", ["/answers/0/option_code"]),
        ([answer("XYZ", "a"), answer("PLN-2", "z")], "assessment.invalid",
         ["/answers/0/question_code", "/answers/1/option_code"]),
    ],
)  # fmt: skip
async def test_an_answer_outside_the_instrument_is_422(
    w: World, s: Setup, answers: list[dict[str, Any]], code: str, pointers: list[str]
) -> None:
    assessment_id = await s.draft()
    response = await put_answers(w, s.hub, assessment_id, s.hub_admin, answers)
    problem = assert_problem(response, 422, code)
    assert [e["pointer"] for e in problem["errors"]] == pointers
    got = (await get_assessment(w, s.hub, assessment_id, s.hub_admin)).json()
    assert (got["questions_answered"], got["version"]) == (0, 1)


async def test_an_option_is_unknown_with_its_question_named(w: World, s: Setup) -> None:
    assessment_id = await s.draft()
    response = await put_answers(w, s.hub, assessment_id, s.hub_admin, [answer("PLN-2", "d")])
    problem = assert_problem(response, 422, "assessment.unknown_option")
    assert problem["errors"][0]["message"] == (
        "Question PLN-2 has no option d; its options are a, b, c."
    )


async def test_evidence_is_a_titled_web_link(w: World, s: Setup) -> None:
    assessment_id = await s.draft()
    bad = {**answer("PLN-1", "c"), "evidence": [{"title": "SK", "url": "bukan-tautan"}]}
    response = await put_answers(w, s.hub, assessment_id, s.hub_admin, [bad])
    assert_problem(response, 422, "validation_failed", pointer="/answers/0/evidence/0/url")
    untitled = {**answer("PLN-1", "c"), "evidence": [{"url": EVIDENCE["url"]}]}
    response = await put_answers(w, s.hub, assessment_id, s.hub_admin, [untitled])
    assert_problem(response, 422, "validation_failed", pointer="/answers/0/evidence/0/title")


async def test_a_question_is_answered_once_per_request(w: World, s: Setup) -> None:
    assessment_id = await s.draft()
    response = await put_answers(
        w, s.hub, assessment_id, s.hub_admin, [answer("PLN-2", "a"), answer("PLN-2", "b")]
    )
    assert_problem(response, 422, "validation_failed", pointer="/answers")


# --- assessments: submitting ----------------------------------------------------------------


async def test_submitting_needs_every_question_answered(w: World, s: Setup) -> None:
    assessment_id = await s.draft(answers=HUB_ANSWERS[:3])
    response = await submit(w, s.hub, assessment_id, s.hub_admin)
    problem = assert_problem(response, 422, "assessment.unanswered")
    assert [e["pointer"] for e in problem["errors"]] == ["/answers/DSM-1", "/answers/DSM-2"]
    got = (await get_assessment(w, s.hub, assessment_id, s.hub_admin)).json()
    assert (got["status"], got["self_score"], got["submitted_at"]) == ("draft", None, None)


async def test_submitting_needs_evidence_where_the_option_requires_it(w: World, s: Setup) -> None:
    no_evidence = [answer("PLN-1", "c"), *HUB_ANSWERS[1:4], answer("DSM-2", "c")]
    assessment_id = await s.draft(answers=no_evidence)
    problem = assert_problem(
        await submit(w, s.hub, assessment_id, s.hub_admin), 422, "assessment.evidence_required"
    )
    assert [e["pointer"] for e in problem["errors"]] == ["/answers/PLN-1", "/answers/DSM-2"]
    assert "Option c of PLN-1 needs evidence" in problem["errors"][0]["message"]
    # an option that needs none is fine without, the others once evidence is attached
    fixed = [answer("PLN-1", "c", evidence=True), answer("DSM-2", "b")]
    assert (await put_answers(w, s.hub, assessment_id, s.hub_admin, fixed)).status_code == 200
    response = await submit(w, s.hub, assessment_id, s.hub_admin)
    assert response.status_code == 200, response.text


async def test_missing_answers_and_evidence_are_listed_together(w: World, s: Setup) -> None:
    assessment_id = await s.draft(answers=[answer("PLN-1", "c"), *HUB_ANSWERS[1:3]])
    problem = assert_problem(
        await submit(w, s.hub, assessment_id, s.hub_admin), 422, "assessment.invalid"
    )
    assert {(e["pointer"], e["code"]) for e in problem["errors"]} == {
        ("/answers/PLN-1", "assessment.evidence_required"),
        ("/answers/DSM-1", "assessment.unanswered"),
        ("/answers/DSM-2", "assessment.unanswered"),
    }


async def test_submitting_sets_the_hubs_own_score(w: World, s: Setup) -> None:
    assessment_id = await s.draft(answers=HUB_ANSWERS)
    response = await submit(w, s.hub, assessment_id, s.hub_admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["self_score"], body["total_score"]) == (
        "submitted",
        SELF_SCORE,
        None,
    )
    assert body["submitted_at"] is not None
    assert aspects_of(body) == {
        "planning": (0.4, 60, None),
        "dissemination": (0.6, 54.18, None),
    }
    (event,) = await w.events(response)
    assert (event.action, event.entity_type) == ("submit", "maturity_assessment")
    assert event.changes["status"] == {"before": "draft", "after": "submitted"}
    assert event.changes["self_score"]["after"] == "56.51"


async def test_a_submitted_assessment_is_no_longer_the_hubs_to_edit(w: World, s: Setup) -> None:
    assessment_id = await s.submitted()
    response = await put_answers(w, s.hub, assessment_id, s.hub_admin, [answer("PLN-2", "c")])
    problem = assert_problem(response, 409, "assessment.not_editable")
    assert problem["current_status"] == "submitted"
    deleted = await w.client.delete(
        assessments_path(s.hub, assessment_id),
        headers=await if_match(w.client, assessments_path(s.hub, assessment_id), s.hub_admin),
    )
    assert_problem(deleted, 409, "assessment.not_draft")
    verified = await s.verified(2024)
    response = await put_answers(w, s.hub, verified, s.hub_admin, [answer("PLN-2", "c")])
    assert_problem(response, 409, "assessment.not_editable")


async def test_a_draft_assessment_can_be_deleted(w: World, s: Setup) -> None:
    assessment_id = await s.draft(answers=HUB_ANSWERS[:2])
    path = assessments_path(s.hub, assessment_id)
    stale = await w.client.delete(path, headers={**s.hub_admin, "If-Match": '"1"'})
    assert_problem(stale, 412, "assessment.version_mismatch")
    response = await w.client.delete(path, headers={**s.hub_admin, "If-Match": '"2"'})
    assert response.status_code == 204, response.text
    assert_problem(await w.client.get(path, headers=s.hub_admin), 404, "assessment.not_found")
    (event,) = await w.events(response)
    assert (event.action, event.entity_type) == ("delete", "maturity_assessment")
    # the year is free again
    assert (await open_assessment(w, s.hub, s.hub_admin, s.instrument["id"])).status_code == 201


# --- assessments: review --------------------------------------------------------------------


async def test_verifying_scores_the_verified_options(w: World, s: Setup) -> None:
    """Verified: PLN-3 b -> a (10), DSM-2 b -> c (100), PLN-2 kept with a note, the rest as the
    hub answered.
    planning      = 0.1*100 + 0.2*40 + 0.7*10 = 10 + 8 + 7     = 25
    dissemination = 0.5*33.35 + 0.5*100       = 16.675 + 50    = 66.675 (66.68 shown)
    total         = 0.4*25 + 0.6*66.675       = 10 + 40.005    = 50.005 -> 50.01"""
    assessment_id = await s.submitted()
    scores = [
        {"question_code": "PLN-3", "option_code": "a", "note": "Rencana kerja belum ditetapkan."},
        {"question_code": "DSM-2", "option_code": "c", "note": "Forum replikasi dua kali."},
        {"question_code": "PLN-2", "option_code": "b", "note": "Sesuai."},
    ]
    response = await review(w, s.hub, assessment_id, "verify", scores=scores)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["self_score"], body["total_score"]) == (
        "verified",
        SELF_SCORE,
        50.01,
    )
    assert body["verified_at"] is not None
    assert aspects_of(body) == {
        "planning": (0.4, 60, 25),
        "dissemination": (0.6, 54.18, 66.68),
    }
    answers = by_code(body)
    assert {c: (a["option_code"], a["self_score"]) for c, a in answers.items()} == {
        "PLN-1": ("c", 100),
        "PLN-2": ("b", 40),
        "PLN-3": ("b", 60),
        "DSM-1": ("b", 33.35),
        "DSM-2": ("b", 75),
    }
    assert {
        c: (a["verified_option_code"], a["verified_score"], a["verifier_note"])
        for c, a in answers.items()
    } == {
        "PLN-1": ("c", 100, None),
        "PLN-2": ("b", 40, "Sesuai."),
        "PLN-3": ("a", 10, "Rencana kerja belum ditetapkan."),
        "DSM-1": ("b", 33.35, None),
        "DSM-2": ("c", 100, "Forum replikasi dua kali."),
    }
    # the public sees the same
    public = await get_assessment(w, s.hub, assessment_id)
    assert public.status_code == 200, public.text
    assert (public.json()["total_score"], public.json()["aspects"]) == (50.01, body["aspects"])


async def test_verifying_without_rescoring_keeps_the_hubs_score(w: World, s: Setup) -> None:
    assessment_id = await s.submitted()
    response = await review(w, s.hub, assessment_id, "verify")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["self_score"], body["total_score"]) == (SELF_SCORE, SELF_SCORE)
    assert aspects_of(body) == {
        "planning": (0.4, 60, 60),
        "dissemination": (0.6, 54.18, 54.18),
    }
    assert all(a["verified_option_code"] == a["option_code"] for a in body["answers"])


async def test_review_is_audited_with_each_rescored_answer(w: World, s: Setup) -> None:
    assessment_id = await s.submitted()
    response = await review(
        w, s.hub, assessment_id, "verify",
        scores=[{"question_code": "PLN-3", "option_code": "a", "note": "Belum ditetapkan."}],
    )  # fmt: skip
    assert response.status_code == 200, response.text
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "verify",
        "maturity_assessment",
        assessment_id,
    )
    assert event.institution_id == w.sumut.id
    assert event.actor_role == "secretariat_admin"
    assert event.changes["status"] == {"before": "submitted", "after": "verified"}
    assert event.changes["total_score"] == {"before": None, "after": "42.51"}
    pln3 = event.changes["answers.PLN-3"]
    assert (pln3["before"]["verified_option_code"], pln3["after"]["verified_option_code"]) == (
        None,
        "a",
    )
    assert (pln3["before"]["option_code"], pln3["after"]["option_code"]) == ("b", "b")
    assert pln3["after"]["verifier_note"] == "Belum ditetapkan."
    # the answers kept as the hub gave them are verified too
    assert event.changes["answers.DSM-1"]["after"]["verified_option_code"] == "b"
    assert {k for k in event.changes if k.startswith("answers.")} == {
        f"answers.{a['question_code']}" for a in HUB_ANSWERS
    }


async def test_the_rescored_total_is_checked_by_hand(w: World, s: Setup) -> None:
    """PLN-3 b -> a only: planning = 10 + 8 + 7 = 25, dissemination 54.175:
    0.4*25 + 0.6*54.175 = 10 + 32.505 = 42.505 -> 42.51."""
    assessment_id = await s.submitted()
    response = await review(
        w, s.hub, assessment_id, "verify", scores=[{"question_code": "PLN-3", "option_code": "a"}]
    )
    assert response.json()["total_score"] == 42.51


async def test_returning_needs_a_reason(w: World, s: Setup) -> None:
    assessment_id = await s.submitted()
    response = await review(w, s.hub, assessment_id, "return")
    assert_problem(response, 422, "assessment.reason_required", pointer="/reason")
    got = (await get_assessment(w, s.hub, assessment_id, w.admin)).json()
    assert got["status"] == "submitted"


@pytest.mark.parametrize(
    ("scores", "code", "pointer"),
    [
        ([{"question_code": "PLN-9", "option_code": "a"}], "assessment.unknown_question",
         "/scores/0/question_code"),
        ([{"question_code": "PLN-1", "option_code": "a"},
          {"question_code": "PLN-2", "option_code": "x"}], "assessment.unknown_option",
         "/scores/1/option_code"),
    ],
)  # fmt: skip
async def test_a_score_outside_the_instrument_is_422(
    w: World, s: Setup, scores: list[dict[str, Any]], code: str, pointer: str
) -> None:
    assessment_id = await s.submitted()
    response = await review(w, s.hub, assessment_id, "verify", scores=scores)
    assert_problem(response, 422, code, pointer=pointer)
    got = (await get_assessment(w, s.hub, assessment_id, w.admin)).json()
    assert (got["status"], got["total_score"]) == ("submitted", None)
    assert all(a["verified_option_code"] is None for a in got["answers"])


async def test_return_edit_and_resubmit(w: World, s: Setup) -> None:
    assessment_id = await s.submitted()
    response = await review(
        w, s.hub, assessment_id, "return", reason="Lampirkan bukti forum replikasi.",
        scores=[
            {"question_code": "PLN-3", "option_code": "a", "note": "Belum ditetapkan."},
            {"question_code": "DSM-1", "option_code": "a", "note": "Tidak ada bukti."},
        ],
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["return_reason"]) == (
        "returned",
        "Lampirkan bukti forum replikasi.",
    )
    assert body["returned_at"] is not None
    assert body["total_score"] is None
    assert aspects_of(body)["planning"] == (0.4, 60, None)  # not verified: no verified subtotal
    (event,) = await w.events(response)
    assert event.action == "return"
    assert event.changes["reason"]["after"] == "Lampirkan bukti forum replikasi."
    assert {k for k in event.changes if k.startswith("answers.")} == {
        "answers.PLN-3",
        "answers.DSM-1",
    }

    # the hub revises DSM-1 (so the verifier's score of it goes) and leaves PLN-3 alone
    revised = answer("DSM-1", "c", comment="Forum replikasi 2025.")
    response = await put_answers(w, s.hub, assessment_id, s.hub_admin, [revised])
    assert response.status_code == 200, response.text
    answers = by_code(response.json())
    assert (answers["DSM-1"]["option_code"], answers["DSM-1"]["verified_option_code"]) == (
        "c",
        None,
    )
    assert answers["DSM-1"]["verified_score"] is None
    assert (answers["PLN-3"]["verified_option_code"], answers["PLN-3"]["verified_score"]) == (
        "a",
        10,
    )
    assert response.json()["status"] == "returned"

    # resubmitted: planning 60, dissemination 0.5*100 + 0.5*75 = 87.5, 0.4*60 + 0.6*87.5 = 76.5
    response = await submit(w, s.hub, assessment_id, s.hub_admin)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["self_score"]) == ("submitted", 76.5)
    # The reason was for the hub: the record (public once verified) no longer shows it.
    assert (response.json()["return_reason"], response.json()["returned_at"]) == (None, None)

    # verified as is: PLN-3 keeps the verifier's a (10), DSM-1 takes the hub's new c (100):
    # planning 25, dissemination 87.5, 0.4*25 + 0.6*87.5 = 10 + 52.5 = 62.5
    response = await review(w, s.hub, assessment_id, "verify")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["self_score"], body["total_score"]) == ("verified", 76.5, 62.5)
    assert {c: a["verified_option_code"] for c, a in by_code(body).items()} == {
        "PLN-1": "c",
        "PLN-2": "b",
        "PLN-3": "a",
        "DSM-1": "c",
        "DSM-2": "b",
    }


async def test_an_unchanged_answer_keeps_its_verified_option(w: World, s: Setup) -> None:
    """Re-sending an answer as it was is no change: the verifier's score of it stays."""
    assessment_id = await s.submitted()
    response = await review(
        w, s.hub, assessment_id, "return", reason="Perbaiki DSM-1.",
        scores=[{"question_code": "PLN-3", "option_code": "a", "note": "Belum ditetapkan."}],
    )  # fmt: skip
    assert response.status_code == 200, response.text
    response = await put_answers(w, s.hub, assessment_id, s.hub_admin, HUB_ANSWERS)
    assert response.status_code == 200, response.text
    pln3 = by_code(response.json())["PLN-3"]
    assert (pln3["verified_option_code"], pln3["verifier_note"]) == ("a", "Belum ditetapkan.")


@pytest.mark.parametrize(
    ("state", "step", "allowed"),
    [
        ("draft", "verify", ["submit"]),
        ("draft", "return", ["submit"]),
        ("returned", "verify", ["submit"]),
        ("verified", "verify", []),
        ("verified", "return", []),
        ("submitted", "submit", ["verify", "return"]),
        ("verified", "submit", []),
    ],
)
async def test_a_step_from_the_wrong_state_is_409(
    w: World, s: Setup, state: str, step: str, allowed: list[str]
) -> None:
    assessment_id = await {
        "draft": lambda: s.draft(answers=HUB_ANSWERS),
        "submitted": s.submitted,
        "returned": s.returned,
        "verified": s.verified,
    }[state]()
    if step == "submit":
        response = await submit(w, s.hub, assessment_id, s.hub_admin)
    else:
        response = await review(w, s.hub, assessment_id, step, reason="Alasan pengembalian.")
    problem = assert_problem(response, 409, "assessment.invalid_transition")
    assert (problem["current_status"], problem["allowed_actions"]) == (state, allowed)
    got = (await get_assessment(w, s.hub, assessment_id, w.admin)).json()
    assert got["status"] == state


# --- concurrency ----------------------------------------------------------------------------


async def test_stale_if_match_is_412_on_every_write(w: World, s: Setup) -> None:
    assessment_id = await s.draft(answers=HUB_ANSWERS)  # version 2
    stale = {**s.hub_admin, "If-Match": '"1"'}
    response = await put_answers(w, s.hub, assessment_id, stale, [answer("PLN-2", "c")])
    problem = assert_problem(response, 412, "assessment.version_mismatch")
    assert problem["current_version"] == 2
    assert_problem(await submit(w, s.hub, assessment_id, stale), 412, "assessment.version_mismatch")
    current = {**s.hub_admin, "If-Match": '"2"'}
    response = await submit(w, s.hub, assessment_id, current)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"3"'
    response = await review(w, s.hub, assessment_id, "verify", {**w.admin, "If-Match": '"2"'})
    assert_problem(response, 412, "assessment.version_mismatch")
    response = await review(w, s.hub, assessment_id, "verify", {**w.admin, "If-Match": '"3"'})
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"4"'
    cached = await w.client.get(
        assessments_path(s.hub, assessment_id), headers={"If-None-Match": '"4"'}
    )
    assert cached.status_code == 304


# --- who may do what ------------------------------------------------------------------------


async def hub_step(
    w: World, s: Setup, step: str, assessment_id: str, headers: Headers
) -> httpx.Response:
    """One of the hub's own steps on the North Sumatra hub's assessments, as `headers`."""
    if step == "create":
        return await open_assessment(w, s.hub, headers, s.instrument["id"], 2024)
    if step == "answer":
        return await put_answers(w, s.hub, assessment_id, headers, [answer("PLN-2", "c")])
    if step == "submit":
        return await submit(w, s.hub, assessment_id, headers)
    assert step == "delete"
    return await w.client.delete(
        assessments_path(s.hub, assessment_id),
        headers=await if_match(w.client, assessments_path(s.hub, assessment_id), headers),
    )


async def _other_hubs_admin(w: World) -> Headers:
    return await w.hub_admin(await w.hub(host=w.jatim))


@pytest.mark.parametrize("step", ["create", "answer", "submit", "delete"])
async def test_a_hub_admin_cannot_touch_another_public_hubs_assessment(
    w: World, s: Setup, step: str
) -> None:
    assessment_id = await s.draft(2025, HUB_ANSWERS)
    other = await _other_hubs_admin(w)
    response = await hub_step(w, s, step, assessment_id, other)
    assert_problem(response, 403, "hub.out_of_scope")
    got = (await get_assessment(w, s.hub, assessment_id, s.hub_admin)).json()
    assert (got["status"], got["version"]) == ("draft", 2)
    assert await listed(w, s.hub, s.hub_admin) == [2025]


@pytest.mark.parametrize("status", [S.candidate, S.committed])
async def test_a_hub_admin_does_not_see_another_hidden_hub(
    w: World, s: Setup, status: HubStatus
) -> None:
    hidden = await w.hub(host=w.kemenpan, status=status, kind=HubKind.central)
    other = await _other_hubs_admin(w)
    response = await open_assessment(w, hidden, other, s.instrument["id"])
    assert_problem(response, 404, "hub.not_found")
    response = await put_answers(w, hidden, str(uuid.uuid4()), other, [answer("PLN-2", "c")])
    assert_problem(response, 404, "hub.not_found")
    assert_problem(await w.client.get(assessments_path(hidden), headers=other), 404,
                   "hub.not_found")  # fmt: skip


async def test_an_assessment_is_reached_through_its_own_hub(w: World, s: Setup) -> None:
    assessment_id = await s.draft(answers=HUB_ANSWERS)
    jatim = await w.hub(host=w.jatim)
    jatim_admin = await w.hub_admin(jatim)
    response = await put_answers(w, jatim, assessment_id, jatim_admin, [answer("PLN-2", "c")])
    assert_problem(response, 404, "assessment.not_found")
    assert_problem(await submit(w, jatim, assessment_id, jatim_admin), 404, "assessment.not_found")
    assert_problem(await get_assessment(w, jatim, assessment_id, w.admin), 404,
                   "assessment.not_found")  # fmt: skip
    assert (await submit(w, s.hub, assessment_id, s.hub_admin)).status_code == 200
    assert_problem(await review(w, jatim, assessment_id, "verify"), 404, "assessment.not_found")


@pytest.mark.parametrize("step", ["create", "answer", "submit", "delete"])
async def test_the_secretariat_does_not_answer_for_the_hub(w: World, s: Setup, step: str) -> None:
    assessment_id = await s.draft(2025, HUB_ANSWERS)
    response = await hub_step(w, s, step, assessment_id, w.admin)
    assert_problem(response, 403, "auth.role_forbidden")
    got = (await get_assessment(w, s.hub, assessment_id, s.hub_admin)).json()
    assert (got["status"], got["version"]) == ("draft", 2)
    assert await listed(w, s.hub, w.admin) == [2025]


@pytest.mark.parametrize("action", ["verify", "return"])
async def test_a_hub_admin_cannot_review(w: World, s: Setup, action: str) -> None:
    assessment_id = await s.submitted()
    for headers in (s.hub_admin, await _other_hubs_admin(w)):
        response = await review(w, s.hub, assessment_id, action, headers, reason="Cukup baik.")
        assert_problem(response, 403, "auth.role_forbidden")
    response = await review(w, s.hub, assessment_id, action, {}, reason="Cukup baik.")
    assert_problem(response, 401, "auth.required")
    got = (await get_assessment(w, s.hub, assessment_id, s.hub_admin)).json()
    assert (got["status"], got["total_score"]) == ("submitted", None)


@pytest.mark.parametrize("viewer", ["anonymous", "other_hub_admin", "host_local_admin"])
async def test_outsiders_see_verified_assessments_only(w: World, s: Setup, viewer: str) -> None:
    ids = {
        2022: await s.draft(2022, HUB_ANSWERS),
        2023: await s.submitted(2023),
        2024: await s.returned(2024),
        2025: await s.verified(2025),
    }
    headers: Headers = {
        "anonymous": {},
        "other_hub_admin": await _other_hubs_admin(w),
        "host_local_admin": await w.auth(Role.local_admin, institution_id=w.sumut.id),
    }[viewer]
    for year in (2022, 2023, 2024):
        response = await get_assessment(w, s.hub, ids[year], headers)
        assert_problem(response, 404, "assessment.not_found")
    response = await get_assessment(w, s.hub, ids[2025], headers)
    assert response.status_code == 200, response.text
    assert response.json()["total_score"] == SELF_SCORE
    assert await listed(w, s.hub, headers) == [2025]
    assert await listed(w, s.hub, headers, status="draft") == []
    assert await listed(w, s.hub, headers, status=["submitted", "returned"]) == []


@pytest.mark.parametrize("viewer", ["hub_admin", "secretariat"])
async def test_the_hub_and_the_secretariat_see_every_assessment(
    w: World, s: Setup, viewer: str
) -> None:
    ids = {
        2022: await s.draft(2022, HUB_ANSWERS),
        2023: await s.submitted(2023),
        2024: await s.returned(2024),
        2025: await s.verified(2025),
    }
    headers = s.hub_admin if viewer == "hub_admin" else w.admin
    statuses = {}
    for year, assessment_id in ids.items():
        response = await get_assessment(w, s.hub, assessment_id, headers)
        assert response.status_code == 200, response.text
        statuses[year] = response.json()["status"]
    assert statuses == {2022: "draft", 2023: "submitted", 2024: "returned", 2025: "verified"}
    assert await listed(w, s.hub, headers) == [2025, 2024, 2023, 2022]
    assert await listed(w, s.hub, headers, sort="period_year") == [2022, 2023, 2024, 2025]
    assert await listed(w, s.hub, headers, status="returned") == [2024]
    assert await listed(w, s.hub, headers, period_year=2023) == [2023]


async def test_a_hidden_hubs_assessments_are_hidden(w: World, s: Setup) -> None:
    hidden = await w.hub(host=w.jatim, status=S.committed)
    assert_problem(await w.client.get(assessments_path(hidden)), 404, "hub.not_found")
    # its own admin sees the (empty) list
    assert await listed(w, hidden, await w.hub_admin(hidden)) == []


# --- versions and years ---------------------------------------------------------------------


async def test_earlier_years_keep_their_revision(w: World, s: Setup) -> None:
    """2024 verified and 2025 still open on revision 1; revision 2 (with an evaluation aspect)
    is published; 2025 is finished on revision 1 and 2026 is opened on revision 2."""
    verified_2024 = await s.verified(2024)
    open_2025 = await s.draft(2025, HUB_ANSWERS[:3])
    second = await create_instrument(w, instrument_body(aspects=revision_2_aspects()))
    assert (await transition(w, second["id"], "publish")).status_code == 200

    # revision 1 is retired: no new assessment answers it
    response = await open_assessment(w, s.hub, s.hub_admin, s.instrument["id"], 2026)
    problem = assert_problem(response, 422, "assessment.instrument_not_published")
    assert "is retired" in problem["detail"]

    # but 2025 is answered, submitted and verified on revision 1, whose questions it knows
    response = await put_answers(w, s.hub, open_2025, s.hub_admin, [answer("EVL-1", "b")])
    assert_problem(response, 422, "assessment.unknown_question", pointer="/answers/0/question_code")
    response = await put_answers(w, s.hub, open_2025, s.hub_admin, HUB_ANSWERS[3:])
    assert response.status_code == 200, response.text
    assert (await submit(w, s.hub, open_2025, s.hub_admin)).json()["self_score"] == SELF_SCORE
    response = await review(w, s.hub, open_2025, "verify")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["instrument_id"], body["questions_total"]) == (s.instrument["id"], 5)
    assert [a["aspect"] for a in body["aspects"]] == ["planning", "dissemination"]
    assert body["total_score"] == SELF_SCORE

    # 2026 on revision 2: six questions, three aspects
    response = await open_assessment(w, s.hub, s.hub_admin, second["id"], 2026)
    assert response.status_code == 201, response.text
    new = response.json()
    assert (new["instrument_id"], new["questions_total"]) == (second["id"], 6)
    assert aspects_of(new) == {
        "planning": (0.4, 0, None),
        "dissemination": (0.4, 0, None),
        "evaluation": (0.2, 0, None),
    }
    # revision 2 scores: planning 60, dissemination 54.175, evaluation 100:
    # 0.4*60 + 0.4*54.175 + 0.2*100 = 24 + 21.67 + 20 = 65.67
    answers = [*HUB_ANSWERS, answer("EVL-1", "b")]
    assert (await put_answers(w, s.hub, new["id"], s.hub_admin, answers)).status_code == 200
    response = await submit(w, s.hub, new["id"], s.hub_admin)
    assert response.json()["self_score"] == 65.67

    # over the years, each reads its own revision
    old = (await get_assessment(w, s.hub, verified_2024)).json()
    assert (old["instrument_id"], old["questions_total"], old["total_score"]) == (
        s.instrument["id"],
        5,
        SELF_SCORE,
    )
    assert await listed(w, s.hub) == [2025, 2024]
    assert await listed(w, s.hub, s.hub_admin) == [2026, 2025, 2024]


async def test_sending_the_same_answers_again_writes_nothing(w: World, s: Setup) -> None:
    """The same answers again: no new version, no audit event."""
    assessment_id = await s.draft(answers=HUB_ANSWERS)
    before = await get_assessment(w, s.hub, assessment_id, s.hub_admin)
    response = await put_answers(w, s.hub, assessment_id, s.hub_admin, HUB_ANSWERS)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == before.headers["ETag"]
    assert response.json()["version"] == before.json()["version"]
    assert await w.events(response) == []
