"""Every SQL statement of the catalogue: records, the filtered list, search, facets and export.

Reads are SQLAlchemy Core over `innovations` joined to their institution and unit (no ORM
objects on the hot path); writes go through the ORM so versions and audit snapshots work.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    RowMapping,
    Select,
    SmallInteger,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, REGCONFIG, TSQUERY

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.reads import CompiledRead, Reader
from app.db.repository import (
    PageResult,
    RepositoryBase,
    RowSortKey,
    SortKey,
    keyset_page,
    keyset_rows,
)
from app.domains.innovations import similarity_repository as similarity
from app.domains.innovations.schemas import InnovationFilter, InnovationSort
from app.domains.regions.repository import within
from app.models.enums import InnovationStatus
from app.models.innovations import Innovation, InnovationCategory
from app.models.institutions import Institution, Unit
from app.models.regions import Region
from app.models.replications import Replication
from app.models.submissions import Award

INDONESIAN = cast(literal_column("'indonesian'"), REGCONFIG)
# Marks around matched words in snippets: private-use characters, swapped for <mark> after
# the text is HTML-escaped (so a snippet is safe to render as HTML).
MARK_START, MARK_STOP = "\ue000", "\ue001"
_HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords=30, MinWords=12, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)


@dataclass(frozen=True)
class Visibility:
    """Which records a caller reads: published ones, plus drafts and archived ones of its own
    institution or unit; `everything` for the secretariat; `PUBLISHED_ONLY` for the public."""

    everything: bool = False
    institution_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None

    def admits(
        self, status: InnovationStatus, institution_id: uuid.UUID, unit_id: uuid.UUID
    ) -> bool:
        """The rule of `_visible` (the SQL form below) for one record already loaded."""
        return (
            self.everything
            or status == InnovationStatus.published
            or (self.unit_id is not None and self.unit_id == unit_id)
            or (self.institution_id is not None and self.institution_id == institution_id)
        )

    def admits_row(self, row: Mapping[Any, Any]) -> bool:
        """`admits` for a record read as a row (its `status`, `institution_id`, `unit_id`)."""
        return self.admits(row["status"], row["institution_id"], row["unit_id"])

    @property
    def scope(self) -> str:
        """The part of a list cursor's scope that says what the caller reads (not a repr)."""
        if self.everything:
            return "all"
        return f"published+i={self.institution_id or '-'}+u={self.unit_id or '-'}"


PUBLISHED_ONLY = Visibility()
# A relevance-sorted search ranks at most this many matches, the newest; other sorts and the
# counts (`include_total`, facets) cover every match.
RELEVANCE_CANDIDATES = 2000

_OWNER_COLUMNS = (
    Innovation.id,
    Innovation.title,
    Innovation.acronym_expansion,
    Innovation.institution_id,
    Institution.name.label("institution_name"),
    Institution.kind.label("institution_kind"),
    Institution.region_code.label("region_code"),
    Innovation.unit_id,
    Unit.name.label("unit_name"),
    Innovation.year_started,
    Innovation.implemented_date,
    Innovation.is_digital,
    Innovation.stage,
    Innovation.sdgs,
    Innovation.category_codes,
    Innovation.sustainability_status,
    Innovation.status,
    Innovation.published_at,
    Innovation.created_at,
    Innovation.updated_at,
    Innovation.version,
)
_RECORD_COLUMNS = (
    *_OWNER_COLUMNS,
    Innovation.sections,
    Innovation.regulations,
    Innovation.budget_lines,
    Innovation.links,
    Innovation.archived_at,
    Innovation.source_system,
    Innovation.external_id,
)
# CSV export: the summary's columns plus the summary section.
EXPORT_COLUMNS = (*_OWNER_COLUMNS, Innovation.sections["summary"].astext.label("summary"))


def _joined(*columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(Innovation)
        .join(Institution, Institution.id == Innovation.institution_id)
        .join(Unit, Unit.id == Innovation.unit_id)
    )


# Built once: constructing this select costs more than running it (bench/README.md).
_READ_ONE = _joined(*_RECORD_COLUMNS).where(
    Innovation.id == bindparam("innovation_id", type_=Uuid())
)
# ... and compiled once for the driver, for a GET by id (app/db/reads.py).
READ_ONE = CompiledRead(_READ_ONE)


def _visible(visibility: Visibility) -> ColumnElement[bool]:
    """`Visibility.admits` as a WHERE condition."""
    if visibility.everything:
        return true()
    published = Innovation.status == InnovationStatus.published
    if visibility.unit_id is not None:
        return or_(published, Innovation.unit_id == visibility.unit_id)
    if visibility.institution_id is not None:
        return or_(published, Innovation.institution_id == visibility.institution_id)
    return published


def normalise_query(q: str) -> str:
    """What trigram matching compares: lower case, apostrophes gone (as in `search_title`)."""
    return " ".join(q.lower().replace("'", "").split())


@dataclass(frozen=True)
class Search:
    """The parts of a `q` search: the full-text query, the trigram match and the rank."""

    tsquery: ColumnElement[Any]
    matches: ColumnElement[bool]
    rank: ColumnElement[float]

    @classmethod
    def of(cls, q: str, *, published_only: bool = True) -> Search:
        tsquery = func.websearch_to_tsquery(INDONESIAN, cast(q, Text))
        fuzzy = cast(normalise_query(q), Text)
        # Typos: each typed word that is no title's word becomes the
        # title words most like it (`innovation_fuzzy_tsquery`, migration 0007, over the
        # vocabulary `innovation_words`), so the full-text index answers both parts and the
        # cost does not grow with the number of records. A scalar subquery: evaluated once.
        typo_tsquery = select(
            func.innovation_fuzzy_tsquery(
                cast(q, Text), literal(published_only, Boolean), type_=TSQUERY
            )
        ).scalar_subquery()
        # Two conditions, not one combined tsquery: the planner estimates how many rows the
        # typed words match only from a constant (a very common word: walk the newest first
        # rather than collect every match; 9 s instead of 70 ms at 1M rows, bench/README.md).
        matches = or_(
            Innovation.search_vector.op("@@")(tsquery),
            Innovation.search_vector.op("@@")(typo_tsquery),
        )
        # Full-text rank (title hits weigh most) plus how closely the typed words match the
        # title or its expansion (acronyms and typos).
        rank = cast(func.ts_rank(Innovation.search_vector, tsquery, 1), Float) + cast(
            func.word_similarity(fuzzy, Innovation.search_title), Float
        )
        return cls(tsquery=tsquery, matches=matches, rank=rank)


def _filtered(
    stmt: Select[Any],
    filters: InnovationFilter,
    visibility: Visibility,
    *,
    similar_joined: bool = False,
) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [_visible(visibility)]
    if filters.q:
        # Typo alternatives from drafts' titles only for the secretariat (migration 0007).
        conditions.append(Search.of(filters.q, published_only=not visibility.everything).matches)
    if filters.year_from is not None:
        conditions.append(Innovation.year_started >= filters.year_from)
    if filters.year_to is not None:
        conditions.append(Innovation.year_started <= filters.year_to)
    if filters.region:
        conditions.append(within(Institution.region_code, filters.region))
    if filters.institution_id is not None:
        conditions.append(Innovation.institution_id == filters.institution_id)
    if filters.unit_id is not None:
        conditions.append(Innovation.unit_id == filters.unit_id)
    if filters.institution_kind:
        conditions.append(Institution.kind.in_(filters.institution_kind))
    if filters.is_digital is not None:
        conditions.append(Innovation.is_digital.is_(filters.is_digital))
    if filters.stage:
        conditions.append(Innovation.stage.in_(filters.stage))
    if filters.sdg:
        conditions.append(Innovation.sdgs.overlap(cast(filters.sdg, ARRAY(SmallInteger))))
    if filters.category:
        conditions.append(Innovation.category_codes.overlap(cast(filters.category, ARRAY(String))))
    if filters.status:
        conditions.append(Innovation.status.in_(filters.status))
    conditions.extend(_record_conditions(filters))
    if filters.similar_to is not None and not similar_joined:
        alike = similarity.ranked(filters.similar_to, filters.similar_exclude)
        conditions.append(Innovation.id.in_(select(alike.c.id)))
    return stmt.where(and_(*conditions))


def _record_conditions(filters: InnovationFilter) -> list[ColumnElement[bool]]:
    """The filters on the innovation's awards and on its replications."""
    conditions: list[ColumnElement[bool]] = []
    if filters.has_award is not None:
        held = exists().where(Award.innovation_id == Innovation.id)
        conditions.append(held if filters.has_award else ~held)
    if filters.award_tier or filters.award_year:
        award = exists().where(Award.innovation_id == Innovation.id)
        if filters.award_tier:
            award = award.where(Award.tier.in_(filters.award_tier))
        if filters.award_year:
            award = award.where(Award.year.in_(filters.award_year))
        conditions.append(award)
    if filters.replicated is not None:
        # Replicated: an adopter reached implementation (the statistics' count).
        proven = exists().where(
            Replication.source_innovation_id == Innovation.id,
            Replication.implemented_date.is_not(None),
        )
        conditions.append(proven if filters.replicated else ~proven)
    return conditions


def _sort_key(sort: InnovationSort, filters: InnovationFilter) -> RowSortKey:
    if sort is InnovationSort.relevance:
        assert filters.q
        rank = Search.of(filters.q).rank
        return RowSortKey((("rank", rank, float), ("id", Innovation.id, uuid.UUID)), True)
    descending = sort.value.startswith("-")
    column = {
        "created_at": (Innovation.created_at, datetime),
        "title": (Innovation.title, str),
        "year_started": (Innovation.year_started, int),
    }[sort.value.lstrip("-")]
    return RowSortKey(
        ((column[0].key, column[0], column[1]), ("id", Innovation.id, uuid.UUID)), descending
    )


def _natural(value: str) -> tuple[int, str]:
    """Numbers (years, SDGs) in numeric order, other values as text."""
    return (int(value), "") if value.isdigit() else (0, value)


@dataclass(frozen=True)
class Counts:
    """What `group_counts` finds: matching records, their distinct institutions, and per
    dimension the `(value, label, count)` of each value."""

    total: int
    institutions: int
    by: dict[str, list[tuple[str, str | None, int]]]


class InnovationRepository(RepositoryBase[Innovation]):
    model = Innovation

    # --- writes (ORM: `get`, `add`, `delete` of the base) -----------------------------------

    async def get_key_shared(self, innovation_id: uuid.UUID) -> Innovation | None:
        """The record, re-read and held FOR KEY SHARE until the transaction ends: a writer
        that locks it for update (an archive) waits, then sees what this transaction wrote."""
        return await self.session.get(
            Innovation,
            innovation_id,
            with_for_update={"read": True, "key_share": True},
            populate_existing=True,
        )

    # --- reads (Core) -----------------------------------------------------------------------

    async def read(self, innovation_id: uuid.UUID) -> RowMapping | None:
        """The whole record with its owner's names, whatever its status, in the session's
        transaction (after a write)."""
        # On the session's connection: a Core result, without the ORM's result processing.
        conn = await self.session.connection()
        result = await conn.execute(_READ_ONE, {"innovation_id": innovation_id})
        row: RowMapping | None = result.mappings().one_or_none()
        return row

    async def read_many(self, ids: Sequence[uuid.UUID]) -> list[RowMapping]:
        """The whole records of these innovations, whatever their status (callers filter)."""
        if not ids:
            return []
        rows = await self.session.execute(_joined(*_RECORD_COLUMNS).where(Innovation.id.in_(ids)))
        return list(rows.mappings())

    @staticmethod
    async def read_by(reader: Reader, innovation_id: uuid.UUID) -> Mapping[str, Any] | None:
        """The same record for a GET: one compiled statement on the driver, no session."""
        return await reader.one(READ_ONE, innovation_id=innovation_id)

    async def page(
        self,
        filters: InnovationFilter,
        visibility: Visibility,
        sort: InnovationSort,
        page: PageRequest,
    ) -> PageResult[RowMapping]:
        stmt = _filtered(_joined(*_OWNER_COLUMNS), filters, visibility)
        count_stmt = None
        if filters.similar_to is not None and sort is InnovationSort.relevance:
            # Ranked by similarity: the most alike are joined once, with their scores.
            alike = similarity.ranked(filters.similar_to, filters.similar_exclude)
            stmt = _filtered(
                _joined(*_OWNER_COLUMNS).join(alike, alike.c.id == Innovation.id),
                filters,
                visibility,
                similar_joined=True,
            )
            sort_key = RowSortKey(
                (("score", alike.c.score, float), ("id", Innovation.id, uuid.UUID)), True
            )
            scope = f"innovations:similar:{visibility.scope}:{filters_fingerprint(filters)}"
            return await keyset_rows(self.session, stmt, sort_key, page, scope)
        if sort is InnovationSort.relevance:
            # Rank only the newest matches: ranking every match of a very common word grows
            # with the catalogue; this keeps a search page's cost flat (bench/README.md).
            candidates = (
                _filtered(_joined(Innovation.id), filters, visibility)
                .order_by(Innovation.created_at.desc(), Innovation.id.desc())
                .limit(RELEVANCE_CANDIDATES)
                .cte("candidates")
            )
            count_stmt = stmt
            # The candidates already passed every filter: not applied a second time.
            stmt = _joined(*_OWNER_COLUMNS).where(Innovation.id.in_(select(candidates.c.id)))
        scope = f"innovations:{sort.value}:{visibility.scope}:{filters_fingerprint(filters)}"
        return await keyset_rows(
            self.session, stmt, _sort_key(sort, filters), page, scope, count_stmt=count_stmt
        )

    async def similar(
        self, innovation_id: uuid.UUID, exclude: uuid.UUID | None, limit: int
    ) -> list[RowMapping]:
        """The published innovations most alike `innovation_id`, best first, with their
        scores; `exclude`: an institution whose innovations are left out (the caller's own)."""
        result = await self.session.execute(similarity.statement(innovation_id, exclude, limit))
        return list(result.mappings().all())

    async def summaries(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, RowMapping]:
        """The list's columns of these innovations (whatever their status: callers filter)."""
        if not ids:
            return {}
        rows = await self.session.execute(_joined(*_OWNER_COLUMNS).where(Innovation.id.in_(ids)))
        return {row["id"]: row for row in rows.mappings()}

    async def snippets(self, ids: Sequence[uuid.UUID], q: str) -> dict[uuid.UUID, str]:
        """Highlighted excerpts for one page of search results (raw, with the mark characters)."""
        if not ids:
            return {}
        text = func.concat_ws(
            " ",
            Innovation.acronym_expansion,
            Innovation.sections["summary"].astext,
            Innovation.sections["novelty"].astext,
            Innovation.sections["implementation"].astext,
        )
        # Escaped before the headline is cut: the parser would drop tag-like text (`<b>`) as
        # markup; entities pass through. The mark characters are the headline's alone.
        for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            text = func.replace(text, cast(raw, Text), cast(escaped, Text))
        text = func.translate(text, cast(MARK_START + MARK_STOP, Text), cast("", Text))
        stmt = select(
            Innovation.id,
            func.ts_headline(
                INDONESIAN,
                text,
                Search.of(q).tsquery,
                cast(_HEADLINE_OPTIONS, Text),
            ),
        ).where(Innovation.id.in_(ids))
        return {row[0]: row[1] for row in await self.session.execute(stmt)}

    async def stream(
        self,
        filters: InnovationFilter,
        visibility: Visibility,
        sort: InnovationSort,
        batch: int = 1000,
    ) -> AsyncIterator[RowMapping]:
        """Every matching row in list order, fetched `batch` at a time from a server cursor.

        The statement runs before this returns, so a database error is still an error response
        and not a broken stream after a 200."""
        if filters.similar_to is not None and sort is InnovationSort.relevance:
            alike = similarity.ranked(filters.similar_to, filters.similar_exclude)
            base = _joined(*EXPORT_COLUMNS).join(alike, alike.c.id == Innovation.id)
            stmt = _filtered(base, filters, visibility, similar_joined=True).order_by(
                alike.c.score.desc(), Innovation.id.desc()
            )
        else:
            order = _sort_key(sort, filters).order_by()
            stmt = _filtered(_joined(*EXPORT_COLUMNS), filters, visibility).order_by(*order)
        result = await self.session.stream(stmt.execution_options(yield_per=batch))
        rows: AsyncIterator[RowMapping] = result.mappings().__aiter__()
        return rows

    async def group_counts(
        self, filters: InnovationFilter, visibility: Visibility, dimensions: Sequence[str]
    ) -> Counts:
        """The matching records, the institutions they belong to, and per dimension the
        `(value, label, count)` of each value, most frequent first, in one statement.

        One pass over the matching rows counts every scalar dimension (GROUPING SETS; the
        distinct institutions are the groups of the `institution_id` set), and one pass per
        array dimension counts its elements. Only `institutions` is joined: for published rows
        the covering index `ix_innovations_published_facets` serves the pass without the heap
        (bench/README.md)."""
        keyed: dict[str, ColumnElement[Any]] = {
            "institution": cast(Innovation.institution_id, Text),
            "status": cast(Innovation.status, Text),
            "stage": cast(Innovation.stage, Text),
            "is_digital": cast(Innovation.is_digital, Text),
            "institution_kind": cast(Institution.kind, Text),
            "year_started": cast(Innovation.year_started, Text),
            # Literal arguments: GROUP BY must repeat the select's expression exactly.
            "province": func.split_part(
                Institution.region_code, literal_column("'.'"), literal_column("1")
            ),
        }
        scalar = ["institution", *(d for d in dimensions if d in keyed)]
        columns = [keyed[name] for name in scalar]
        base = (
            select()
            .select_from(Innovation)
            .join(Institution, Institution.id == Innovation.institution_id)
        )
        parts: list[Any] = [
            _filtered(
                base.add_columns(
                    func.grouping(*columns).label("dimension"),
                    func.coalesce(*columns).label("value"),
                    func.count().label("count"),
                ),
                filters,
                visibility,
            ).group_by(func.grouping_sets(tuple_(), *(tuple_(c) for c in columns)))
        ]
        everything = (1 << len(columns)) - 1
        names = {everything ^ (1 << (len(columns) - 1 - i)): name for i, name in enumerate(scalar)}
        for code, name in enumerate(d for d in dimensions if d not in keyed):
            if name not in ("sdg", "category"):  # pragma: no cover - the schemas check this
                raise ValueError(name)
            array = Innovation.sdgs if name == "sdg" else Innovation.category_codes
            element = (
                func.unnest(array)
                .table_valued("value")
                .render_derived(name=f"{name}_values")
                .lateral()
            )
            value = cast(element.c.value, Text)
            names[-1 - code] = name
            parts.append(
                _filtered(
                    base.add_columns(literal(-1 - code), value, func.count()).join(element, true()),
                    filters,
                    visibility,
                ).group_by(value)
            )
        total = institutions = 0
        counts: dict[str, list[tuple[str, str | None, int]]] = {d: [] for d in dimensions}
        for mask, value, count in (await self.session.execute(union_all(*parts))).all():
            if mask == everything:
                total = count
            elif names[mask] == "institution":
                institutions += 1
            elif names[mask] != "province" or value:
                counts[names[mask]].append((value, None, count))
        labels = await self._labels(counts)
        for dimension, values in counts.items():
            named = labels.get(dimension, {})
            values[:] = sorted(
                ((v, named.get(v), c) for v, _, c in values),
                key=lambda item: (-item[2], _natural(item[0])),
            )
        return Counts(total, institutions, counts)

    async def _labels(
        self, counts: dict[str, list[tuple[str, str | None, int]]]
    ) -> dict[str, dict[str, str]]:
        labels: dict[str, dict[str, str]] = {}
        provinces = [v for v, _, _ in counts.get("province", [])]
        if provinces:
            rows = await self.session.execute(
                select(Region.code, Region.name).where(Region.code.in_(provinces))
            )
            labels["province"] = {str(r[0]): str(r[1]) for r in rows}
        categories = [v for v, _, _ in counts.get("category", [])]
        if categories:
            rows = await self.session.execute(
                select(InnovationCategory.code, InnovationCategory.name).where(
                    InnovationCategory.code.in_(categories)
                )
            )
            labels["category"] = {str(r[0]): str(r[1]) for r in rows}
        return labels


class CategoryRepository(RepositoryBase[InnovationCategory]):
    model = InnovationCategory

    async def unknown_codes(self, codes: Sequence[str]) -> list[str]:
        """The codes of `codes` that are not in the vocabulary, in the order given."""
        if not codes:
            return []
        known = set(
            await self.session.scalars(
                select(InnovationCategory.code).where(InnovationCategory.code.in_(codes))
            )
        )
        return [code for code in codes if code not in known]

    async def page(self, page: PageRequest) -> PageResult[InnovationCategory]:
        stmt: Select[Any] = select(InnovationCategory)
        key = SortKey((InnovationCategory.code,))
        return await keyset_page(self.session, stmt, key, page, "innovation-categories")
