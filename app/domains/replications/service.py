"""Replications: a unit's request to adopt a published innovation, the source owner's answer,
and the adopter's steps through agreement, implementation and evaluation (DOMAIN.md section 3).

Two sides act on a replication: the **adopter side** (the adopter unit's operators and its
institution's local admins) and the **source side** (the same for the source's unit and
institution when requested). Each step belongs to one side or to either (docs/replications.md).
Replicas link innovations into a lineage tree; a link that would make an innovation its own
ancestor is refused, under a lock that serialises links.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import (
    Conflict,
    ConstraintError,
    Forbidden,
    NotFound,
    field_error,
    invalid_field,
    register_constraint_errors,
)
from app.core.lifecycle import Machine, Step, require_status, visible_or_404
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.hubs.repository import HubRepository
from app.domains.innovations import service as innovations
from app.domains.innovations.repository import InnovationRepository
from app.domains.institutions.repository import UnitRepository
from app.domains.notifications import audience, events
from app.domains.replications.repository import (
    LINEAGE_DEPTH,
    LINEAGE_NODES,
    InnovationBrief,
    ReplicationRepository,
    ReplicationVisibility,
)
from app.domains.replications.schemas import (
    Lineage,
    LineageNode,
    ReplicationAction,
    ReplicationCreate,
    ReplicationFilter,
    ReplicationRead,
    ReplicationSort,
    ReplicationTransition,
    ReplicationUpdate,
    SimilarInnovation,
    SimilarInnovations,
)
from app.models.enums import (
    PUBLIC_HUB_STATUSES,
    InnovationStatus,
    ReplicationFacilitator,
    ReplicationStatus,
    Role,
)
from app.models.innovations import Innovation
from app.models.institutions import Unit
from app.models.replications import Replication

register_constraint_errors(
    {
        "uq_replications_source_adopter_unit": ConstraintError(
            409,
            "replication.already_active",
            "The unit already holds a replication of this innovation.",
            "/source_innovation_id",
        ),
        "uq_replications_replica_innovation_id": ConstraintError(
            409,
            "replication.replica_taken",
            "The innovation is already the replica of another replication.",
            "/replica_innovation_id",
        ),
        "fk_replications_source_innovation_id_innovations": ConstraintError(
            409,
            "innovation.replicated",
            "A replication names the innovation as its source, which keeps it: archive it instead.",
        ),
        "fk_replications_facilitator_hub_id_hubs": ConstraintError(
            409, "hub.facilitates", "The hub facilitates a replication, which keeps it."
        ),
    }
)

ENTITY = "replication"
ACTIVE = frozenset(
    {
        ReplicationStatus.requested,
        ReplicationStatus.approved,
        ReplicationStatus.agreement_signed,
        ReplicationStatus.implementing,
        ReplicationStatus.implemented,
        ReplicationStatus.evaluated,
    }
)
FINAL = frozenset({ReplicationStatus.rejected, ReplicationStatus.discontinued})
# Each step: the statuses it leaves, the status it reaches, and the date field it sets; a
# refusal names where each allowed step leads.
MACHINE: Machine[ReplicationAction, ReplicationStatus] = Machine(
    "replication.invalid_transition",
    "the replication",
    {
        ReplicationAction.approve: Step.of(
            ReplicationStatus.requested, ReplicationStatus.approved, date_field="approved_date"
        ),
        ReplicationAction.reject: Step.of(
            ReplicationStatus.requested, ReplicationStatus.rejected, date_field="rejected_date"
        ),
        ReplicationAction.sign_agreement: Step.of(
            ReplicationStatus.approved,
            ReplicationStatus.agreement_signed,
            date_field="agreement_date",
        ),
        ReplicationAction.start_implementation: Step.of(
            ReplicationStatus.agreement_signed,
            ReplicationStatus.implementing,
            date_field="implementation_started_date",
        ),
        ReplicationAction.complete_implementation: Step.of(
            ReplicationStatus.implementing,
            ReplicationStatus.implemented,
            date_field="implemented_date",
        ),
        ReplicationAction.evaluate: Step.of(
            ReplicationStatus.implemented, ReplicationStatus.evaluated, date_field="evaluated_date"
        ),
        ReplicationAction.discontinue: Step.of(
            ACTIVE, ReplicationStatus.discontinued, date_field="discontinued_date"
        ),
    },
)


class Side(StrEnum):
    """Who takes a step: the adopter side, the source side, or either."""

    adopter = "adopter"
    source = "source"
    either = "either"


# The side that takes each step of the machine.
SIDES: dict[ReplicationAction, Side] = {
    ReplicationAction.approve: Side.source,
    ReplicationAction.reject: Side.source,
    ReplicationAction.sign_agreement: Side.either,
    ReplicationAction.start_implementation: Side.adopter,
    ReplicationAction.complete_implementation: Side.adopter,
    ReplicationAction.evaluate: Side.adopter,
    ReplicationAction.discontinue: Side.either,
}
# The dates of the steps, in order: a step's date is never before the latest of them.
STEP_DATES = (
    "requested_date",
    "approved_date",
    "agreement_date",
    "implementation_started_date",
    "implemented_date",
    "evaluated_date",
)


# --- who sees and who acts ------------------------------------------------------------------


def visibility_for(principal: Principal | None) -> ReplicationVisibility:
    if principal is None:
        return ReplicationVisibility()
    if principal.is_secretariat:
        return ReplicationVisibility(everything=True)
    if principal.role is Role.hub_admin:
        return ReplicationVisibility(hub_id=principal.hub_id)
    if principal.role in (Role.unit_operator, Role.local_admin, Role.regional_system):
        return ReplicationVisibility(institution_id=principal.institution_id)
    return ReplicationVisibility()


def on_adopter_side(principal: Principal, replication: Replication) -> bool:
    return principal.acts_for(replication.adopter_institution_id, replication.adopter_unit_id)


def on_source_side(principal: Principal, replication: Replication) -> bool:
    return principal.acts_for(replication.source_institution_id, replication.source_unit_id)


def _not_found(replication_id: uuid.UUID) -> NotFound:
    return NotFound("replication.not_found", f"No replication has the id {replication_id}.")


async def _load(
    session: AsyncSession,
    principal: Principal | None,
    replication_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Replication:
    """The replication if the caller may see it (locked for a write); 404 otherwise."""
    repo = ReplicationRepository(session)
    replication = await repo.get(replication_id, for_update=for_update)
    visibility = visibility_for(principal)
    # Beyond its own sides a caller sees approved replications of published sources: the
    # source is looked up only then.
    published = (
        replication is not None
        and not visibility.inside(replication)
        and await _source_published(repo, replication)
    )
    return visible_or_404(
        replication,
        lambda found: visibility.admits(found, published),
        lambda: _not_found(replication_id),
    )


async def _source_published(repo: ReplicationRepository, replication: Replication) -> bool:
    briefs = await repo.briefs([replication.source_innovation_id])
    source = briefs.get(replication.source_innovation_id)
    return source is not None and source.status is InnovationStatus.published


def _replica_shown(principal: Principal | None, replica: InnovationBrief | None) -> bool:
    """The replica's id is shown to callers who may read that innovation in the catalogue."""
    return replica is not None and innovations.visibility_for(principal).admits(
        replica.status, replica.institution_id, replica.unit_id
    )


def shown_model(
    principal: Principal | None,
    replication: Replication,
    briefs: dict[uuid.UUID, InnovationBrief],
) -> ReplicationRead:
    """The replication as this caller sees it (`briefs`: its source's and replica's, from
    `ReplicationRepository.briefs`)."""
    shown = {c.key: getattr(replication, c.key) for c in Replication.__table__.columns}
    source = briefs.get(replication.source_innovation_id)
    replica_id = replication.replica_innovation_id
    replica = briefs.get(replica_id) if replica_id is not None else None
    if not _replica_shown(principal, replica):
        shown["replica_innovation_id"] = None
    return ReplicationRead.model_validate(
        {**shown, "source_innovation_title": source.title if source else ""}
    )


async def read_model(
    session: AsyncSession, principal: Principal | None, replication: Replication
) -> ReplicationRead:
    """The replication as this caller sees it."""
    briefs = await ReplicationRepository(session).briefs(
        [replication.source_innovation_id, replication.replica_innovation_id]
    )
    return shown_model(principal, replication, briefs)


async def get_replication(
    session: AsyncSession, principal: Principal | None, replication_id: uuid.UUID
) -> Replication:
    return await _load(session, principal, replication_id)


async def list_replications(
    session: AsyncSession,
    principal: Principal | None,
    filters: ReplicationFilter,
    sort: ReplicationSort,
    page: PageRequest,
) -> tuple[PageResult[Replication], list[ReplicationRead]]:
    """A page of replications within the caller's reach, as the caller sees them."""
    repo = ReplicationRepository(session)
    result = await repo.page(filters, visibility_for(principal), sort, page)
    briefs = await repo.briefs(
        i for r in result.items for i in (r.source_innovation_id, r.replica_innovation_id)
    )
    return result, [shown_model(principal, r, briefs) for r in result.items]


async def audit_write(
    session: AsyncSession,
    principal: Principal,
    action: str,
    replication: Replication,
    before: audit.Snapshot | None,
    *,
    reason: str | None = None,
) -> None:
    after = None if action == "delete" else audit.snapshot(replication)
    changes = audit.diff(before, after)
    if action == "update" and not changes:
        return
    await audit.record(
        session,
        principal,
        action,
        ENTITY,
        replication.id,
        institution_id=replication.adopter_institution_id,
        changes=changes,
        reason=reason,
    )


# --- the write rules ------------------------------------------------------------------------


async def _source(session: AsyncSession, principal: Principal, source_id: uuid.UUID) -> Innovation:
    source = await InnovationRepository(session).get(source_id)
    if source is None or not innovations.visibility_for(principal).admits(
        source.status, source.institution_id, source.unit_id
    ):
        raise invalid_field(
            "replication.source_not_found",
            "/source_innovation_id",
            f"No innovation has the id {source_id}.",
        )
    if source.status is not InnovationStatus.published:
        raise invalid_field(
            "replication.source_not_published",
            "/source_innovation_id",
            f"The innovation is {source.status.value}: only published innovations are replicated.",
        )
    return source


async def _adopter_unit(session: AsyncSession, principal: Principal, unit_id: uuid.UUID) -> Unit:
    unit = await UnitRepository(session).get(unit_id)
    if unit is None:
        raise invalid_field(
            "replication.unit_not_found", "/adopter_unit_id", f"No unit has the id {unit_id}."
        )
    if not principal.acts_for(unit.institution_id, unit.id):
        raise Forbidden(
            "replication.out_of_scope",
            "A replication is requested for the caller's own unit (a local admin: one of its "
            "institution's units).",
        )
    return unit


async def _check_facilitator(
    session: AsyncSession, facilitator: ReplicationFacilitator | None, hub_id: uuid.UUID | None
) -> None:
    if (facilitator is ReplicationFacilitator.hub) != (hub_id is not None):
        raise invalid_field(
            "replication.facilitator_invalid",
            "/facilitator_hub_id",
            "Name the facilitating hub exactly when the facilitator is `hub`.",
        )
    hub = None if hub_id is None else await HubRepository(session).get(hub_id)
    if hub_id is not None and (hub is None or hub.status not in PUBLIC_HUB_STATUSES):
        # A hub not yet designated is not public: as unknown as one that does not exist.
        raise invalid_field(
            "replication.hub_not_found", "/facilitator_hub_id", f"No hub has the id {hub_id}."
        )


async def _check_holder(
    repo: ReplicationRepository,
    source_id: uuid.UUID,
    adopter_unit_id: uuid.UUID,
    exclude: uuid.UUID | None,
) -> None:
    held = await repo.holder(source_id, adopter_unit_id, exclude)
    if held is not None:
        raise Conflict(
            "replication.already_active",
            "The unit already holds a replication of this innovation (one per source and "
            "adopter unit, unless rejected or discontinued).",
            extra={"replication_id": str(held)},
        )


async def _check_replica(
    session: AsyncSession,
    source_id: uuid.UUID,
    adopter_unit_id: uuid.UUID,
    replica_id: uuid.UUID | None,
    exclude: uuid.UUID | None,
) -> None:
    """The replica is the adopter unit's own record, no other replication's replica, and not
    the source or one of its ancestors (which would close a cycle). Links are serialised by a
    transaction lock, so two concurrent links cannot close a cycle together."""
    if replica_id is None:
        return
    pointer = "/replica_innovation_id"
    replica = await InnovationRepository(session).get(replica_id)
    if replica is None:
        raise invalid_field(
            "replication.replica_not_found", pointer, f"No innovation has the id {replica_id}."
        )
    repo = ReplicationRepository(session)
    await repo.lock_lineage()
    if replica_id in await repo.lineage_of(source_id):
        raise invalid_field(
            "replication.cycle",
            pointer,
            "The replica is the source or one of the innovations it descends from: an "
            "innovation cannot become its own ancestor.",
        )
    if replica.unit_id != adopter_unit_id:
        raise invalid_field(
            "replication.replica_not_adopters",
            pointer,
            "The replica is the adopter unit's own catalogue record of the adapted innovation.",
        )
    taken = await repo.replica_holder(replica_id, exclude)
    if taken is not None:
        message = "The innovation is already the replica of another replication."
        raise Conflict(
            "replication.replica_taken",
            message,
            errors=[field_error(pointer, "replication.replica_taken", message)],
            extra={"replication_id": str(taken)},
        )


def _check_not_future(day: date, pointer: str) -> None:
    if day > dates.today_wib():
        raise invalid_field(
            "replication.date_in_future",
            pointer,
            f"{day.isoformat()} is in the future (today is {dates.today_wib().isoformat()} in "
            "WIB).",
        )


# --- writing --------------------------------------------------------------------------------


async def check_request(
    session: AsyncSession,
    principal: Principal,
    source_id: uuid.UUID,
    unit: Unit,
    facilitator: ReplicationFacilitator | None,
    hub_id: uuid.UUID | None,
    requested: date,
    replica_id: uuid.UUID | None,
) -> Innovation:
    """The rules a new request obeys (here and in sync batches): the source is a published
    innovation the caller may read and not the adopter unit's own, the facilitator, the date,
    one active replication per source and adopter unit, the replica. Returns the source."""
    source = await _source(session, principal, source_id)
    if source.unit_id == unit.id:
        raise invalid_field(
            "replication.same_unit",
            "/adopter_unit_id",
            "The adopter unit is the source's own unit: a unit does not replicate its own "
            "innovation (another unit of the same institution may).",
        )
    await _check_facilitator(session, facilitator, hub_id)
    _check_not_future(requested, "/requested_date")
    await _check_holder(ReplicationRepository(session), source.id, unit.id, None)
    await _check_replica(session, source.id, unit.id, replica_id, None)
    return source


async def check_plan(
    session: AsyncSession,
    replication: Replication,
    facilitator: ReplicationFacilitator | None,
    hub_id: uuid.UUID | None,
    replica_id: uuid.UUID | None,
) -> None:
    """The rules a replication's new plan obeys (sync batches write it whole): not final yet,
    the facilitator, the replica."""
    _check_not_final(replication)
    await _check_facilitator(session, facilitator, hub_id)
    await _check_replica(
        session,
        replication.source_innovation_id,
        replication.adopter_unit_id,
        replica_id,
        replication.id,
    )


def _check_not_final(replication: Replication) -> None:
    if replication.status in FINAL:
        raise Conflict(
            "replication.final",
            f"The replication is {replication.status.value}: it no longer changes.",
            extra={"current_status": replication.status.value},
        )


async def create_replication(
    session: AsyncSession, principal: Principal, data: ReplicationCreate
) -> Replication:
    """Request a replication for one of the caller's units (the adopter side)."""
    unit = await _adopter_unit(session, principal, data.adopter_unit_id)
    requested = data.requested_date or dates.today_wib()
    source = await check_request(
        session,
        principal,
        data.source_innovation_id,
        unit,
        data.facilitator,
        data.facilitator_hub_id,
        requested,
        data.replica_innovation_id,
    )
    replication = Replication(
        id=uuid.uuid4(),
        source_innovation_id=source.id,
        source_institution_id=source.institution_id,
        source_unit_id=source.unit_id,
        adopter_institution_id=unit.institution_id,
        adopter_unit_id=unit.id,
        facilitator=data.facilitator,
        facilitator_hub_id=data.facilitator_hub_id,
        scope=data.scope,
        adaptation=data.adaptation,
        status=ReplicationStatus.requested,
        requested_date=requested,
        documents=[d.model_dump(mode="json") for d in data.documents],
        benefit_measures=[],
        replica_innovation_id=data.replica_innovation_id,
    )
    ReplicationRepository(session).add(replication)
    await session.flush()
    await audit_write(session, principal, "create", replication, None)
    await tell_requested(session, principal, replication)
    return replication


async def tell_requested(
    session: AsyncSession, principal: Principal, replication: Replication
) -> None:
    """A new request is the source side's to answer: it is told (here and in sync batches)."""
    await _tell(session, principal, "replication.requested", replication, source=True)


async def _writable(
    session: AsyncSession, principal: Principal, replication_id: uuid.UUID
) -> Replication:
    """Lock a replication the adopter side writes (403 when the caller only sees it)."""
    replication = await _load(session, principal, replication_id, for_update=True)
    if not on_adopter_side(principal, replication):
        raise Forbidden(
            "replication.out_of_scope",
            "A replication is written by its adopter unit's operators and its adopter "
            "institution's local admins.",
        )
    return replication


async def update_replication(
    session: AsyncSession,
    principal: Principal,
    replication_id: uuid.UUID,
    data: ReplicationUpdate,
    preconditions: Preconditions,
) -> Replication:
    replication = await _writable(session, principal, replication_id)
    preconditions.check_match(replication.version, entity="replication")
    _check_not_final(replication)
    changes = data.model_dump(exclude_unset=True)
    if "scope" in changes and changes["scope"] is None:
        raise invalid_field("replication.field_required", "/scope", "scope cannot be removed.")
    if "documents" in changes and changes["documents"] is None:
        changes["documents"] = []
    if "facilitator" in changes or "facilitator_hub_id" in changes:
        facilitator = changes.get("facilitator", replication.facilitator)
        hub_id = changes.get("facilitator_hub_id", replication.facilitator_hub_id)
        if facilitator is not ReplicationFacilitator.hub and "facilitator_hub_id" not in changes:
            hub_id = None  # a facilitator other than a hub drops the hub named before
            changes["facilitator_hub_id"] = None
        await _check_facilitator(session, facilitator, hub_id)
    if changes.get("replica_innovation_id") is not None:
        await _check_replica(
            session,
            replication.source_innovation_id,
            replication.adopter_unit_id,
            changes["replica_innovation_id"],
            replication.id,
        )
    before = audit.snapshot(replication)
    for field, value in changes.items():
        if field == "documents":
            value = [d.model_dump(mode="json") for d in data.documents or []]
        setattr(replication, field, value)
    await session.flush()
    await audit_write(session, principal, "update", replication, before)
    return replication


async def delete_replication(
    session: AsyncSession,
    principal: Principal,
    replication_id: uuid.UUID,
    preconditions: Preconditions,
) -> None:
    """A request nobody answered yet is deleted; later a replication is discontinued."""
    replication = await _writable(session, principal, replication_id)
    preconditions.check_match(replication.version, entity="replication")
    require_status(
        replication.status,
        ReplicationStatus.requested,
        "replication.not_requested",
        f"The replication is {replication.status.value}: discontinue it instead (only a "
        "request not yet answered is deleted).",
    )
    before = audit.snapshot(replication)
    await ReplicationRepository(session).delete(replication)
    await session.flush()
    await audit_write(session, principal, "delete", replication, before)


# --- the steps ------------------------------------------------------------------------------


def _check_side(principal: Principal, replication: Replication, action: ReplicationAction) -> None:
    side = SIDES[action]
    adopter = on_adopter_side(principal, replication)
    source = on_source_side(principal, replication)
    if side is Side.adopter and not adopter:
        raise Forbidden(
            "replication.out_of_scope",
            f"The adopter side ({action.value}): the adopter unit's operators and the adopter "
            "institution's local admins.",
        )
    if side is Side.source and not source:
        raise Forbidden(
            "replication.out_of_scope",
            f"The source side ({action.value}): the source unit's operators and the source "
            "institution's local admins.",
        )
    if side is Side.either and not (adopter or source):
        raise Forbidden(
            "replication.out_of_scope",
            f"Either side ({action.value}): the adopter's or the source's unit operators and "
            "local admins.",
        )


def _step_date(replication: Replication, given: date | None) -> date:
    day = given or dates.today_wib()
    _check_not_future(day, "/date")
    reached = [d for f in STEP_DATES if (d := getattr(replication, f)) is not None]
    latest = max(reached)
    if day < latest:
        raise invalid_field(
            "replication.date_out_of_order",
            "/date",
            f"{day.isoformat()} is before the replication's previous step ({latest.isoformat()}).",
        )
    return day


async def transition_replication(
    session: AsyncSession,
    principal: Principal,
    replication_id: uuid.UUID,
    data: ReplicationTransition,
    preconditions: Preconditions,
) -> Replication:
    replication = await _load(session, principal, replication_id, for_update=True)
    action = data.action
    _check_side(principal, replication, action)
    preconditions.check_match(replication.version, entity="replication")
    step = MACHINE.step(action, replication.status)
    if data.benefit_measures is not None and action is not ReplicationAction.evaluate:
        raise invalid_field(
            "replication.benefits_not_allowed",
            "/benefit_measures",
            "Benefit measures belong to the evaluate step.",
        )
    if action in (ReplicationAction.reject, ReplicationAction.discontinue) and data.reason is None:
        ended = "rejected" if action is ReplicationAction.reject else "discontinued"
        raise invalid_field(
            "replication.reason_required", "/reason", f"Say why the replication is {ended}."
        )
    if action is ReplicationAction.evaluate and not data.benefit_measures:
        raise invalid_field(
            "replication.benefits_required",
            "/benefit_measures",
            "An evaluation records at least one benefit measure.",
        )
    day = _step_date(replication, data.date)
    if action is ReplicationAction.approve:
        # Held (key share) until commit: an archive of the source waits, then sees the approval.
        source = await InnovationRepository(session).get_key_shared(
            replication.source_innovation_id
        )
        if source is None or source.status is not InnovationStatus.published:
            raise Conflict(
                "replication.source_not_published",
                "The source innovation is no longer published: it cannot be approved for "
                "replication.",
            )
    before = audit.snapshot(replication)
    replication.status = step.reaches
    setattr(replication, step.keeps_date, day)
    if action is ReplicationAction.reject:
        replication.rejection_reason = data.reason
        # Never adopted: its replica is free for another request.
        replication.replica_innovation_id = None
    elif action is ReplicationAction.discontinue:
        replication.discontinuation_reason = data.reason
    elif action is ReplicationAction.evaluate:
        replication.benefit_measures = [
            m.model_dump(mode="json") for m in data.benefit_measures or []
        ]
    await session.flush()
    await audit_write(session, principal, action.value, replication, before, reason=data.reason)
    if action in (ReplicationAction.approve, ReplicationAction.reject):
        await _tell(
            session,
            principal,
            "replication.decided",
            replication,
            adopter=True,
            data={
                "decision": "approved" if action is ReplicationAction.approve else "rejected",
                "reason": replication.rejection_reason or "",
            },
        )
    elif action is ReplicationAction.sign_agreement:
        await _tell(
            session,
            principal,
            "replication.agreement_signed",
            replication,
            adopter=True,
            source=True,
            facilitator=True,
        )
    return replication


def sides(
    replication: Replication, *, adopter: bool = False, source: bool = False
) -> list[dict[str, str]]:
    """The people of a replication's sides, as `on_adopter_side` and `on_source_side` name
    them: the unit's operators and the institution's local admins."""
    parts: list[dict[str, str]] = []
    if adopter:
        parts += [
            audience.local_admins(replication.adopter_institution_id),
            audience.unit_operators(replication.adopter_unit_id),
        ]
    if source:
        parts += [
            audience.local_admins(replication.source_institution_id),
            audience.unit_operators(replication.source_unit_id),
        ]
    return parts


async def _tell(
    session: AsyncSession,
    principal: Principal,
    kind: str,
    replication: Replication,
    *,
    adopter: bool = False,
    source: bool = False,
    facilitator: bool = False,
    data: dict[str, object] | None = None,
) -> None:
    """A step's notification (docs/notifications.md), to sides that see the replication (and
    its facilitating hub's admins, who see the replications they facilitate)."""
    parts = sides(replication, adopter=adopter, source=source)
    if facilitator and replication.facilitator_hub_id is not None:
        parts.append(audience.hub_admins(replication.facilitator_hub_id))
    refs: dict[str, uuid.UUID | None] = {"innovation": replication.source_innovation_id}
    if kind != "replication.decided":
        refs["institution"] = replication.adopter_institution_id
    await events.emit(
        session,
        kind,
        ENTITY,
        replication.id,
        audience=parts,
        actor=principal,
        institution_id=replication.adopter_institution_id,
        data=data,
        refs=refs,
    )


# --- lineage --------------------------------------------------------------------------------


async def lineage(
    session: AsyncSession, principal: Principal | None, innovation_id: uuid.UUID
) -> Lineage:
    """The replication tree around an innovation as the caller sees it (one bounded query)."""
    await innovations.read_innovation(session, principal, innovation_id)
    rows = await ReplicationRepository(session).lineage(innovation_id, visibility_for(principal))
    within = [r for r in rows if abs(r["depth"]) <= LINEAGE_DEPTH]
    truncated = len(within) < len(rows) or len(within) > LINEAGE_NODES
    within = within[:LINEAGE_NODES]
    ancestors = [r for r in within if r["depth"] < 0]
    root = ancestors[0]["source_innovation_id"] if ancestors else innovation_id
    nodes = []
    for row in within:
        node = dict(row)
        replica_status = node.pop("replica_status")
        replica_institution = node.pop("replica_institution_id")
        replica_unit = node.pop("replica_unit_id")
        shown = replica_status is not None and _replica_shown(
            principal,
            InnovationBrief(
                node["replica_innovation_title"], replica_status, replica_institution, replica_unit
            ),
        )
        if not shown:
            node["replica_innovation_id"] = None
            node["replica_innovation_title"] = None
        nodes.append(LineageNode.model_validate(node))
    return Lineage(
        innovation_id=innovation_id, root_innovation_id=root, nodes=nodes, truncated=truncated
    )


# --- finding what to replicate --------------------------------------------------------------


async def similar_innovations(
    session: AsyncSession, principal: Principal | None, innovation_id: uuid.UUID, limit: int
) -> SimilarInnovations:
    """Published innovations most alike one the caller may read, boosted by proven
    replications and awards, leaving out the caller's own institution's."""
    await innovations.read_innovation(session, principal, innovation_id)
    exclude = principal.institution_id if principal is not None else None
    catalogue = InnovationRepository(session)
    scored = await catalogue.similar(innovation_id, exclude, limit)
    rows = await catalogue.summaries([r["id"] for r in scored])
    items = []
    for score in scored:
        row = rows.get(score["id"])
        if row is None:  # deleted meanwhile
            continue
        similarity = {k: v for k, v in score.items() if k != "id"}
        items.append(SimilarInnovation.model_validate({**row, "similarity": similarity}))
    return SimilarInnovations(innovation_id=innovation_id, items=items)
