"""The shared lifecycle parts: a machine's steps, its refusal, and the state and sight rules."""

from __future__ import annotations

import enum

import pytest

from app.core.errors import Conflict, NotFound
from app.core.lifecycle import Machine, Step, require_status, visible_or_404


class Status(enum.Enum):
    draft = "draft"
    open = "open"
    closed = "closed"


class Action(enum.Enum):
    open = "open"
    close = "close"
    reopen = "reopen"
    judge = "judge"


MACHINE = Machine(
    "thing.invalid_transition",
    "the thing",
    {
        Action.open: Step.of(Status.draft, Status.open),
        Action.close: Step.of([Status.draft, Status.open], Status.closed, date_field="closed_on"),
        Action.reopen: Step.of(Status.closed, Status.open),
        Action.judge: Step.of(Status.open, None, leads_to="open or closed"),
    },
)


def test_a_step_the_machine_allows_is_returned() -> None:
    step = MACHINE.step(Action.close, Status.open)
    assert step.target is Status.closed
    assert step.date_field == "closed_on"
    assert MACHINE[Action.open].sources == frozenset({Status.draft})


def test_allowed_actions_keep_the_declared_order() -> None:
    assert MACHINE.allowed(Status.open) == [Action.close, Action.judge]
    assert MACHINE.allowed(Status.closed) == [Action.reopen]


def test_a_refused_step_names_the_state_and_where_each_allowed_action_leads() -> None:
    with pytest.raises(Conflict) as refused:
        MACHINE.step(Action.open, Status.open)
    problem = refused.value
    assert problem.code == "thing.invalid_transition"
    assert problem.detail == (
        "Cannot open: the thing is open; allowed: close (to closed), judge (to open or closed)."
    )
    assert problem.extra == {"current_status": "open", "allowed_actions": ["close", "judge"]}


def test_a_final_state_allows_nothing() -> None:
    final = Machine(
        "x.invalid_transition",
        "the x",
        {Action.open: Step.of(Status.draft, Status.open)},
        show_targets=False,
    )
    with pytest.raises(Conflict) as refused:
        final.step(Action.open, Status.closed)
    assert refused.value.detail == "Cannot open: the x is closed; allowed: nothing (it is final)."


def test_require_status_names_the_current_state() -> None:
    require_status(Status.draft, Status.draft, "thing.not_a_draft", "Only drafts.")
    with pytest.raises(Conflict) as refused:
        require_status(Status.open, Status.draft, "thing.not_a_draft", "Only drafts.")
    assert refused.value.code == "thing.not_a_draft"
    assert refused.value.extra == {"current_status": "open"}


def test_visible_or_404_hides_what_the_caller_may_not_see() -> None:
    def missing() -> NotFound:
        return NotFound("thing.not_found", "No thing.")

    assert visible_or_404(Status.open, lambda s: True, missing) is Status.open
    for record, admits in ((None, True), (Status.open, False)):
        with pytest.raises(NotFound):
            visible_or_404(record, lambda s, a=admits: a, missing)


def test_a_step_reaches_its_target_and_keeps_its_date() -> None:
    step = MACHINE.step(Action.close, Status.open)
    assert step.reaches is Status.closed
    assert step.keeps_date == "closed_on"
    with pytest.raises(LookupError):
        _ = MACHINE[Action.judge].reaches
    with pytest.raises(LookupError):
        _ = MACHINE[Action.open].keeps_date


def test_a_refusal_may_name_the_record_itself() -> None:
    with pytest.raises(Conflict) as refused:
        MACHINE.step(Action.reopen, Status.open, subject="revision 3")
    assert refused.value.detail.startswith("Cannot reopen: revision 3 is open; allowed: ")
