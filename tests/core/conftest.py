"""Fixtures shared by the authorization and audit tests of this folder."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from tests.conftest import (
    HubFactory,
    InnovationFactory,
    InstitutionFactory,
    UnitFactory,
    UserFactory,
)
from tests.core.test_authorization_matrix import World, build_world


@pytest.fixture
async def world(
    session: AsyncSession,
    settings: Settings,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_user: UserFactory,
    make_innovation: InnovationFactory,
    make_hub: HubFactory,
) -> World:
    """Institutions A and B and a caller of every kind, fresh for every test."""
    return await build_world(
        session, settings, make_institution, make_unit, make_user, make_innovation, make_hub
    )
