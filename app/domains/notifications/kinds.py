"""The kinds of events people are told about: what each means, whether it may be turned off,
and where its link points. docs/notifications.md lists each with its recipients and payload;
a test holds the two, and the templates of both languages, to this table.

Recipients are not named here but by the service that emits the event, by role and scope
(`audience.py`), exactly as the authorization rules name who may see the record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventKind:
    name: str
    description: str
    # The portal's page of the event's record, relative to PUBLIC_BASE_URL ({subject_id}).
    link: str | None
    # The values its templates show: the event's own data, and the names of the records it
    # refers to (`refs`, looked up when it is dispatched: `innovation` is a title). An event
    # emitted with other keys is refused, so a template never meets an unknown value.
    fields: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    # Security messages: always sent, by email and in the app; a preference cannot stop them.
    essential: bool = False


_KINDS = (
    # entries (submissions)
    EventKind(
        "submission.awaiting_approval",
        "A unit sent an entry: it waits for its institution's local admin.",
        "/submissions/{subject_id}",
        refs=("innovation", "competition", "unit"),
    ),
    EventKind(
        "submission.returned",
        "The local admin returned an entry to its unit for revision, with the reason.",
        "/submissions/{subject_id}",
        fields=("reason",),
        refs=("innovation", "competition"),
    ),
    EventKind(
        "submission.submitted",
        "The local admin approved an entry: it was submitted to the organiser.",
        "/submissions/{subject_id}",
        refs=("innovation", "competition"),
    ),
    EventKind(
        "submission.screened",
        "The organiser screened an entry in or out (with the reason when out).",
        "/submissions/{subject_id}",
        fields=("outcome", "reason"),
        refs=("innovation", "competition"),
    ),
    EventKind(
        "submission.approval_reminder",
        "Entries still wait for the local admin and registration closes soon.",
        "/competitions/{subject_id}",
        fields=("count", "closes_at"),
        refs=("competition",),
    ),
    # evaluation
    EventKind(
        "assignment.created",
        "An evaluator was assigned an entry to score (or given one from another evaluator).",
        "/assignments/{subject_id}",
        refs=("innovation", "competition", "round"),
    ),
    EventKind(
        "round.closing_soon",
        "A round closes soon and the evaluator still has entries to score.",
        "/rounds/{subject_id}",
        fields=("unscored", "closes_at"),
        refs=("competition", "round"),
    ),
    # results
    EventKind(
        "results.announced",
        "The results of a round were announced; objections may be filed until the window closes.",
        "/announcements/{subject_id}",
        fields=("objections_close_at",),
        refs=("competition", "round"),
    ),
    EventKind(
        "objection.filed",
        "An institution objected to an announced result (to the organiser).",
        "/objections/{subject_id}",
        refs=("competition", "institution"),
    ),
    EventKind(
        "objection.decided",
        "The organiser decided an objection (to the institution that filed it).",
        "/objections/{subject_id}",
        fields=("decision", "reason"),
        refs=("competition",),
    ),
    EventKind(
        "award.granted",
        "An innovation won an award (to its institution).",
        "/awards/{subject_id}",
        fields=("award",),
        refs=("competition", "innovation"),
    ),
    # replications
    EventKind(
        "replication.requested",
        "An institution asked to replicate an innovation (to the source's local admins).",
        "/replications/{subject_id}",
        refs=("innovation", "institution"),
    ),
    EventKind(
        "replication.decided",
        "The source approved or rejected a replication request (to the adopter).",
        "/replications/{subject_id}",
        fields=("decision", "reason"),
        refs=("innovation",),
    ),
    EventKind(
        "replication.agreement_signed",
        "A replication's agreement was signed (to both sides and the facilitator).",
        "/replications/{subject_id}",
        refs=("innovation", "institution"),
    ),
    # hubs
    EventKind(
        "hub_membership.requested",
        "An institution asked to join a hub (to the hub's admins).",
        "/hubs/{subject_id}",
        refs=("hub", "institution"),
    ),
    EventKind(
        "hub_membership.decided",
        "A hub's membership request was decided (to the institution).",
        "/hubs/{subject_id}",
        fields=("decision",),
        refs=("hub",),
    ),
    EventKind(
        "maturity.verified",
        "A hub's maturity assessment was verified by the secretariat (to the hub's admins).",
        "/assessments/{subject_id}",
        refs=("hub",),
    ),
    # webhooks
    EventKind(
        "webhook.disabled",
        "A webhook stopped: its receiver answered 410, failed every attempt for about three "
        "days, or its owner's key was revoked (to its owner).",
        None,
        fields=("url", "reason"),
    ),
    # accounts (security messages)
    EventKind(
        "account.created",
        "An account was created for the person.",
        "/me",
        essential=True,
        fields=("role",),
    ),
    EventKind(
        "account.password_changed",
        "The person's password was changed.",
        "/me",
        essential=True,
    ),
)

KINDS: dict[str, EventKind] = {kind.name: kind for kind in _KINDS}


def get(name: str) -> EventKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown event kind {name!r}") from None
