"""The entry rules, each with its status and code: checked at submit and approve, again at
screen-in (the deadline and the cap excepted); registration, the deadline, the innovation's
place and the source on create and update too. The deadline is read on `app.core.dates.now`,
announced in WIB; the implementation age is counted to the WIB date of the deadline."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.models.competitions import RoundCriterion
from app.models.enums import CompetitionStatus, InnovationStatus, SubmissionStatus
from app.models.submissions import Submission
from tests.domains import assert_problem
from tests.domains.submissions.conftest import PATH, World, codes
from tests.fixtures.etag import if_match

S = CompetitionStatus


async def refused_step(
    w: World,
    entry: dict[str, Any],
    action: str,
    headers: dict[str, str],
    status: int,
    code: str,
    **body: Any,
) -> dict[str, Any]:
    """The step is refused with the first failing rule; the entry is unchanged, nothing is
    recorded; the problem (with `problems` naming that rule) is returned."""
    response = await w.step(entry["id"], action, headers, **body)
    problem = assert_problem(response, status, code)
    assert code in codes(problem), problem
    for item in problem["problems"]:
        assert set(item) >= {"code", "message"}
    row = await w.row(entry["id"])
    assert (row.status.value, row.version) == (entry["status"], entry["version"])
    assert await w.events(response) == []
    return problem


async def patch(w: World, entry: dict[str, Any], headers: dict[str, str], **body: Any) -> Any:
    tag = await w.etag(entry["id"])
    return await w.client.patch(
        f"{PATH}/{entry['id']}", json=body, headers={**headers, "If-Match": tag}
    )


# --- 1. registration open --------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.registration_closed, S.evaluation, S.closed])
async def test_no_entry_is_created_unless_registration_is_open(
    w: World, status: CompetitionStatus
) -> None:
    edition = await w.edition(status)
    response = await w.create(edition=edition)
    assert_problem(response, 409, "submission.registration_not_open")
    assert await w.count() == 0


@pytest.mark.parametrize(
    ("start", "action"), [("draft", "submit"), ("awaiting_local_admin", "approve")]
)
async def test_no_step_forward_once_registration_is_not_open(
    w: World, start: str, action: str
) -> None:
    entry = await w.at(start, w.inov)
    await w.set_status(w.kipp, S.registration_closed)
    headers = w.operator if action == "submit" else w.local
    await refused_step(w, entry, action, headers, 409, "submission.registration_not_open")


async def test_no_update_once_registration_is_not_open(w: World) -> None:
    entry = await w.draft()
    await w.set_status(w.kipp, S.registration_closed)
    response = await patch(w, entry, w.operator, answers=[])
    assert_problem(response, 409, "submission.registration_not_open")
    assert len(await w.answers_of(entry["id"])) == 8


# --- 2. the deadline ----------------------------------------------------------------------------

DEADLINES = ["2026-12-31T23:59:59+07:00", "2026-12-31T16:59:59+00:00"]  # the same instant


@pytest.mark.parametrize("deadline", DEADLINES, ids=["wib", "utc"])
@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["before", "at", "after"])
async def test_the_deadline_instant_is_still_in_time(
    w: World, monkeypatch: pytest.MonkeyPatch, deadline: str, offset: int
) -> None:
    closes = datetime.fromisoformat(deadline)
    edition = await w.edition(registration_closes_at=closes)
    monkeypatch.setattr("app.core.dates.now", lambda: closes - timedelta(days=1))
    draft = await w.draft(w.inov, edition=edition)
    awaiting = await w.move(
        await w.draft(await w.innovation(), edition=edition), "awaiting_local_admin"
    )
    instant = datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC) + timedelta(seconds=offset)
    monkeypatch.setattr("app.core.dates.now", lambda: instant)
    late = offset > 0
    created = await w.create(await w.innovation(), edition=edition)
    submitted = await w.step(draft["id"], "submit", w.operator)
    approved = await w.step(awaiting["id"], "approve", w.local)
    if late:
        assert_problem(created, 409, "submission.deadline_passed")
        for response in (submitted, approved):
            problem = assert_problem(response, 409, "submission.deadline_passed")
            assert "submission.deadline_passed" in codes(problem)
        assert (await w.row(draft["id"])).status is SubmissionStatus.draft
        assert (await w.row(awaiting["id"])).status is SubmissionStatus.awaiting_local_admin
        assert await w.count() == 2
    else:
        assert created.status_code == 201, created.text
        assert submitted.status_code == 200, submitted.text
        assert approved.status_code == 200, approved.text
        assert (await w.row(awaiting["id"])).status is SubmissionStatus.submitted


async def test_no_update_after_the_deadline(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = await w.draft()
    closes = w.kipp.competition.registration_closes_at
    assert closes is not None
    monkeypatch.setattr("app.core.dates.now", lambda: closes + timedelta(seconds=1))
    response = await patch(w, entry, w.operator, answers=[])
    assert_problem(response, 409, "submission.deadline_passed")
    assert len(await w.answers_of(entry["id"])) == 8


# --- 3. one entry per innovation and edition -----------------------------------------------


async def test_an_innovation_enters_an_edition_once(w: World) -> None:
    await w.draft()
    again = await w.create(w.inov, w.local)
    assert_problem(again, 409, "submission.already_entered")
    other_group = await w.create(w.inov, group=w.kipp.replikasi, answers=[])
    assert_problem(other_group, 409, "submission.already_entered")
    assert await w.count() == 1
    # Another edition takes it.
    assert (await w.create(w.inov, edition=await w.edition())).status_code == 201


@pytest.mark.parametrize("gone", ["withdrawn", "expired"])
async def test_a_withdrawn_or_expired_entry_frees_the_place(w: World, gone: str) -> None:
    entry = await w.at("awaiting_local_admin", w.inov)
    if gone == "withdrawn":
        await w.ok(entry["id"], "withdraw", w.operator)
    else:
        await w.set_status(w.kipp, S.registration_closed)
        row = await w.row(entry["id"])
        assert row.status is SubmissionStatus.awaiting_local_admin
        # Expire it as closing would, then reopen the edition.
        await w.session.execute(
            update(Submission)
            .where(Submission.id == row.id)
            .values(status=SubmissionStatus.expired, expired_at=datetime.now(UTC))
        )
        await w.set_status(w.kipp, S.registration_open)
    response = await w.create()
    assert response.status_code == 201, response.text


# --- 4. too young: the implementation age, to the WIB date of the deadline ----------------


@pytest.mark.parametrize(
    ("closes", "implemented", "ok"),
    [
        # 00:30 WIB on 1 January 2027 (still 31 December in UTC).
        ("2026-12-31T17:30:00+00:00", date(2025, 1, 1), True),
        ("2026-12-31T17:30:00+00:00", date(2025, 1, 2), False),
        # 23:30 WIB on 31 December 2026.
        ("2026-12-31T16:30:00+00:00", date(2024, 12, 31), True),
        ("2026-12-31T16:30:00+00:00", date(2025, 1, 1), False),
        ("2027-01-01T00:30:00+07:00", date(2025, 1, 1), True),
    ],
)
async def test_too_young_counts_months_to_the_wib_date_of_the_deadline(
    w: World, closes: str, implemented: date, ok: bool
) -> None:
    edition = await w.edition(
        registration_closes_at=datetime.fromisoformat(closes),
        umum={"min_implementation_months": 24},
    )
    innovation = await w.innovation(implemented=implemented)
    entry = await w.draft(innovation, edition=edition)  # not checked on create
    if ok:
        assert (await w.ok(entry["id"], "submit", w.operator))["status"] == "awaiting_local_admin"
    else:
        await refused_step(w, entry, "submit", w.operator, 409, "submission.too_young")


async def test_an_innovation_without_an_implementation_date_is_too_young(w: World) -> None:
    entry = await w.draft(await w.innovation(implemented=None))
    await refused_step(w, entry, "submit", w.operator, 409, "submission.too_young")


async def test_too_young_is_checked_again_at_approval(w: World) -> None:
    innovation = await w.innovation()
    entry = await w.at("awaiting_local_admin", innovation)
    await w.set_innovation(innovation, implemented_date=date(2026, 11, 1), year_started=2026)
    await w.set_group(w.kipp.umum, min_implementation_months=6)
    await refused_step(w, entry, "approve", w.local, 409, "submission.too_young")


# --- 5. earlier awards ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "of_this_edition", "ok"),
    [
        ("top_45", False, False),
        ("top_5", False, False),
        ("terpuji", False, True),
        ("top_45", True, True),
    ],
)
async def test_an_earlier_award_of_an_ineligible_tier_bars_the_entry(
    w: World, tier: str, of_this_edition: bool, ok: bool
) -> None:
    await w.set_group(w.kipp.umum, ineligible_award_tiers=["top_45", "top_5"])
    innovation = await w.innovation()
    await w.award(innovation, tier, 2022, w.kipp.competition if of_this_edition else None)
    entry = await w.draft(innovation)
    if ok:
        assert (await w.ok(entry["id"], "submit", w.operator))["status"] == "awaiting_local_admin"
    else:
        await refused_step(w, entry, "submit", w.operator, 409, "submission.ineligible_prior_award")


async def test_an_award_won_in_an_earlier_edition_bars_it_at_approval(w: World) -> None:
    earlier = await w.edition(S.closed, year=2022)
    await w.set_group(w.kipp.umum, ineligible_award_tiers=["top_45"])
    innovation = await w.innovation()
    entry = await w.at("awaiting_local_admin", innovation)
    await w.award(innovation, "top_45", 2022, earlier.competition)
    await refused_step(w, entry, "approve", w.local, 409, "submission.ineligible_prior_award")


# --- 6. duplicate titles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [("SIKULIN", "  sikulin "), ("Layanan Kunjungan  Online", "layanan kunjungan ONLINE")],
)
async def test_two_entries_of_an_institution_with_the_same_title(
    w: World, first: str, second: str
) -> None:
    await w.draft(await w.innovation(title=first))
    entry = await w.draft(await w.innovation(w.medan_unit2, title=second), w.local)
    await refused_step(w, entry, "submit", w.local, 409, "submission.duplicate_title")


async def test_the_same_title_of_another_institution_or_a_withdrawn_entry_is_fine(
    w: World,
) -> None:
    await w.draft(w.inov_sby, w.operator_sby)
    same = await w.innovation(title="sayang warga")
    entry = await w.draft(same)
    assert (await w.ok(entry["id"], "submit", w.operator))["status"] == "awaiting_local_admin"
    withdrawn = await w.at("withdrawn", await w.innovation(title="MAJATOKI"))
    assert withdrawn["status"] == "withdrawn"
    again = await w.draft(await w.innovation(w.medan_unit2, title="majatoki"), w.local)
    assert (await w.ok(again["id"], "submit", w.local))["status"] == "awaiting_local_admin"


# --- 7, 8. the replication group's source ----------------------------------------------------


async def test_a_replication_entry_needs_a_source(w: World) -> None:
    entry = await w.draft(group=w.kipp.replikasi, answers=w.kipp.answers(w.kipp.replikasi))
    response = await w.step(entry["id"], "submit", w.operator)
    assert_problem(response, 422, "submission.source_required", pointer="/source_innovation_id")
    assert (await w.row(entry["id"])).status is SubmissionStatus.draft


async def test_a_general_entry_takes_no_source(w: World) -> None:
    response = await w.create(source_innovation_id=str(w.inov_sby.id))
    assert_problem(response, 422, "submission.source_not_allowed", pointer="/source_innovation_id")
    assert await w.count() == 0
    entry = await w.draft()
    response = await patch(w, entry, w.operator, source_innovation_id=str(w.inov_sby.id))
    assert_problem(response, 422, "submission.source_not_allowed", pointer="/source_innovation_id")
    assert (await w.row(entry["id"])).source_innovation_id is None


@pytest.mark.parametrize("source", ["itself", "draft", "unknown"])
async def test_the_source_is_another_published_innovation(w: World, source: str) -> None:
    source_id = {
        "itself": w.inov.id,
        "draft": (await w.innovation(w.surabaya_unit, status=InnovationStatus.draft)).id,
        "unknown": uuid.uuid4(),
    }[source]
    response = await w.create(
        group=w.kipp.replikasi,
        answers=w.kipp.answers(w.kipp.replikasi),
        source_innovation_id=str(source_id),
    )
    assert_problem(response, 422, "submission.source_invalid", pointer="/source_innovation_id")
    assert await w.count() == 0


@pytest.mark.parametrize(
    ("tiers", "award", "ok"),
    [
        (["top_45", "top_99"], None, False),
        (["top_45", "top_99"], "terpuji", False),
        (["top_45", "top_99"], "top_99", True),
        ([], None, False),
        ([], "terpuji", True),
    ],
)
async def test_the_source_holds_a_qualifying_award(
    w: World, tiers: list[str], award: str | None, ok: bool
) -> None:
    await w.set_group(w.kipp.replikasi, source_award_tiers=tiers)
    if award:
        await w.award(w.inov_sby, award, 2021)
    entry = await w.draft(
        group=w.kipp.replikasi,
        answers=w.kipp.answers(w.kipp.replikasi),
        source_innovation_id=str(w.inov_sby.id),
    )
    assert entry["source_innovation_id"] == str(w.inov_sby.id)
    if ok:
        assert (await w.ok(entry["id"], "submit", w.operator))["status"] == "awaiting_local_admin"
    else:
        await refused_step(w, entry, "submit", w.operator, 409, "submission.source_not_awarded")


# --- 9, 10. answers and SDGs -----------------------------------------------------------------


async def test_every_first_round_criterion_needs_an_answer(w: World) -> None:
    answers = w.kipp.answers()
    entry = await w.draft(answers=answers[:6])
    problem = await refused_step(w, entry, "submit", w.operator, 422, "submission.answers_missing")
    assert sorted(problem["missing"]) == sorted(a["criterion_id"] for a in answers[6:])


async def test_a_missing_answer_found_at_approval(w: World) -> None:
    entry = await w.at("awaiting_local_admin", w.inov)
    extra = await w.criterion(w.kipp.round1, w.kipp.umum, 0, name="Lampiran", position=9)
    problem = await refused_step(w, entry, "approve", w.local, 422, "submission.answers_missing")
    assert problem["missing"] == [str(extra.id)]


@pytest.mark.parametrize("required", [True, False])
async def test_an_sdg_when_the_edition_requires_one(w: World, required: bool) -> None:
    edition = await w.edition(sdg_required=required)
    entry = await w.draft(await w.innovation(sdgs=[]), edition=edition)
    if required:
        await refused_step(w, entry, "submit", w.operator, 422, "submission.sdg_missing")
    else:
        assert (await w.ok(entry["id"], "submit", w.operator))["status"] == "awaiting_local_admin"


# --- 11. the cap -----------------------------------------------------------------------------


async def test_the_cap_counts_submitted_and_screened_in_entries_of_the_institution(
    w: World,
) -> None:
    await w.set_group(w.kipp.umum, max_submissions_per_institution=2)
    await w.entry_row(w.kipp, await w.innovation(), "submitted")
    # These do not count: waiting, screened out, withdrawn, another group, another institution.
    await w.entry_row(w.kipp, await w.innovation(), "awaiting_local_admin")
    await w.entry_row(w.kipp, await w.innovation(), "screened_out")
    await w.entry_row(w.kipp, await w.innovation(), "withdrawn")
    source = await w.innovation(w.surabaya_unit)
    await w.award(source, "top_45")
    await w.entry_row(
        w.kipp, await w.innovation(), "submitted", w.kipp.replikasi, source_innovation_id=source.id
    )
    await w.entry_row(w.kipp, await w.innovation(w.surabaya_unit), "screened_in")
    second = await w.at("submitted")
    assert second["status"] == "submitted"
    third = await w.draft(await w.innovation())
    await refused_step(w, third, "submit", w.operator, 409, "submission.over_cap")
    # Surabaya's own count is its own.
    sby = await w.draft(await w.innovation(w.surabaya_unit), w.operator_sby)
    assert (await w.ok(sby["id"], "submit", w.operator_sby))["status"] == "awaiting_local_admin"


async def test_the_cap_is_checked_again_at_approval(w: World) -> None:
    await w.set_group(w.kipp.umum, max_submissions_per_institution=1)
    first = await w.at("awaiting_local_admin")
    second = await w.at("awaiting_local_admin")
    assert (await w.ok(first["id"], "approve", w.local))["status"] == "submitted"
    await refused_step(w, second, "approve", w.local, 409, "submission.over_cap")
    await w.ok(first["id"], "screen", w.admin, outcome="in")
    await refused_step(w, second, "approve", w.local, 409, "submission.over_cap")


# --- the shape of answers, the edition's parts -----------------------------------------------


async def test_an_answer_to_a_criterion_outside_the_first_round_of_the_group(w: World) -> None:
    answers = w.kipp.answers()
    other_group = w.kipp.answers(w.kipp.replikasi)[0]
    for wrong, position in (
        (other_group, 3),
        ({"criterion_id": str(uuid.uuid4()), "text": "?"}, 0),
    ):
        given = [*answers[:position], wrong, *answers[position:]]
        response = await w.create(answers=given)
        assert_problem(
            response,
            422,
            "submission.unknown_criterion",
            pointer=f"/answers/{position}/criterion_id",
        )
    assert await w.count() == 0


async def test_a_second_round_criterion_is_unknown_at_registration(w: World) -> None:
    later = await w.session.scalar(
        select(RoundCriterion).where(
            RoundCriterion.round_id == w.kipp.round2.id, RoundCriterion.group_id == w.kipp.umum.id
        )
    )
    assert later is not None
    entry = await w.draft()
    response = await patch(
        w, entry, w.operator, answers=[{"criterion_id": str(later.id), "text": "Nanti."}]
    )
    assert_problem(response, 422, "submission.unknown_criterion", pointer="/answers/0/criterion_id")
    assert len(await w.answers_of(entry["id"])) == 8


async def test_the_same_criterion_twice(w: World) -> None:
    answers = w.kipp.answers()
    response = await w.create(answers=[*answers, {**answers[0], "text": "Lagi."}])
    assert_problem(response, 422, "submission.duplicate_answer")
    assert await w.count() == 0


async def test_a_group_category_or_competition_of_another_edition(w: World) -> None:
    other = await w.edition()
    response = await w.create(group=other.umum)
    assert_problem(response, 422, "submission.group_not_found")
    response = await w.create(category_id=str(other.category.id))
    assert_problem(response, 422, "submission.category_not_found")
    response = await w.create(competition_id=str(uuid.uuid4()))
    assert_problem(response, 422, "submission.competition_not_found")
    hidden = await w.edition(S.draft)  # a draft edition is not visible to an operator
    response = await w.create(edition=hidden)
    assert_problem(response, 422, "submission.competition_not_found")
    assert await w.count() == 0


# --- screen-in checks the rules again ----------------------------------------------------------


async def test_screen_in_finds_an_award_won_since(w: World) -> None:
    await w.set_group(w.kipp.umum, ineligible_award_tiers=["top_5"])
    entry = await w.at("submitted", w.inov)
    await w.award(w.inov, "top_5", 2023)
    await refused_step(
        w, entry, "screen", w.admin, 409, "submission.ineligible_prior_award", outcome="in"
    )
    body = await w.ok(
        entry["id"], "screen", w.admin, outcome="out", screening_reason="ineligible_prior_award"
    )
    assert body["status"] == "screened_out"


@pytest.mark.parametrize("change", ["too_young", "sdg_missing"])
async def test_screen_in_checks_the_innovation_again(w: World, change: str) -> None:
    innovation = await w.innovation()
    entry = await w.at("submitted", innovation)
    if change == "too_young":
        await w.set_group(w.kipp.umum, min_implementation_months=12)
        await w.set_innovation(innovation, implemented_date=date(2026, 10, 1), year_started=2026)
        status = 409
    else:
        await w.set_innovation(innovation, sdgs=[])
        status = 422
    await refused_step(w, entry, "screen", w.admin, status, f"submission.{change}", outcome="in")


async def test_screen_in_is_not_held_to_the_deadline_or_the_cap(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await w.at("submitted")
    second = await w.at("submitted")
    await w.set_group(w.kipp.umum, max_submissions_per_institution=1)
    closes = w.kipp.competition.registration_closes_at
    assert closes is not None
    monkeypatch.setattr("app.core.dates.now", lambda: closes + timedelta(days=3))
    for entry in (first, second):
        body = await w.ok(entry["id"], "screen", w.admin, outcome="in")
        assert body["status"] == "screened_in"


# --- every failing rule is named -------------------------------------------------------------


async def test_the_problems_list_names_every_failing_rule(w: World) -> None:
    await w.set_group(w.kipp.umum, ineligible_award_tiers=["top_45"])
    innovation = await w.innovation(implemented=None, sdgs=[])
    await w.award(innovation, "top_45")
    entry = await w.draft(innovation, answers=w.kipp.answers()[:3])
    problem = await refused_step(w, entry, "submit", w.operator, 409, "submission.too_young")
    assert set(codes(problem)) == {
        "submission.too_young",
        "submission.ineligible_prior_award",
        "submission.answers_missing",
        "submission.sdg_missing",
    }
    for item in problem["problems"]:
        assert item["message"]


async def test_closed_registration_and_a_passed_deadline_are_both_named(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await w.draft(answers=[])
    await w.set_status(w.kipp, S.registration_closed)
    closes = w.kipp.competition.registration_closes_at
    assert closes is not None
    monkeypatch.setattr("app.core.dates.now", lambda: closes + timedelta(hours=1))
    problem = await refused_step(
        w, entry, "submit", w.operator, 409, "submission.registration_not_open"
    )
    assert {"submission.deadline_passed", "submission.answers_missing"} <= set(codes(problem))


async def test_an_entry_is_not_sent_before_the_window_opens(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await w.draft()
    opens = w.kipp.competition.registration_opens_at
    assert opens is not None
    monkeypatch.setattr("app.core.dates.now", lambda: opens - timedelta(seconds=1))
    await refused_step(w, entry, "submit", w.operator, 409, "submission.registration_not_yet_open")
    monkeypatch.setattr("app.core.dates.now", lambda: opens)
    assert (await w.ok(entry["id"], "submit", w.operator))["status"] == "awaiting_local_admin"


async def test_a_draft_innovation_is_entered_but_sent_only_once_published(w: World) -> None:
    innovation = await w.innovation(status=InnovationStatus.draft)
    entry = await w.draft(innovation)
    await refused_step(w, entry, "submit", w.operator, 409, "submission.innovation_not_published")
    published = await w.client.post(f"/v1/innovations/{innovation.id}/publish", headers=w.operator)
    assert published.status_code == 200, published.text
    assert (await w.ok(entry["id"], "submit", w.operator))["status"] == "awaiting_local_admin"


async def test_an_innovation_archived_after_sending_is_refused_at_approval(w: World) -> None:
    innovation = await w.innovation()
    entry = await w.at("awaiting_local_admin", innovation)
    await w.set_innovation(innovation, status=InnovationStatus.archived)
    await refused_step(w, entry, "approve", w.local, 409, "submission.innovation_not_published")


async def test_a_source_unpublished_after_the_draft_is_refused_when_sent(w: World) -> None:
    source = await w.innovation(w.surabaya_unit, title="SUMBER REPLIKASI")
    await w.award(source, "top_45", 2022)
    entry = await w.draft(
        group=w.kipp.replikasi,
        source_innovation_id=str(source.id),
        answers=w.kipp.answers(w.kipp.replikasi),
    )
    await w.set_innovation(source, status=InnovationStatus.archived)
    problem = await refused_step(w, entry, "submit", w.operator, 422, "submission.source_invalid")
    assert "submission.source_not_awarded" not in codes(problem)


async def test_an_entered_draft_innovation_is_not_deleted(w: World) -> None:
    innovation = await w.innovation(status=InnovationStatus.draft)
    await w.draft(innovation)
    response = await w.client.delete(
        f"/v1/innovations/{innovation.id}",
        headers=await if_match(w.client, f"/v1/innovations/{innovation.id}", w.operator),
    )
    assert_problem(response, 409, "innovation.entered")
