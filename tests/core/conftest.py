"""Fixtures shared by the authorization and audit tests of this folder."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.tokens import issue_access_token
from app.models.accounts import User
from tests.conftest import (
    hub_factory,
    innovation_factory,
    institution_factory,
    unit_factory,
    user_factory,
)
from tests.core.test_authorization_matrix import World, build_world


@dataclasses.dataclass(frozen=True)
class _ModuleWorld:
    world: World
    password_changed_at: dict[uuid.UUID, datetime]  # of every person among the callers


@pytest.fixture(scope="module")
async def module_world(
    module_session: AsyncSession, settings: Settings, test_password_hash: str
) -> _ModuleWorld:
    """The world, built once per module in the module's transaction (about 60 rows and a
    dozen accounts): each test runs in a savepoint of it, rolled back after the test."""
    session = module_session
    make_institution = institution_factory(session)
    world = await build_world(
        session,
        settings,
        make_institution,
        unit_factory(session),
        user_factory(session, test_password_hash),
        innovation_factory(session),
        hub_factory(session, make_institution),
    )
    people = [c.id for c in world.callers.values() if c.kind == "user" and c.id is not None]
    rows = await session.execute(
        select(User.id, User.password_changed_at).where(User.id.in_(people))
    )
    changed = {row.id: row.password_changed_at for row in rows}
    # Released into the module's transaction; the tests' sessions load what they need afresh.
    await session.commit()
    session.expunge_all()
    return _ModuleWorld(world, changed)


@pytest.fixture
def world(module_world: _ModuleWorld, settings: Settings) -> World:
    """Institutions A and B and a caller of every kind, as every test found them (each test's
    changes are rolled back). The people's access tokens are issued afresh for each test: a
    module may take longer than a token lives."""
    world = module_world.world
    callers = {
        name: dataclasses.replace(
            caller,
            headers={
                "Authorization": "Bearer "
                + issue_access_token(
                    settings, caller.id, module_world.password_changed_at[caller.id]
                ).token
            },
        )
        if caller.kind == "user" and caller.id is not None
        else caller
        for name, caller in world.callers.items()
    }
    return dataclasses.replace(world, callers=callers)
