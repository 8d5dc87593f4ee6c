"""JIPP hubs: who sees and who changes which hub, the status machine (candidate -> committed ->
designated -> active -> inactive), one active hub per host, and the geography of members."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import Preconditions
from app.core.dates import today_wib
from app.core.errors import (
    Conflict,
    ConstraintError,
    Forbidden,
    NotFound,
    invalid_field,
    register_constraint_errors,
)
from app.core.lifecycle import Machine, Step, require_status, visible_or_404
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.hub_activities.repository import HubActivityRepository
from app.domains.hub_activities.repository import snapshot as activity_snapshot
from app.domains.hubs.repository import HubMemberRepository, HubRepository, HubVisibility
from app.domains.hubs.schemas import (
    HubAction,
    HubCreate,
    HubFilter,
    HubMemberCreate,
    HubMemberFilter,
    HubMemberLeave,
    HubMemberSort,
    HubSort,
    HubTransition,
    HubUpdate,
)
from app.domains.institutions.repository import InstitutionRepository, UnitRepository
from app.domains.notifications import audience, events
from app.domains.regions.repository import RegionRepository
from app.models.enums import (
    HUB_HOST_KINDS,
    PUBLIC_HUB_STATUSES,
    HubKind,
    HubStatus,
    InstitutionKind,
    Role,
)
from app.models.hubs import Hub, HubActivity, HubMember
from app.models.institutions import Institution

register_constraint_errors(
    {
        "uq_hubs_name": ConstraintError(
            409, "hub.duplicate_name", "Another hub has this name.", "/name"
        ),
        "uq_hubs_active_host": ConstraintError(
            409, "hub.host_has_active_hub", "The host institution already has an active hub."
        ),
        "uq_hub_members_open": ConstraintError(
            409, "hub_member.already_member", "This member already belongs to the hub."
        ),
    }
)

ENTITY_TYPES = {Hub: "hub", HubMember: "hub_member", HubActivity: "hub_activity"}
# Each step of the machine: the status it leaves, the status it reaches; a refusal names
# where each allowed step leads.
MACHINE: Machine[HubAction, HubStatus] = Machine(
    "hub.invalid_transition",
    "the hub",
    {
        HubAction.commit: Step.of(HubStatus.candidate, HubStatus.committed),
        HubAction.designate: Step.of(HubStatus.committed, HubStatus.designated),
        HubAction.activate: Step.of(HubStatus.designated, HubStatus.active),
        HubAction.deactivate: Step.of(HubStatus.active, HubStatus.inactive),
    },
)
# The column that keeps the date a hub reached each status.
STATUS_DATE: dict[HubStatus, str] = {
    HubStatus.candidate: "candidate_date",
    HubStatus.committed: "committed_date",
    HubStatus.designated: "designated_date",
    HubStatus.active: "activated_date",
    HubStatus.inactive: "inactivated_date",
}
# Profile fields only the secretariat changes (a hub admin edits name, unit and contacts).
SECRETARIAT_FIELDS = ("is_pilot", "designation_decree_reference", "designation_year")
# What a regional hub's member institutions may be.
REGIONAL_MEMBER_KINDS = frozenset({InstitutionKind.pemkab, InstitutionKind.pemkot})


# --- who sees and who writes ----------------------------------------------------------------


def visibility_for(principal: Principal | None) -> HubVisibility:
    """Designated, active and inactive hubs are public; candidate and committed ones are seen
    by the secretariat and by the hub's own admins only."""
    if principal is None:
        return HubVisibility()
    if principal.is_secretariat:
        return HubVisibility(everything=True)
    if principal.role is Role.hub_admin:
        return HubVisibility(hub_id=principal.hub_id)
    return HubVisibility()


def _not_found(hub_id: uuid.UUID) -> NotFound:
    return NotFound("hub.not_found", f"No hub has the id {hub_id}.")


async def get_hub(
    session: AsyncSession,
    principal: Principal | None,
    hub_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Hub:
    """The hub if the caller may see it; 404 otherwise (a hidden hub does not exist for it)."""
    hub = await HubRepository(session).get(hub_id, for_update=for_update)
    return visible_or_404(hub, visibility_for(principal).admits, lambda: _not_found(hub_id))


def manages(principal: Principal | None, hub: Hub) -> bool:
    """The secretariat and the hub's own admins manage a hub."""
    if principal is None:
        return False
    return principal.is_secretariat or (
        principal.role is Role.hub_admin and principal.hub_id == hub.id
    )


async def writable_hub(session: AsyncSession, principal: Principal, hub_id: uuid.UUID) -> Hub:
    """Lock the hub for a write: 404 if the caller may not even see it, 403 if it sees it (it
    is public) but it is another hub's."""
    hub = await get_hub(session, principal, hub_id, for_update=True)
    if not manages(principal, hub):
        raise Forbidden("hub.out_of_scope", "This hub is managed by its own hub admins.")
    return hub


async def _audit(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    record: Hub | HubMember | HubActivity,
    before: audit.Snapshot | None,
    *,
    host_institution_id: uuid.UUID,
    reason: str | None = None,
) -> None:
    """One event; a hub's records belong to its host institution."""
    after = None if action == "delete" else audit.snapshot(record)
    await audit.record(
        session,
        actor,
        action,
        ENTITY_TYPES[type(record)],
        record.id,
        institution_id=host_institution_id,
        changes=audit.diff(before, after),
        reason=reason,
    )


# --- field rules ----------------------------------------------------------------------------


def _not_in_future(value: date, pointer: str, code: str) -> None:
    if value > today_wib():
        raise invalid_field(code, pointer, f"{value.isoformat()} is in the future.")


async def _host(session: AsyncSession, kind: HubKind, host_id: uuid.UUID) -> Institution:
    """The host institution, whose kind must fit the hub's: a pemprov hosts a regional hub, a
    ministry or agency a central one."""
    host = await InstitutionRepository(session).get(host_id)
    if host is None:
        raise invalid_field(
            "hub.host_not_found", "/host_institution_id", "The host institution does not exist."
        )
    if host.kind not in HUB_HOST_KINDS[kind]:
        expected = " or ".join(sorted(k.value for k in HUB_HOST_KINDS[kind]))
        raise invalid_field(
            "hub.host_kind_mismatch",
            "/host_institution_id",
            f"A {kind.value} hub is hosted by a {expected}; {host.name} is a {host.kind.value}.",
        )
    return host


async def _check_coordinating_unit(
    session: AsyncSession, host_institution_id: uuid.UUID, unit_id: uuid.UUID
) -> None:
    unit = await UnitRepository(session).get(unit_id)
    if unit is None:
        raise invalid_field(
            "hub.coordinating_unit_not_found",
            "/coordinating_unit_id",
            "The coordinating unit does not exist.",
        )
    if unit.institution_id != host_institution_id:
        raise invalid_field(
            "hub.coordinating_unit_not_of_host",
            "/coordinating_unit_id",
            f"The coordinating unit must be one of the host institution's own units; "
            f"{unit.name} belongs to another institution.",
        )


# --- hubs -----------------------------------------------------------------------------------


async def list_hubs(
    session: AsyncSession,
    principal: Principal | None,
    filters: HubFilter,
    sort: HubSort,
    page: PageRequest,
) -> PageResult[Hub]:
    """The hubs the caller may see, filtered."""
    return await HubRepository(session).list(filters, visibility_for(principal), sort, page)


async def create_hub(session: AsyncSession, principal: Principal, data: HubCreate) -> Hub:
    """A new candidate hub; its host's kind must fit the hub's kind."""
    await _host(session, data.kind, data.host_institution_id)
    if data.coordinating_unit_id is not None:
        await _check_coordinating_unit(session, data.host_institution_id, data.coordinating_unit_id)
    candidate_date = data.candidate_date or today_wib()
    _not_in_future(candidate_date, "/candidate_date", "hub.date_in_future")
    hub = Hub(
        name=data.name,
        kind=data.kind,
        host_institution_id=data.host_institution_id,
        coordinating_unit_id=data.coordinating_unit_id,
        status=HubStatus.candidate,
        candidate_date=candidate_date,
        is_pilot=data.is_pilot,
        contacts=to_jsonable_python(data.contacts),
    )
    HubRepository(session).add(hub)
    await session.flush()
    await _audit(
        session, principal, "create", hub, None, host_institution_id=hub.host_institution_id
    )
    return hub


async def update_hub(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    data: HubUpdate,
    preconditions: Preconditions,
) -> Hub:
    """Change the profile. Hub admins change their own hub's name, coordinating unit and
    contacts; the pilot flag and the designation are the secretariat's (403 otherwise)."""
    hub = await writable_hub(session, principal, hub_id)
    preconditions.check_match(hub.version, entity="hub")
    changes = data.model_dump(exclude_unset=True)
    reserved = [field for field in SECRETARIAT_FIELDS if field in changes]
    if reserved and not principal.is_secretariat:
        raise Forbidden(
            "hub.field_forbidden",
            f"Only the secretariat changes {', '.join(reserved)}; a hub admin edits the "
            "name, coordinating unit and contacts.",
        )
    for required in ("name", "is_pilot"):
        if required in changes and changes[required] is None:
            raise invalid_field(
                "hub.field_required", f"/{required}", f"{required} cannot be removed."
            )
    if "contacts" in changes:
        changes["contacts"] = to_jsonable_python(data.contacts or [])
    for field in ("designation_decree_reference", "designation_year"):
        if field not in changes:
            continue
        if hub.designated_date is None and changes[field] is not None:
            raise invalid_field(
                "hub.not_designated",
                f"/{field}",
                f"The hub is {hub.status.value}; it gets its designation with the `designate` "
                "transition.",
            )
        if hub.designated_date is not None and changes[field] is None:
            raise invalid_field(
                "hub.field_required", f"/{field}", f"A designated hub keeps its {field}."
            )
    if changes.get("coordinating_unit_id") is not None:
        await _check_coordinating_unit(
            session, hub.host_institution_id, changes["coordinating_unit_id"]
        )
    before = audit.snapshot(hub)
    for field, value in changes.items():
        setattr(hub, field, value)
    await session.flush()
    await _audit(
        session, principal, "update", hub, before, host_institution_id=hub.host_institution_id
    )
    return hub


async def transition_hub(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    data: HubTransition,
    preconditions: Preconditions,
) -> Hub:
    """Move a hub one step along its machine, recording the step's date (not in the future,
    not before the previous step's). Designating needs the decree; activating needs the host
    to have no other active hub."""
    hub = await writable_hub(session, principal, hub_id)
    preconditions.check_match(hub.version, entity="hub")
    action = data.action
    step = MACHINE.step(action, hub.status)
    source, target = hub.status, step.reaches
    if action is HubAction.designate:
        if data.designation_decree_reference is None:
            raise invalid_field(
                "hub.decree_required",
                "/designation_decree_reference",
                "Designating a hub needs the reference of the decree that designates it.",
            )
    else:
        for field in ("designation_decree_reference", "designation_year"):
            if getattr(data, field) is not None:
                raise invalid_field(
                    "hub.designation_not_expected",
                    f"/{field}",
                    f"{field} belongs to the designate step, not to {action.value}.",
                )
    when = data.effective_date or today_wib()
    _not_in_future(when, "/effective_date", "hub.date_in_future")
    previous: date = getattr(hub, STATUS_DATE[source])
    if when < previous:
        raise invalid_field(
            "hub.date_before_previous_step",
            "/effective_date",
            f"The hub became {source.value} on {previous.isoformat()}; it cannot become "
            f"{target.value} before that.",
        )
    if action is HubAction.activate:
        other = await HubRepository(session).active_hub_of_host(hub.host_institution_id)
        if other is not None:
            raise Conflict(
                "hub.host_has_active_hub",
                f"The host institution already has an active hub ({other.name}); a host has "
                "one active hub at a time: deactivate that one first.",
                extra={"active_hub_id": str(other.id)},
            )
    before = audit.snapshot(hub)
    hub.status = target
    setattr(hub, STATUS_DATE[target], when)
    if action is HubAction.designate:
        hub.designation_decree_reference = data.designation_decree_reference
        hub.designation_year = data.designation_year or when.year
    await session.flush()
    await _audit(
        session,
        principal,
        action.value,
        hub,
        before,
        host_institution_id=hub.host_institution_id,
        reason=data.reason,
    )
    return hub


async def delete_hub(
    session: AsyncSession, principal: Principal, hub_id: uuid.UUID, preconditions: Preconditions
) -> None:
    """Delete a hub that is still a candidate (and its members); later it is deactivated."""
    hub = await writable_hub(session, principal, hub_id)
    preconditions.check_match(hub.version, entity="hub")
    require_status(
        hub.status,
        HubStatus.candidate,
        "hub.not_a_candidate",
        f"Only candidate hubs can be deleted; this hub is {hub.status.value}.",
    )
    # Its memberships and activities go with it: each gets its own delete event.
    activity_repo = HubActivityRepository(session)
    activities = await activity_repo.of_hub(hub.id)
    snapshots: list[tuple[HubMember | HubActivity, audit.Snapshot]] = [
        *((m, audit.snapshot(m)) for m in await HubMemberRepository(session).of_hub(hub.id)),
        *((a, activity_snapshot(a)) for a in activities),
    ]
    before = audit.snapshot(hub)
    # The activities are deleted before the hub (not by its ON DELETE CASCADE) so that the
    # change log's trigger still finds their host institution: it is shown their tombstones.
    for activity in activities:
        await activity_repo.delete(activity)
    await session.flush()
    await HubRepository(session).delete(hub)
    await session.flush()
    for record, record_before in snapshots:
        await _audit(
            session,
            principal,
            "delete",
            record,
            record_before,
            host_institution_id=hub.host_institution_id,
        )
    await _audit(
        session, principal, "delete", hub, before, host_institution_id=hub.host_institution_id
    )


# --- members --------------------------------------------------------------------------------


async def list_members(
    session: AsyncSession,
    principal: Principal | None,
    hub_id: uuid.UUID,
    filters: HubMemberFilter,
    sort: HubMemberSort,
    page: PageRequest,
) -> PageResult[HubMember]:
    await get_hub(session, principal, hub_id)
    return await HubMemberRepository(session).list(hub_id, filters, sort, page)


async def get_member(
    session: AsyncSession, principal: Principal | None, hub_id: uuid.UUID, member_id: uuid.UUID
) -> HubMember:
    await get_hub(session, principal, hub_id)
    return await _member_of(session, hub_id, member_id)


async def _member_of(
    session: AsyncSession, hub_id: uuid.UUID, member_id: uuid.UUID, *, for_update: bool = False
) -> HubMember:
    member = await HubMemberRepository(session).get(member_id, for_update=for_update)
    return visible_or_404(
        member,
        lambda found: found.hub_id == hub_id,
        lambda: NotFound("hub_member.not_found", f"The hub has no member record {member_id}."),
    )


async def _province_label(session: AsyncSession, code: str) -> str:
    region = await RegionRepository(session).get(code)
    return f"{code} ({region.name})" if region else code


async def _member_institution(
    session: AsyncSession, hub: Hub, host: Institution, institution_id: uuid.UUID
) -> Institution:
    """A regional hub's member institution: a pemkab or pemkot inside the host's province."""
    if hub.kind is HubKind.central:
        raise invalid_field(
            "hub_member.central_units_only",
            "/institution_id",
            f"A central hub's members are its host's own units ({host.name}), not institutions; "
            "add a unit with `unit_id`.",
        )
    institution = await InstitutionRepository(session).get(institution_id)
    if institution is None:
        raise invalid_field(
            "hub_member.institution_not_found", "/institution_id", "The institution does not exist."
        )
    if institution.kind not in REGIONAL_MEMBER_KINDS:
        raise invalid_field(
            "hub_member.kind_not_allowed",
            "/institution_id",
            f"A regional hub's member institutions are the regencies and cities (pemkab, pemkot) "
            f"of its province, and the province's own units; {institution.name} is a "
            f"{institution.kind.value}.",
        )
    province = host.region_code or ""
    region = institution.region_code or ""
    if not region.startswith(province + "."):
        theirs = await _province_label(session, region.split(".")[0])
        ours = await _province_label(session, province)
        raise invalid_field(
            "hub_member.outside_province",
            "/institution_id",
            f"{institution.name} lies in province {theirs}, not in the hub's province {ours}.",
        )
    return institution


async def _check_member_unit(
    session: AsyncSession, hub: Hub, host: Institution, unit_id: uuid.UUID
) -> None:
    """A member unit is one of the host's own units (a province's own, or a ministry's)."""
    unit = await UnitRepository(session).get(unit_id)
    if unit is None:
        raise invalid_field("hub_member.unit_not_found", "/unit_id", "The unit does not exist.")
    if unit.institution_id != host.id:
        whose = "the province's own units" if hub.kind is HubKind.regional else "its own units"
        raise invalid_field(
            "hub_member.unit_not_of_host",
            "/unit_id",
            f"A {hub.kind.value} hub's member units are {whose} ({host.name}); {unit.name} "
            "belongs to another institution.",
        )


async def add_member(
    session: AsyncSession, principal: Principal, hub_id: uuid.UUID, data: HubMemberCreate
) -> HubMember:
    """Open a membership. Regional hubs take the pemkab and pemkot of their province and the
    province's own units; central hubs their own units. One open membership per member."""
    hub = await writable_hub(session, principal, hub_id)  # the lock serialises adds to one hub
    if (data.institution_id is None) == (data.unit_id is None):
        raise invalid_field(
            "hub_member.member_unnamed",
            "/institution_id",
            "Name the member: `institution_id` or `unit_id`, not both.",
        )
    if hub.status is HubStatus.inactive:
        raise Conflict(
            "hub.inactive",
            "An inactive hub takes no new members.",
            extra={"current_status": hub.status.value},
        )
    host = await InstitutionRepository(session).get(hub.host_institution_id)
    assert host is not None  # a foreign key
    if data.unit_id is not None:
        await _check_member_unit(session, hub, host, data.unit_id)
        institution_id = host.id
    else:
        assert data.institution_id is not None
        institution_id = (await _member_institution(session, hub, host, data.institution_id)).id
    joined = data.joined_date or today_wib()
    _not_in_future(joined, "/joined_date", "hub_member.date_in_future")
    repo = HubMemberRepository(session)
    history = await repo.history(hub.id, institution_id, data.unit_id)
    current = next((m for m in history if m.left_date is None), None)
    if current is not None:
        raise Conflict(
            "hub_member.already_member",
            f"This member belongs to the hub since {current.joined_date.isoformat()}.",
            extra={"member_id": str(current.id)},
        )
    last_left = max((m.left_date for m in history if m.left_date is not None), default=None)
    if last_left is not None and joined < last_left:
        raise invalid_field(
            "hub_member.joined_before_left",
            "/joined_date",
            f"This member left the hub on {last_left.isoformat()}; a new membership starts "
            "on or after that day.",
        )
    member = HubMember(
        hub_id=hub.id, institution_id=institution_id, unit_id=data.unit_id, joined_date=joined
    )
    repo.add(member)
    await session.flush()
    await _audit(
        session, principal, "create", member, None, host_institution_id=hub.host_institution_id
    )
    await _tell_members(
        session, principal, "hub_membership.added", hub, member, {"joined_date": joined}
    )
    return member


async def _tell_members(
    session: AsyncSession,
    principal: Principal,
    kind: str,
    hub: Hub,
    member: HubMember,
    data: dict[str, object],
) -> None:
    """A membership's change (docs/notifications.md), to the hub's admins and the member: its
    institution's local admins (a member unit: also its operators). A candidate or committed
    hub is seen by the secretariat and its own admins only: its members are told once it is
    public, never before."""
    parts = [audience.hub_admins(hub.id)]
    if hub.status in PUBLIC_HUB_STATUSES:
        parts.append(audience.local_admins(member.institution_id))
        if member.unit_id is not None:
            parts.append(audience.unit_operators(member.unit_id))
    await events.emit(
        session,
        kind,
        "hub",
        hub.id,
        audience=parts,
        actor=principal,
        institution_id=member.institution_id,
        data=data,
        refs={"hub": hub.id, "institution": member.institution_id},
    )


async def end_membership(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    member_id: uuid.UUID,
    data: HubMemberLeave,
    preconditions: Preconditions,
) -> HubMember:
    """Close a membership by setting its `left_date`; the record stays as history."""
    hub = await writable_hub(session, principal, hub_id)
    member = await _member_of(session, hub.id, member_id, for_update=True)
    preconditions.check_match(member.version, entity="hub_member")
    if member.left_date is not None:
        raise Conflict(
            "hub_member.already_left",
            f"This membership ended on {member.left_date.isoformat()}; rejoining adds a new one.",
        )
    left = data.left_date or today_wib()
    _not_in_future(left, "/left_date", "hub_member.date_in_future")
    if left < member.joined_date:
        raise invalid_field(
            "hub_member.left_before_joined",
            "/left_date",
            f"The member joined on {member.joined_date.isoformat()}; it cannot leave before.",
        )
    before = audit.snapshot(member)
    member.left_date = left
    await session.flush()
    await _audit(
        session,
        principal,
        "leave",
        member,
        before,
        host_institution_id=hub.host_institution_id,
        reason=data.reason,
    )
    await _tell_members(
        session, principal, "hub_membership.ended", hub, member, {"left_date": left}
    )
    return member
