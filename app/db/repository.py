"""Shared repository helpers: keyset pages over any SELECT, and counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import RowMapping, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.pagination import PageRequest

T = TypeVar("T")


@dataclass(frozen=True)
class SortKey:
    """An ordering: columns ending in a unique one (the tie-break), all in one direction."""

    columns: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = False

    @property
    def python_types(self) -> list[type]:
        return [c.property.columns[0].type.python_type for c in self.columns]


@dataclass(frozen=True)
class PageResult(Generic[T]):
    items: list[T]
    next_cursor: str | None
    has_more: bool
    total: int | None

    @classmethod
    def empty(cls, page: PageRequest) -> PageResult[T]:
        """No rows: what a caller gets for a filter outside its scope."""
        return cls(
            items=[], next_cursor=None, has_more=False, total=0 if page.include_total else None
        )


def order_by(exprs: Sequence[Any], descending: bool) -> list[Any]:
    """ORDER BY terms for a keyset ordering (all in one direction)."""
    return [e.desc() if descending else e.asc() for e in exprs]


def _after_cursor(
    stmt: Select[Any],
    exprs: Sequence[Any],
    types: Sequence[type],
    descending: bool,
    page: PageRequest,
    scope: str,
) -> Select[Any]:
    """`stmt` limited to the rows after the cursor's position, ordered, one row over the page."""
    if page.cursor is not None:
        after = page.signer.decode(page.cursor, scope, types)
        position, bound = tuple_(*exprs), tuple_(*after)
        stmt = stmt.where(position < bound if descending else position > bound)
    return stmt.order_by(*order_by(exprs, descending)).limit(page.limit + 1)


async def _page_of(
    session: AsyncSession,
    rows: Sequence[T],
    page: PageRequest,
    scope: str,
    key_of: Callable[[T], list[Any]],
    counted: Select[Any],
) -> PageResult[T]:
    """The page envelope: the rows, the cursor after the last one, and the total if asked."""
    has_more = len(rows) > page.limit
    items = list(rows[: page.limit])
    next_cursor = page.signer.encode(scope, key_of(items[-1])) if has_more and items else None
    total = None
    if page.include_total:
        total = await session.scalar(
            select(func.count()).select_from(counted.order_by(None).subquery())
        )
    return PageResult(items=items, next_cursor=next_cursor, has_more=has_more, total=total)


async def keyset_page(
    session: AsyncSession,
    stmt: Select[T],
    sort: SortKey,
    page: PageRequest,
    scope: str,
) -> PageResult[T]:
    """Run `stmt` as one page after the cursor's position, ordered by `sort` (no OFFSET scans)."""
    cols = sort.columns
    paged = _after_cursor(stmt, cols, sort.python_types, sort.descending, page, scope)
    rows: Sequence[T] = (await session.scalars(paged)).all()
    return await _page_of(
        session, rows, page, scope, lambda last: [getattr(last, c.key) for c in cols], stmt
    )


@dataclass(frozen=True)
class RowSortKey:
    """An ordering over any expressions (a computed rank too), for Core row queries: each
    `(label, expression, python type)`, the last one unique, all in one direction."""

    columns: tuple[tuple[str, Any, type], ...]  # (label, column or expression, type)
    descending: bool = False

    @property
    def exprs(self) -> list[Any]:
        return [expr for _, expr, _ in self.columns]

    def order_by(self) -> list[Any]:
        return order_by(self.exprs, self.descending)


async def keyset_rows(
    session: AsyncSession,
    stmt: Select[Any],
    sort: RowSortKey,
    page: PageRequest,
    scope: str,
    *,
    count_stmt: Select[Any] | None = None,
) -> PageResult[RowMapping]:
    """`keyset_page` for Core statements: one page of row mappings after the cursor.

    `count_stmt` is what `include_total` counts when it differs from `stmt`."""
    labels = [f"_sort_{label}" for label, _, _ in sort.columns]
    paged = stmt.add_columns(*(e.label(n) for e, n in zip(sort.exprs, labels, strict=True)))
    paged = _after_cursor(
        paged, sort.exprs, [t for _, _, t in sort.columns], sort.descending, page, scope
    )
    # On the session's connection: plain rows need none of the ORM's result processing
    # (about a tenth of a list request, bench/README.md). Sessions do not autoflush.
    connection = await session.connection()
    rows = (await connection.execute(paged)).mappings().all()
    return await _page_of(
        session,
        rows,
        page,
        scope,
        lambda last: [last[n] for n in labels],
        count_stmt if count_stmt is not None else stmt,
    )


ModelT = TypeVar("ModelT")


class RepositoryBase(Generic[ModelT]):
    """What every repository of one table does alike: read one row by id (optionally locked
    for the write that follows), add, delete. Subclasses set `model` and add their queries."""

    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, record_id: Any, *, for_update: bool = False) -> ModelT | None:
        """The row by primary key, or None; `for_update` locks it and re-reads it from the
        database (never a stale copy from the session)."""
        return await self.session.get(
            self.model, record_id, with_for_update=for_update, populate_existing=for_update
        )

    def add(self, record: ModelT) -> None:
        self.session.add(record)

    async def delete(self, record: ModelT) -> None:
        await self.session.delete(record)
