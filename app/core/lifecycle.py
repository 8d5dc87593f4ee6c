"""The parts every lifecycle shares: a state machine of steps, the 409 for a step it does not
allow, the "only in this state" rule, and "the record if the caller may see it, else 404".

Each domain declares its machine as data (`Machine(code, subject, {action: Step(...)})`) and
asks it for a step; the refusal, naming the current state and the allowed actions, is produced
here, the same for every lifecycle."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.core.errors import Conflict, NotFound, invalid_transition

ActionT = TypeVar("ActionT", bound=enum.Enum)
StatusT = TypeVar("StatusT", bound=enum.Enum)
RecordT = TypeVar("RecordT")


@dataclass(frozen=True)
class Step(Generic[StatusT]):
    """One step of a machine: the states it leaves and the state it reaches.

    `target` is None for a step whose outcome is decided when it is taken (screening: in or
    out); `leads_to` then says where it may lead, for the refusal's text. `date_field` names
    the record's column that keeps the day the step was taken, where the machine keeps one."""

    sources: frozenset[StatusT]
    target: StatusT | None
    leads_to: str | None = None
    date_field: str | None = None

    @classmethod
    def of(
        cls,
        sources: StatusT | Iterable[StatusT],
        target: StatusT | None,
        *,
        leads_to: str | None = None,
        date_field: str | None = None,
    ) -> Step[StatusT]:
        """A step from one state or several."""
        leaves = frozenset([sources] if isinstance(sources, enum.Enum) else sources)
        return cls(leaves, target, leads_to, date_field)

    @property
    def reaches(self) -> StatusT:
        """The state the step reaches. Only for a step whose outcome is fixed: one decided when
        it is taken (`target` None) has no such state, and asking for it is a programming
        error."""
        if self.target is None:
            raise LookupError(f"this step's outcome is decided when it is taken: {self.leads_to}")
        return self.target

    @property
    def keeps_date(self) -> str:
        """The column that keeps the day the step was taken (a machine that keeps one names it
        on every step)."""
        if self.date_field is None:
            raise LookupError("this step keeps no date")
        return self.date_field

    @property
    def destination(self) -> str:
        """Where the step leads, as the refusal names it."""
        if self.target is not None:
            return str(self.target.value)
        return self.leads_to or "?"


@dataclass(frozen=True)
class Machine(Generic[ActionT, StatusT]):
    """A record's lifecycle: which action moves it from which states to which.

    `code` is the refusal's problem code (`hub.invalid_transition`), `subject` how its text
    names the record ("the hub"); `show_targets` adds where each allowed action leads."""

    code: str
    subject: str
    steps: Mapping[ActionT, Step[StatusT]]
    show_targets: bool = True
    _order: tuple[ActionT, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_order", tuple(self.steps))

    def __getitem__(self, action: ActionT) -> Step[StatusT]:
        return self.steps[action]

    def allowed(self, status: StatusT) -> list[ActionT]:
        """The actions the machine allows from `status`, in the order it declares them."""
        return [a for a in self._order if status in self.steps[a].sources]

    def step(
        self, action: ActionT, status: StatusT, *, subject: str | None = None
    ) -> Step[StatusT]:
        """The step `action` takes from `status`; 409 naming the state and the allowed actions
        when the machine does not allow it. `subject` names this record in the refusal when
        the machine's own name is not enough ("revision 3")."""
        found = self.steps[action]
        if status in found.sources:
            return found
        raise self.refusal(str(action.value), status, subject=subject)

    def refusal(self, action: str, status: StatusT, *, subject: str | None = None) -> Conflict:
        """The 409 for `action` refused in `status`."""
        targets = (
            {str(a.value): s.destination for a, s in self.steps.items()}
            if self.show_targets
            else None
        )
        return invalid_transition(
            self.code,
            action,
            subject or self.subject,
            str(status.value),
            [str(a.value) for a in self.allowed(status)],
            targets=targets,
        )


def require_status(status: StatusT, wanted: StatusT, code: str, message: str) -> None:
    """409 `code` unless the record is in `wanted` ("only a draft is deleted"): `message` says
    what to do instead; the problem names the current state."""
    if status is not wanted:
        raise Conflict(code, message, extra={"current_status": str(status.value)})


def visible_or_404(
    record: RecordT | None, admits: Callable[[RecordT], bool], not_found: Callable[[], NotFound]
) -> RecordT:
    """The record if it exists and the caller may see it (`admits`); the same 404 otherwise,
    so a record out of sight cannot be told from one that does not exist."""
    if record is None or not admits(record):
        raise not_found()
    return record
