"""The catalogue's rules: who reads and writes which innovation, field rules, the lifecycle
(draft -> published -> archived) and what publishing requires."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import Preconditions
from app.core.dates import today_wib
from app.core.errors import (
    ConstraintError,
    Forbidden,
    NotFound,
    ProblemFieldError,
    Unprocessable,
    field_error,
    invalid_field,
    invalid_parameter,
    register_constraint_errors,
)
from app.core.lifecycle import Machine, Step, require_status, visible_or_404
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.core.shared_results import SharedResults
from app.db.reads import Reader
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.innovations.repository import (
    MARK_START,
    MARK_STOP,
    PUBLISHED_ONLY,
    CategoryRepository,
    Counts,
    InnovationRepository,
    Visibility,
)
from app.domains.innovations.schemas import (
    REQUIRED_SECTIONS,
    InnovationCategoryCreate,
    InnovationCategoryUpdate,
    InnovationCreate,
    InnovationFilter,
    InnovationSort,
    InnovationUpdate,
)
from app.domains.institutions.repository import UnitRepository
from app.models.enums import InnovationStatus, Role
from app.models.innovations import Innovation, InnovationCategory
from app.models.institutions import Unit

register_constraint_errors(
    {
        "uq_innovations_institution_external_id": ConstraintError(
            409,
            "innovation.duplicate_external_id",
            "Another innovation of this institution has this external_id.",
            "/external_id",
        ),
        "pk_innovation_categories": ConstraintError(
            409, "innovation_category.duplicate_code", "A category has this code.", "/code"
        ),
    }
)


class InnovationAction(StrEnum):
    """The steps of an innovation's lifecycle (each a route of its own)."""

    publish = "publish"
    archive = "archive"


# Which action leads from which state; a refusal names the allowed actions only.
MACHINE: Machine[InnovationAction, InnovationStatus] = Machine(
    "innovation.invalid_transition",
    "the innovation",
    {
        InnovationAction.publish: Step.of(InnovationStatus.draft, InnovationStatus.published),
        InnovationAction.archive: Step.of(InnovationStatus.published, InnovationStatus.archived),
    },
    show_targets=False,
)


# --- who sees and who writes ----------------------------------------------------------------


def visibility_for(principal: Principal | None) -> Visibility:
    """The public and roles without a record scope read published innovations only."""
    if principal is None:
        return PUBLISHED_ONLY
    if principal.is_secretariat:
        return Visibility(everything=True)
    if principal.role is Role.unit_operator and principal.unit_id is not None:
        return Visibility(unit_id=principal.unit_id)
    if principal.role in (Role.local_admin, Role.regional_system) and principal.institution_id:
        return Visibility(institution_id=principal.institution_id)
    return PUBLISHED_ONLY


def _writes(principal: Principal, institution_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
    """Unit operators write their unit's innovations, local admins their institution's."""
    if principal.is_secretariat:
        return True
    if principal.role is Role.unit_operator:
        return principal.unit_id == unit_id
    if principal.role is Role.local_admin:
        return principal.institution_id == institution_id
    return False


def _not_found(innovation_id: uuid.UUID) -> NotFound:
    return NotFound("innovation.not_found", f"No innovation has the id {innovation_id}.")


async def _writable(
    session: AsyncSession, principal: Principal, innovation_id: uuid.UUID
) -> Innovation:
    """Lock the record for a write: 404 if the caller may not even see it, 403 if it may see
    it (it is published) but it is not the caller's to change."""
    visibility = visibility_for(principal)
    innovation = visible_or_404(
        await InnovationRepository(session).get(innovation_id, for_update=True),
        lambda found: visibility.admits(found.status, found.institution_id, found.unit_id),
        lambda: _not_found(innovation_id),
    )
    if not _writes(principal, innovation.institution_id, innovation.unit_id):
        raise Forbidden(
            "innovation.out_of_scope", "This innovation belongs to another unit or institution."
        )
    return innovation


async def writable_innovation(
    session: AsyncSession, principal: Principal, innovation_id: uuid.UUID
) -> Innovation:
    """The innovation locked for a change by the caller (its documents too): 404 unseen,
    403 seen but another unit's or institution's."""
    return await _writable(session, principal, innovation_id)


async def visible_innovation(
    session: AsyncSession, principal: Principal | None, innovation_id: uuid.UUID
) -> tuple[Innovation, bool]:
    """The innovation if the caller may see it (404 otherwise), and whether the caller sees
    it as its own (the secretariat, its institution's, its unit's) rather than as the public."""
    visibility = visibility_for(principal)
    innovation = visible_or_404(
        await InnovationRepository(session).get(innovation_id),
        lambda found: visibility.admits(found.status, found.institution_id, found.unit_id),
        lambda: _not_found(innovation_id),
    )
    own = (
        visibility.everything
        or visibility.unit_id == innovation.unit_id
        or visibility.institution_id == innovation.institution_id
    )
    return innovation, own


# --- field rules ----------------------------------------------------------------------------


async def _check_fields(session: AsyncSession, values: dict[str, Any]) -> None:
    """Rules that span fields or need the database; all problems reported at once."""
    codes = values.get("category_codes") or []
    errors = rule_errors(values, await CategoryRepository(session).unknown_codes(codes))
    if errors:
        raise Unprocessable(
            "innovation.invalid", "Some fields break the catalogue's rules.", errors=errors
        )


def rule_errors(
    values: Mapping[str, Any], unknown_codes: Collection[str]
) -> list[ProblemFieldError]:
    """What `values` break of the rules that span fields; `unknown_codes`: those of its
    category codes no category has (the caller looks them up)."""
    errors: list[ProblemFieldError] = []
    today = today_wib()
    year_started = values["year_started"]
    if year_started > today.year:
        errors.append(
            field_error(
                "/year_started", "innovation.year_in_future", f"{year_started} is in the future."
            )
        )
    implemented = values.get("implemented_date")
    if implemented is not None:
        if implemented > today:
            errors.append(
                field_error(
                    "/implemented_date",
                    "innovation.implemented_in_future",
                    "The implementation date is in the future.",
                )
            )
        if implemented.year < year_started:
            errors.append(
                field_error(
                    "/implemented_date",
                    "innovation.implemented_before_start",
                    f"An innovation started in {year_started} was not implemented in "
                    f"{implemented.year}.",
                )
            )
    codes = values.get("category_codes") or []
    for code in codes:
        if code in unknown_codes:
            errors.append(
                field_error(
                    f"/category_codes/{codes.index(code)}",
                    "innovation.unknown_category",
                    f"No category has the code {code}; see /v1/innovation-categories.",
                )
            )
    return errors


def missing_for_publication(innovation: Innovation) -> list[ProblemFieldError]:
    """What an innovation lacks before it can be published (empty when it is complete)."""
    missing = [
        field_error(
            f"/sections/{name}", "innovation.section_required", f"The {name} section is empty."
        )
        for name in REQUIRED_SECTIONS
        if not (innovation.sections or {}).get(name)
    ]
    if not innovation.sdgs:
        missing.append(
            field_error("/sdgs", "innovation.sdg_required", "Name at least one SDG goal.")
        )
    if innovation.implemented_date is None:
        missing.append(
            field_error(
                "/implemented_date",
                "innovation.implemented_date_required",
                "Give the date the innovation was implemented.",
            )
        )
    return missing


def _check_publishable(innovation: Innovation, *, code: str, detail: str) -> None:
    missing = missing_for_publication(innovation)
    if missing:
        raise Unprocessable(code, detail, errors=missing)


async def _unit_for_write(session: AsyncSession, principal: Principal, unit_id: uuid.UUID) -> Unit:
    unit = await UnitRepository(session).get(unit_id)
    if unit is None:
        raise invalid_field("innovation.unit_not_found", "/unit_id", "The unit does not exist.")
    if not _writes(principal, unit.institution_id, unit.id):
        raise Forbidden(
            "innovation.out_of_scope", "Innovations of this unit are not yours to write."
        )
    return unit


def stored(data: dict[str, Any]) -> dict[str, Any]:
    """Nested values as the JSONB columns keep them (dates and URLs as strings)."""
    for key in ("regulations", "budget_lines", "links"):
        if key in data and data[key] is not None:
            data[key] = to_jsonable_python(data[key])
    return data


async def _audit(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    innovation: Innovation,
    before: audit.Snapshot | None,
) -> None:
    await audit.record(
        session,
        actor,
        action,
        "innovation",
        innovation.id,
        institution_id=innovation.institution_id,
        before=before,
        after=None if action == "delete" else audit.snapshot(innovation),
    )


# --- records --------------------------------------------------------------------------------


async def read_innovation(
    session: AsyncSession, principal: Principal | None, innovation_id: uuid.UUID
) -> RowMapping:
    """The record as the caller may see it; 404 for a draft or archived one outside its scope."""
    return visible_or_404(
        await InnovationRepository(session).read(innovation_id),
        visibility_for(principal).admits_row,
        lambda: _not_found(innovation_id),
    )


async def get_innovation(
    reader: Reader, principal: Principal | None, innovation_id: uuid.UUID
) -> Mapping[str, Any]:
    """`read_innovation` for a GET: the hot path, without a session (app/db/reads.py)."""
    return visible_or_404(
        await InnovationRepository.read_by(reader, innovation_id),
        visibility_for(principal).admits_row,
        lambda: _not_found(innovation_id),
    )


async def create_innovation(
    session: AsyncSession, principal: Principal, data: InnovationCreate
) -> RowMapping:
    """A new draft in a unit the caller writes for."""
    unit = await _unit_for_write(session, principal, data.unit_id)
    values = stored(data.model_dump(exclude={"sections"}))
    await _check_fields(session, values)
    innovation = Innovation(
        **values,
        institution_id=unit.institution_id,
        sections={name: text for name, text in data.sections.model_dump().items() if text},
        status=InnovationStatus.draft,
    )
    InnovationRepository(session).add(innovation)
    await session.flush()
    await _audit(session, principal, "create", innovation, None)
    return await read_innovation(session, principal, innovation.id)


async def update_innovation(
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    data: InnovationUpdate,
    preconditions: Preconditions,
) -> RowMapping:
    """Apply the fields sent. A published innovation must stay complete enough to publish."""
    innovation = await _writable(session, principal, innovation_id)
    preconditions.check_match(innovation.version, entity="innovation")
    changes = stored(data.model_dump(exclude_unset=True, exclude={"sections"}))
    for required in ("unit_id", "title", "year_started", "is_digital", "stage", "sdgs"):
        if required in changes and changes[required] is None:
            raise invalid_field(
                "innovation.field_required", f"/{required}", f"{required} cannot be removed."
            )
    for listed in ("category_codes", "regulations", "budget_lines", "links"):
        if listed in changes and changes[listed] is None:
            changes[listed] = []
    if "unit_id" in changes and changes["unit_id"] != innovation.unit_id:
        unit = await _unit_for_write(session, principal, changes["unit_id"])
        changes["institution_id"] = unit.institution_id
        if unit.institution_id != innovation.institution_id:
            # The external_id was the institution it leaves's own id for it (docs/sync.md).
            changes["external_id"] = None
    merged = {
        "year_started": changes.get("year_started", innovation.year_started),
        "implemented_date": changes.get("implemented_date", innovation.implemented_date),
        "category_codes": changes.get("category_codes", []),
    }
    await _check_fields(session, merged)
    before = audit.snapshot(innovation)
    for field, value in changes.items():
        setattr(innovation, field, value)
    if data.sections is not None:
        sections = dict(innovation.sections or {})
        for name, text in data.sections.model_dump(exclude_unset=True).items():
            if text:
                sections[name] = text
            else:
                sections.pop(name, None)
        innovation.sections = sections
    if innovation.status is not InnovationStatus.draft:
        _check_publishable(
            innovation,
            code="innovation.incomplete",
            detail=f"A {innovation.status.value} innovation must stay complete; this change "
            "would leave it without what publishing requires.",
        )
    await session.flush()
    await _audit(session, principal, "update", innovation, before)
    return await read_innovation(session, principal, innovation.id)


async def transition_innovation(
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    action: InnovationAction,
    preconditions: Preconditions,
) -> RowMapping:
    """Publish a complete draft, or archive a published innovation."""
    innovation = await _writable(session, principal, innovation_id)
    preconditions.check_match(innovation.version, entity="innovation")
    target = MACHINE.step(action, innovation.status).reaches
    if action is InnovationAction.publish:
        _check_publishable(
            innovation,
            code="innovation.not_publishable",
            detail="The innovation cannot be published yet; `errors` lists what is missing.",
        )
    before = audit.snapshot(innovation)
    now = datetime.now(UTC)
    innovation.status = target
    if target is InnovationStatus.published:
        innovation.published_at = now
    else:
        innovation.archived_at = now
    await session.flush()
    await _audit(session, principal, action.value, innovation, before)
    return await read_innovation(session, principal, innovation.id)


async def delete_innovation(
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    preconditions: Preconditions,
) -> None:
    """Drafts can be deleted; a published innovation is archived instead (409)."""
    innovation = await _writable(session, principal, innovation_id)
    preconditions.check_match(innovation.version, entity="innovation")
    require_status(
        innovation.status,
        InnovationStatus.draft,
        "innovation.not_a_draft",
        f"Only drafts can be deleted; this innovation is {innovation.status.value} "
        "(archive it instead).",
    )
    before = audit.snapshot(innovation)
    await InnovationRepository(session).delete(innovation)
    await session.flush()
    await _audit(session, principal, "delete", innovation, before)


# --- the catalogue --------------------------------------------------------------------------


def check_filters(filters: InnovationFilter, sort: InnovationSort | None = None) -> None:
    if (
        filters.year_from is not None
        and filters.year_to is not None
        and filters.year_from > filters.year_to
    ):
        raise invalid_parameter(
            "innovation.year_range_inverted",
            "year_from",
            "`year_from` must not be after `year_to`.",
        )
    if sort is InnovationSort.relevance and not filters.q and filters.similar_to is None:
        raise Unprocessable(
            "innovation.relevance_needs_q",
            "Sorting by relevance needs a search (`q`) or `similar_to`.",
        )


async def scoped_filters(
    session: AsyncSession, principal: Principal | None, filters: InnovationFilter
) -> InnovationFilter:
    """The filters as they apply to this caller: `similar_to` names an innovation the caller
    may read (422 otherwise), and the most alike leave out the caller's institution's."""
    if filters.similar_to is None:
        return filters
    try:
        await read_innovation(session, principal, filters.similar_to)
    except NotFound:
        raise invalid_parameter(
            "innovation.similar_to_not_found",
            "similar_to",
            f"No innovation has the id {filters.similar_to}.",
        ) from None
    exclude = principal.institution_id if principal is not None else None
    return filters.model_copy(update={"similar_exclude": exclude})


def highlight(headline: str) -> str:
    """Finish a headline cut from text already escaped for `&`, `<` and `>` (by the query):
    escape the quotes, then turn the match marks into <mark> elements."""
    text = headline.replace('"', "&quot;").replace("'", "&#x27;")
    return text.replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")


async def list_innovations(
    session: AsyncSession,
    principal: Principal | None,
    filters: InnovationFilter,
    sort: InnovationSort,
    page: PageRequest,
) -> tuple[PageResult[RowMapping], dict[uuid.UUID, str]]:
    """One page of the catalogue as the caller may see it, with snippets when searching."""
    check_filters(filters, sort)
    filters = await scoped_filters(session, principal, filters)
    repo = InnovationRepository(session)
    result = await repo.page(filters, visibility_for(principal), sort, page)
    snippets: dict[uuid.UUID, str] = {}
    if filters.q and result.items:
        raw = await repo.snippets([row["id"] for row in result.items], filters.q)
        snippets = {key: highlight(value) for key, value in raw.items() if value}
    return result, snippets


async def export_rows(
    session: AsyncSession,
    principal: Principal | None,
    filters: InnovationFilter,
    sort: InnovationSort,
) -> AsyncIterator[RowMapping]:
    """The export's rows; the query has started (and any error surfaced) when this returns."""
    check_filters(filters, sort)
    filters = await scoped_filters(session, principal, filters)
    return await InnovationRepository(session).stream(filters, visibility_for(principal), sort)


FACET_DIMENSIONS = (
    "status",
    "stage",
    "is_digital",
    "institution_kind",
    "province",
    "year_started",
    "sdg",
    "category",
)


async def innovation_facets(
    session: AsyncSession,
    principal: Principal | None,
    filters: InnovationFilter,
    public: SharedResults[str, Counts] | None = None,
) -> Counts:
    """Counts per facet value over exactly the records the list shows under these filters.

    The public's counts (published records only: the same for every such caller) go through
    `public`, which computes identical concurrent requests once and keeps the answer a few
    seconds; a caller who also sees drafts always gets counts of its own."""
    check_filters(filters)
    filters = await scoped_filters(session, principal, filters)
    visibility = visibility_for(principal)
    repository = InnovationRepository(session)

    async def count() -> Counts:
        return await repository.group_counts(filters, visibility, FACET_DIMENSIONS)

    if public is None or visibility != PUBLISHED_ONLY:
        return await count()
    return await public.get(f"{visibility}:{filters.model_dump_json()}", count)


# --- the category vocabulary ----------------------------------------------------------------


async def list_categories(
    session: AsyncSession, page: PageRequest
) -> PageResult[InnovationCategory]:
    return await CategoryRepository(session).page(page)


async def create_category(
    session: AsyncSession, principal: Principal, data: InnovationCategoryCreate
) -> InnovationCategory:
    category = InnovationCategory(**data.model_dump())
    CategoryRepository(session).add(category)
    await session.flush()  # a taken code: pk_innovation_categories -> 409 (registered above)
    await audit.record(
        session,
        principal,
        "create",
        "innovation_category",
        category.code,
        institution_id=None,
        after=audit.snapshot(category),
    )
    return category


async def update_category(
    session: AsyncSession,
    principal: Principal,
    code: str,
    data: InnovationCategoryUpdate,
    preconditions: Preconditions,
) -> InnovationCategory:
    category = await get_category(session, code, for_update=True)
    preconditions.check_match(category.version, entity="innovation_category")
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise invalid_field(
            "innovation_category.name_required", "/name", "The name cannot be removed."
        )
    before = audit.snapshot(category)
    for field, value in changes.items():
        setattr(category, field, value)
    await session.flush()
    await audit.record(
        session,
        principal,
        "update",
        "innovation_category",
        category.code,
        institution_id=None,
        before=before,
        after=audit.snapshot(category),
    )
    return category


async def get_category(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> InnovationCategory:
    category = await CategoryRepository(session).get(code, for_update=for_update)
    if category is None:
        raise NotFound("innovation_category.not_found", f"No category has the code {code}.")
    return category
