"""The public's facets are shared and kept `PUBLIC_FACETS_CACHE_SECONDS`; a caller who sees
drafts always gets counts of its own."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.models.enums import InnovationStatus, InstitutionKind, Role
from app.models.institutions import Unit
from tests.conftest import (
    AppFactory,
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
    client_for,
)

Headers = dict[str, str]
PUBLISHED = InnovationStatus.published


@pytest.fixture
def cached_app(make_app: AppFactory) -> FastAPI:
    return make_app(public_facets_cache_seconds=60)


@pytest.fixture
async def unit(make_institution: InstitutionFactory, make_unit: UnitFactory) -> Unit:
    city = await make_institution(
        name="Pemerintah Kota Uji Faset", kind=InstitutionKind.pemkot, region_code="12.71"
    )
    return await make_unit(city, name="Bagian Faset")


async def facets_total(
    client: httpx.AsyncClient, headers: Headers | None = None, **params: str
) -> int:
    response = await client.get("/v1/innovations/facets", params=params, headers=headers)
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


async def test_the_publics_facets_are_kept_and_the_secretariats_are_not(
    cached_app: FastAPI, admin: Headers, unit: Unit, make_innovation: InnovationFactory
) -> None:
    async with client_for(cached_app) as client:
        public_before = await facets_total(client)
        admin_before = await facets_total(client, admin)
        await make_innovation(unit, PUBLISHED)
        # The public's answer is the kept one for up to the configured seconds...
        assert await facets_total(client) == public_before
        # ...while the secretariat counts afresh.
        assert await facets_total(client, admin) == admin_before + 1
        # Other filters are another question, answered afresh.
        assert await facets_total(client, region="12.71") >= 1
        cached_app.state.public_facets.clear()
        assert await facets_total(client) == public_before + 1
    assert cached_app.state.public_facets.shared == 1


async def test_a_units_operator_sees_its_new_draft_counted_at_once(
    cached_app: FastAPI, auth: KeyFactory, unit: Unit, make_innovation: InnovationFactory
) -> None:
    operator = await auth(Role.unit_operator, unit_id=unit.id)
    async with client_for(cached_app) as client:
        public_before = await facets_total(client)
        before = await facets_total(client, operator)
        await make_innovation(unit)  # a draft
        assert await facets_total(client, operator) == before + 1
        assert await facets_total(client) == public_before


async def test_with_zero_seconds_nothing_is_kept(
    make_app: AppFactory, unit: Unit, make_innovation: InnovationFactory
) -> None:
    app = make_app(public_facets_cache_seconds=0)
    async with client_for(app) as client:
        before = await facets_total(client)
        await make_innovation(unit, PUBLISHED)
        assert await facets_total(client) == before + 1
