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
        "An evaluator was assigned an entry to score (by hand, by auto-assignment, or handed "
        "over from another evaluator, who is not named).",
        "/assignments/{subject_id}",
        refs=("innovation", "competition", "round"),
    ),
    EventKind(
        "assignment.auto_assigned",
        "Auto-assignment gave an evaluator entries of a round to score (one message for all).",
        "/rounds/{subject_id}",
        fields=("count",),
        refs=("competition", "round"),
    ),
    EventKind(
        "round.closing_soon",
        "A round closes soon and the evaluator still has entries to score (a reminder).",
        "/rounds/{subject_id}",
        fields=("unscored", "closes_at"),
        refs=("competition", "round"),
    ),
    # results
    EventKind(
        "results.announced",
        "An announcement of a round's outcome, of the final results, or an amended one was "
        "published; objections may be filed until its window closes (to the entrants).",
        "/announcements/{subject_id}",
        # announcement: "round", "final" or "amended"
        fields=("announcement", "objections_close_at"),
        refs=("competition", "round"),
    ),
    EventKind(
        "objection.filed",
        "Someone objected to an announced entry (to the organiser).",
        "/objections/{subject_id}",
        fields=("filer_name",),
        refs=("competition", "innovation"),
    ),
    EventKind(
        "objection.upheld",
        "The organiser upheld an objection to an entry: the entry is disqualified (to the "
        "entry's institution and unit; the filer is not named).",
        "/submissions/{subject_id}",
        fields=("reason",),
        refs=("competition", "innovation"),
    ),
    EventKind(
        "award.granted",
        "The decree gave an innovation an award (to its institution and unit).",
        "/awards/{subject_id}",
        fields=("award",),
        refs=("competition", "innovation"),
    ),
    # replications
    EventKind(
        "replication.requested",
        "An institution asked to replicate an innovation (to the source's side).",
        "/replications/{subject_id}",
        refs=("innovation", "institution"),
    ),
    EventKind(
        "replication.decided",
        "The source approved or rejected a replication request (to the adopter's side).",
        "/replications/{subject_id}",
        fields=("decision", "reason"),
        refs=("innovation",),
    ),
    EventKind(
        "replication.agreement_signed",
        "A replication's agreement was signed (to both sides and the facilitating hub).",
        "/replications/{subject_id}",
        refs=("innovation", "institution"),
    ),
    EventKind(
        "replication.evaluation_due",
        "A replication was implemented a while ago and its evaluation is not recorded yet (a "
        "reminder to the adopter's side).",
        "/replications/{subject_id}",
        fields=("implemented_date",),
        refs=("innovation",),
    ),
    # hubs
    EventKind(
        "hub_membership.added",
        "A hub took an institution (or one of its host's units) as a member (to the member "
        "and the hub's admins).",
        "/hubs/{subject_id}",
        fields=("joined_date",),
        refs=("hub", "institution"),
    ),
    EventKind(
        "hub_membership.ended",
        "A hub membership ended (to the member and the hub's admins).",
        "/hubs/{subject_id}",
        fields=("left_date",),
        refs=("hub", "institution"),
    ),
    EventKind(
        "maturity.verified",
        "The secretariat verified a hub's maturity self-assessment (to the hub's admins).",
        "/assessments/{subject_id}",
        fields=("period_year", "total_score"),
        refs=("hub",),
    ),
    EventKind(
        "maturity.returned",
        "The secretariat returned a hub's maturity self-assessment, with the reason (to the "
        "hub's admins).",
        "/assessments/{subject_id}",
        fields=("period_year", "reason"),
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
        "The person's password was changed (by themselves or an admin).",
        "/me",
        essential=True,
    ),
    EventKind(
        "api_key.expiring",
        "An API key expires soon (a reminder to whoever may issue its successor).",
        "/api-keys/{subject_id}",
        fields=("key_name", "prefix", "expires_at"),
    ),
)

KINDS: dict[str, EventKind] = {kind.name: kind for kind in _KINDS}


def get(name: str) -> EventKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown event kind {name!r}") from None
