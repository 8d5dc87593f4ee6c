"""Hub activities: what a hub did for its network, who took part and which innovations were
shown. The hub's managers (the secretariat, the hub's own admins) write them and see drafts;
everyone who sees the hub sees its published activities."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import Preconditions
from app.core.errors import (
    Conflict,
    NotFound,
    Unprocessable,
    field_error,
    invalid_field,
    invalid_parameter,
    join_messages,
)
from app.core.lifecycle import Machine, Step, visible_or_404
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.hub_activities.repository import HubActivityRepository, snapshot
from app.domains.hub_activities.schemas import (
    HubActivityAction,
    HubActivityCreate,
    HubActivityFilter,
    HubActivitySort,
    HubActivityTransition,
    HubActivityUpdate,
)
from app.domains.hubs.service import get_hub, manages, writable_hub
from app.domains.regions.repository import RegionRepository
from app.models.enums import HubActivityStatus, InnovationStatus
from app.models.hubs import Hub, HubActivity, HubActivityInnovation, HubActivityParticipant

# Each action: the status it leaves, the status it reaches (a refusal names the allowed
# actions only: each leads back to the other status).
MACHINE: Machine[HubActivityAction, HubActivityStatus] = Machine(
    "hub_activity.invalid_transition",
    "the activity",
    {
        HubActivityAction.publish: Step.of(HubActivityStatus.draft, HubActivityStatus.published),
        HubActivityAction.unpublish: Step.of(HubActivityStatus.published, HubActivityStatus.draft),
    },
    show_targets=False,
)


def _not_found(activity_id: uuid.UUID) -> NotFound:
    return NotFound("hub_activity.not_found", f"The hub has no activity {activity_id}.")


async def audit_write(
    session: AsyncSession,
    actor: Principal,
    action: str,
    hub: Hub,
    activity: HubActivity,
    before: audit.Snapshot | None,
    *,
    reason: str | None = None,
) -> None:
    """One event; the lists of participants and innovations are part of the record."""
    after = None if action == "delete" else snapshot(activity)
    await audit.record(
        session,
        actor,
        action,
        "hub_activity",
        activity.id,
        institution_id=hub.host_institution_id,
        changes=audit.diff(before, after),
        reason=reason,
    )


# --- reads ----------------------------------------------------------------------------------


async def list_activities(
    session: AsyncSession,
    principal: Principal | None,
    hub_id: uuid.UUID,
    filters: HubActivityFilter,
    sort: HubActivitySort,
    page: PageRequest,
) -> PageResult[HubActivity]:
    """The hub's published activities; its managers also see the drafts."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise invalid_parameter(
            "hub_activity.date_range", "date_from", "`date_from` must not be after `date_to`."
        )
    hub = await get_hub(session, principal, hub_id)
    drafts_too = manages(principal, hub)
    return await HubActivityRepository(session).list(hub.id, filters, drafts_too, sort, page)


async def get_activity(
    session: AsyncSession, principal: Principal | None, hub_id: uuid.UUID, activity_id: uuid.UUID
) -> HubActivity:
    """A published activity of a hub the caller sees; a draft only for the hub's managers."""
    hub = await get_hub(session, principal, hub_id)
    drafts_too = manages(principal, hub)
    return visible_or_404(
        await HubActivityRepository(session).get(activity_id),
        lambda activity: (
            activity.hub_id == hub.id
            and (drafts_too or activity.status is not HubActivityStatus.draft)
        ),
        lambda: _not_found(activity_id),
    )


async def _writable(
    session: AsyncSession, principal: Principal, hub_id: uuid.UUID, activity_id: uuid.UUID
) -> tuple[Hub, HubActivity]:
    hub = await writable_hub(session, principal, hub_id)
    activity = visible_or_404(
        await HubActivityRepository(session).get(activity_id, for_update=True),
        lambda found: found.hub_id == hub.id,
        lambda: _not_found(activity_id),
    )
    return hub, activity


# --- field rules ----------------------------------------------------------------------------


async def check_fields(session: AsyncSession, hub: Hub, data: dict[str, Any]) -> None:
    """The date (not before the hub existed), the place, and the referenced records: every
    participant must exist, every innovation shown must exist and be published. All problems
    at once, each with its pointer."""
    errors = []
    when = data.get("activity_date")
    if when is not None and when < hub.candidate_date:
        errors.append(
            field_error(
                "/activity_date",
                "hub_activity.before_hub",
                f"The hub exists since {hub.candidate_date.isoformat()}; its activities cannot "
                "be earlier.",
            )
        )
    region = data.get("region_code")
    if region is not None and await RegionRepository(session).get(region) is None:
        errors.append(
            field_error("/region_code", "hub_activity.region_not_found", f"No region {region}.")
        )
    repo = HubActivityRepository(session)
    participants: list[uuid.UUID] = data.get("participant_institution_ids") or []
    missing = set(await repo.missing_institutions(participants)) if participants else set()
    for index, institution_id in enumerate(participants):
        if institution_id in missing:
            errors.append(
                field_error(
                    f"/participant_institution_ids/{index}",
                    "hub_activity.institution_not_found",
                    f"No institution has the id {institution_id}.",
                )
            )
    shown: list[uuid.UUID] = data.get("innovation_ids") or []
    statuses = await repo.innovation_statuses(shown) if shown else {}
    for index, innovation_id in enumerate(shown):
        status = statuses.get(innovation_id)
        if status is None:
            errors.append(
                field_error(
                    f"/innovation_ids/{index}",
                    "hub_activity.innovation_not_found",
                    f"No innovation has the id {innovation_id}.",
                )
            )
        elif status is not InnovationStatus.published:
            errors.append(
                field_error(
                    f"/innovation_ids/{index}",
                    "hub_activity.innovation_not_published",
                    f"Innovation {innovation_id} is {status}; an activity shows published "
                    "innovations only.",
                )
            )
    if errors:
        raise Unprocessable(
            errors[0].code if len(errors) == 1 else "hub_activity.invalid",
            join_messages(error.message for error in errors),
            errors=errors,
        )


def set_lists(activity: HubActivity, data: dict[str, Any]) -> None:
    if "participant_institution_ids" in data:
        activity.participants = [
            HubActivityParticipant(institution_id=institution_id, position=position)
            for position, institution_id in enumerate(data.pop("participant_institution_ids"))
        ]
    if "innovation_ids" in data:
        activity.innovations = [
            HubActivityInnovation(innovation_id=innovation_id, position=position)
            for position, innovation_id in enumerate(data.pop("innovation_ids"))
        ]


# --- writes ---------------------------------------------------------------------------------


async def create_activity(
    session: AsyncSession, principal: Principal, hub_id: uuid.UUID, data: HubActivityCreate
) -> HubActivity:
    """A new draft activity of the hub."""
    hub = await writable_hub(session, principal, hub_id)
    fields = data.model_dump()
    await check_fields(session, hub, fields)
    fields["documents"] = to_jsonable_python(data.documents)
    activity = HubActivity(
        hub_id=hub.id, status=HubActivityStatus.draft, participants=[], innovations=[]
    )
    set_lists(activity, fields)
    for field, value in fields.items():
        setattr(activity, field, value)
    HubActivityRepository(session).add(activity)
    await session.flush()
    await audit_write(session, principal, "create", hub, activity, None)
    return activity


async def update_activity(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    activity_id: uuid.UUID,
    data: HubActivityUpdate,
    preconditions: Preconditions,
) -> HubActivity:
    """Change any field, published or not (lists are replaced whole)."""
    hub, activity = await _writable(session, principal, hub_id, activity_id)
    preconditions.check_match(activity.version, entity="hub_activity")
    changes = data.model_dump(exclude_unset=True)
    for required in ("kind", "title", "activity_date", "is_online"):
        if required in changes and changes[required] is None:
            raise invalid_field(
                "hub_activity.field_required", f"/{required}", f"{required} cannot be removed."
            )
    for listed in ("documents", "participant_institution_ids", "innovation_ids"):
        if listed in changes and changes[listed] is None:
            changes[listed] = []
    await check_fields(session, hub, changes)
    if "documents" in changes:
        changes["documents"] = to_jsonable_python(data.documents or [])
    before = snapshot(activity)
    set_lists(activity, changes)
    for field, value in changes.items():
        setattr(activity, field, value)
    if snapshot(activity) == before:
        return activity  # nothing changed: no new version, no event
    # The lists live in their own tables: the activity's row changes (and its version moves)
    # even when only they did.
    HubActivityRepository.touch(activity)
    await session.flush()
    await audit_write(session, principal, "update", hub, activity, before)
    return activity


async def transition_activity(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    activity_id: uuid.UUID,
    data: HubActivityTransition,
    preconditions: Preconditions,
) -> HubActivity:
    """Publish a draft (it becomes public) or take a published activity back to draft."""
    hub, activity = await _writable(session, principal, hub_id, activity_id)
    preconditions.check_match(activity.version, entity="hub_activity")
    target = MACHINE.step(data.action, activity.status).reaches
    before = snapshot(activity)
    activity.status = target
    activity.published_at = datetime.now(UTC) if target is HubActivityStatus.published else None
    await session.flush()
    await audit_write(
        session, principal, data.action.value, hub, activity, before, reason=data.reason
    )
    return activity


async def delete_activity(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    activity_id: uuid.UUID,
    preconditions: Preconditions,
) -> None:
    """Delete a draft; a published activity is unpublished first (409 otherwise)."""
    hub, activity = await _writable(session, principal, hub_id, activity_id)
    preconditions.check_match(activity.version, entity="hub_activity")
    if activity.status is not HubActivityStatus.draft:
        raise Conflict(
            "hub_activity.published",
            "A published activity is public record: unpublish it before deleting it.",
            extra={
                "current_status": activity.status.value,
                "allowed_actions": [action.value for action in MACHINE.allowed(activity.status)],
            },
        )
    before = snapshot(activity)
    await HubActivityRepository(session).delete(activity)
    await session.flush()
    await audit_write(session, principal, "delete", hub, activity, before)
