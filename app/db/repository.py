"""Shared repository helpers: keyset pages over any SELECT, and counts."""

from __future__ import annotations

from collections.abc import Sequence
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


async def keyset_page(
    session: AsyncSession,
    stmt: Select[T],
    sort: SortKey,
    page: PageRequest,
    scope: str,
) -> PageResult[T]:
    """Run `stmt` as one page after the cursor's position, ordered by `sort` (no OFFSET scans)."""
    cols = sort.columns
    paged = stmt
    if page.cursor is not None:
        after = page.signer.decode(page.cursor, scope, sort.python_types)
        position = tuple_(*cols)
        bound = tuple_(*after)
        paged = paged.where(position < bound if sort.descending else position > bound)
    order = [c.desc() for c in cols] if sort.descending else [c.asc() for c in cols]
    rows: Sequence[T] = (await session.scalars(paged.order_by(*order).limit(page.limit + 1))).all()
    has_more = len(rows) > page.limit
    items = list(rows[: page.limit])
    next_cursor = None
    if has_more and items:
        last = items[-1]
        next_cursor = page.signer.encode(scope, [getattr(last, c.key) for c in cols])
    total = None
    if page.include_total:
        total = await session.scalar(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        )
    return PageResult(items=items, next_cursor=next_cursor, has_more=has_more, total=total)


@dataclass(frozen=True)
class RowSortKey:
    """An ordering over any expressions (a computed rank too), for Core row queries: each
    `(label, expression, python type)`, the last one unique, all in one direction."""

    columns: tuple[tuple[str, Any, type], ...]  # (label, column or expression, type)
    descending: bool = False


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
    exprs = [expr for _, expr, _ in sort.columns]
    paged = stmt.add_columns(*(expr.label(f"_sort_{label}") for label, expr, _ in sort.columns))
    if page.cursor is not None:
        after = page.signer.decode(page.cursor, scope, [t for _, _, t in sort.columns])
        position = tuple_(*exprs)
        bound = tuple_(*after)
        paged = paged.where(position < bound if sort.descending else position > bound)
    order = [e.desc() for e in exprs] if sort.descending else [e.asc() for e in exprs]
    result = await session.execute(paged.order_by(*order).limit(page.limit + 1))
    rows = result.mappings().all()
    has_more = len(rows) > page.limit
    items = list(rows[: page.limit])
    next_cursor = None
    if has_more and items:
        last = items[-1]
        next_cursor = page.signer.encode(
            scope, [last[f"_sort_{label}"] for label, _, _ in sort.columns]
        )
    total = None
    if page.include_total:
        counted = count_stmt if count_stmt is not None else stmt
        total = await session.scalar(
            select(func.count()).select_from(counted.order_by(None).subquery())
        )
    return PageResult(items=items, next_cursor=next_cursor, has_more=has_more, total=total)
