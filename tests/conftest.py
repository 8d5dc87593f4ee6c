"""Fixtures: one migrated database per run; every test inside a transaction rolled back after it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.config import PROJECT_ROOT, Environment, Settings
from app.core.passwords import hash_password
from app.core.ratelimit import build_rate_limiter
from app.core.shared_results import SharedResults
from app.core.tokens import issue_access_token
from app.db.reads import CompiledRead, ConnectionReader
from app.db.replica import public_read_session, public_unit_of_work
from app.db.session import create_engine, read_session, unit_of_work
from app.db.url import embedded_server_url
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.main import create_app
from app.models.accounts import User
from app.models.enums import (
    HubKind,
    HubStatus,
    InnovationStage,
    InnovationStatus,
    InstitutionKind,
    Role,
)
from app.models.hubs import Hub
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from tests import response_checks
from tests.fixtures.database import drop_database, migrate, seed, test_database_url

pytest_plugins = ["tests.fixtures.smtp", "tests.fixtures.s3"]

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"
TEST_PASSWORD = "correct horse battery staple"


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, the controller starts the embedded PostgreSQL (when no
    TEST_DATABASE_URL is given) before any worker exists: the workers join the running server
    instead of racing to start it, and it stops when the controller exits."""
    if hasattr(config, "workerinput") or os.environ.get("TEST_DATABASE_URL"):
        return
    if config.getoption("numprocesses", None):
        embedded_server_url(PROJECT_ROOT / ".data" / "postgres")


def make_settings(url: URL, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": Environment.test,
        "database_url": url.render_as_string(hide_password=False),
        "secret_key": TEST_SECRET,
        "log_format": "console",
        "log_level": "WARNING",
        # Off unless a test turns it on: tests make many calls from one address.
        "rate_limit_per_minute": 0,
        "rate_limit_anonymous_per_minute": 0,
        "rate_limit_storage": "memory",
        # Every test's data is its own (rolled back): answers kept from another test are wrong.
        "public_facets_cache_seconds": 0,
        # Documents go to a folder of this run's own, removed with the system's temp files.
        "documents_dir": Path(tempfile.gettempdir()) / f"inovasi-test-files-{os.getpid()}",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def database_url() -> Iterator[URL]:
    # One database per run, so runs that share a server never drop each other's database.
    url = test_database_url(f"inovasi_test_{os.getpid()}")
    migrate(url)
    seed(url, make_settings(url))
    yield url
    drop_database(url)
    shutil.rmtree(make_settings(url).documents_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(database_url: URL) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def engine(database_url: URL, settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, settings)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def module_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction the module's tests share, rolled back after the module: where data that
    is costly to build (the authorization matrix's world, the demo data) is built once."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture(scope="module")
async def module_session(module_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session on the module's transaction, for module-scoped data: a test whose fixtures
    use it runs in a savepoint of that transaction (see `connection`)."""
    session = AsyncSession(
        bind=module_connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    yield session
    await session.close()


@pytest.fixture
def _shared_connection(request: pytest.FixtureRequest) -> AsyncConnection | None:
    # A sync fixture: it may ask for the (async, module-scoped) connection only when needed.
    if "module_session" in request.fixturenames:
        connection: AsyncConnection = request.getfixturevalue("module_connection")
        return connection
    return None


@pytest.fixture
async def connection(
    engine: AsyncEngine, _shared_connection: AsyncConnection | None
) -> AsyncIterator[AsyncConnection]:
    """The test's connection, in a transaction rolled back after the test. A test that uses
    module-scoped data gets the module's connection, in a savepoint rolled back after it."""
    if _shared_connection is not None:
        savepoint = await _shared_connection.begin_nested()
        yield _shared_connection
        if savepoint.is_active:
            await savepoint.rollback()
        return
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """The test's session; the app's requests use it too, each request in a savepoint."""
    session = AsyncSession(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    yield session
    await session.close()


AppFactory = Callable[..., FastAPI]


class _RunningTest:
    """The running test's connection and session: every test app's requests use them.

    One object for the process, set by `make_app` for its test and cleared after it. Not a
    ContextVar: the apps are built once, and their requests run in tasks that the clients and
    the middleware start in contexts of their own; tests run one at a time in a process (with
    pytest-xdist, each worker is a process of its own)."""

    connection: AsyncConnection | None = None
    session: AsyncSession | None = None

    def current(self) -> tuple[AsyncConnection, AsyncSession]:
        if self.connection is None or self.session is None:
            raise RuntimeError("a test app was called outside the test that owns it")
        return self.connection, self.session


_running = _RunningTest()


async def _test_unit_of_work() -> AsyncIterator[AsyncSession]:
    """The requests' unit of work: the test's session, each request in a savepoint."""
    _, session = _running.current()
    # Keep the test's own setup: release its savepoint so that a request that fails rolls
    # back only its own work (the outer transaction still undoes everything afterwards).
    await session.commit()
    # As between two real requests: the request loads what it needs afresh, and the test's
    # objects stay readable (not expired) even when the request rolls back.
    session.expunge_all()
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    session.expunge_all()


class _TestReader:
    """Hot reads run on the test's connection, in its transaction, after what the test wrote
    is flushed."""

    async def one(self, read: CompiledRead, **params: Any) -> Mapping[str, Any] | None:
        connection, session = _running.current()
        await session.flush()
        return await ConnectionReader(connection).one(read, **params)


def _on_the_running_test(app: FastAPI) -> FastAPI:
    # Module-level callables: FastAPI keeps the callables it classifies in lru_caches, so a
    # closure made per test would be kept (and its test's session with it).
    app.dependency_overrides[unit_of_work] = _test_unit_of_work
    app.dependency_overrides[read_session] = _test_unit_of_work
    app.dependency_overrides[public_unit_of_work] = _test_unit_of_work
    app.dependency_overrides[public_read_session] = _test_unit_of_work
    app.state.reader = _TestReader()
    return app


@pytest.fixture(scope="session")
def shared_app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    """The app on the test settings, built once per run (building one takes about 0.2 s);
    `make_app` points it at each test's transaction and gives it fresh per-test state."""
    return _on_the_running_test(create_app(settings, engine=engine))


@pytest.fixture
async def make_app(
    database_url: URL,
    settings: Settings,
    engine: AsyncEngine,
    connection: AsyncConnection,
    session: AsyncSession,
    shared_app: FastAPI,
) -> AsyncIterator[AppFactory]:
    """`make_app(**setting_overrides)`: an app whose requests run in the test's transaction.
    With no overrides, the run's shared app (with a fresh rate limiter and facet cache for this
    test, so no counts carry over from another test); with overrides, a new app on those
    settings. Rate limiters are closed after the test."""
    _running.connection, _running.session = connection, session
    limiter = build_rate_limiter(settings, lambda: shared_app.state.engine)
    shared_app.state.rate_limiter = limiter
    shared_app.state.public_facets = SharedResults[str, Any](settings.public_facets_cache_seconds)
    apps: list[FastAPI] = []
    # A test may add routes of its own to the app it was given: take them off the shared app
    # afterwards (and the OpenAPI document built with them), so no other test sees them.
    routes = list(shared_app.router.routes)

    def make(**overrides: Any) -> FastAPI:
        if not overrides:
            return shared_app
        app = create_app(make_settings(database_url, **overrides), engine=engine)
        apps.append(app)
        return _on_the_running_test(app)

    try:
        yield make
    finally:
        _running.connection = _running.session = None
        if shared_app.router.routes != routes:
            shared_app.router.routes[:] = routes
            shared_app.openapi_schema = None
        for app in apps:
            await app.state.rate_limiter.aclose()
        await limiter.aclose()


@pytest.fixture
def app(make_app: AppFactory) -> FastAPI:
    return make_app()


@contextlib.asynccontextmanager
async def client_for(app: FastAPI, address: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` whose requests come from `address`. Every JSON response it receives
    is checked to write its instants in UTC with `Z` and to join its messages well
    (tests/response_checks.py)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 4000))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://test",
        event_hooks={"response": [response_checks.check_response]},
    ) as client:
        yield client


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


# --- factories ------------------------------------------------------------------------------

InstitutionFactory = Callable[..., Awaitable[Institution]]
UnitFactory = Callable[..., Awaitable[Unit]]
KeyFactory = Callable[..., Awaitable[dict[str, str]]]
UserFactory = Callable[..., Awaitable[User]]


def institution_factory(session: AsyncSession) -> InstitutionFactory:
    async def make(
        name: str | None = None,
        kind: InstitutionKind = InstitutionKind.kementerian,
        region_code: str | None = None,
        owner_institution_id: uuid.UUID | None = None,
        short_name: str | None = None,
    ) -> Institution:
        institution = Institution(
            name=name or f"Kementerian Uji {uuid.uuid4().hex[:8]}",
            kind=kind,
            region_code=region_code,
            owner_institution_id=owner_institution_id,
            short_name=short_name,
        )
        session.add(institution)
        await session.flush()
        return institution

    return make


def unit_factory(session: AsyncSession) -> UnitFactory:
    async def make(
        institution: Institution,
        name: str | None = None,
        parent: Unit | None = None,
        region_code: str | None = None,
    ) -> Unit:
        unit = Unit(
            institution_id=institution.id,
            name=name or f"Unit Uji {uuid.uuid4().hex[:8]}",
            parent_unit_id=parent.id if parent else None,
            region_code=region_code,
        )
        session.add(unit)
        await session.flush()
        return unit

    return make


@pytest.fixture
def make_institution(session: AsyncSession) -> InstitutionFactory:
    return institution_factory(session)


@pytest.fixture
def make_unit(session: AsyncSession) -> UnitFactory:
    return unit_factory(session)


@pytest.fixture
async def institution(make_institution: InstitutionFactory) -> Institution:
    """A ministry with no units (modules override it where they need another kind)."""
    return await make_institution()


@pytest.fixture
async def unit(make_unit: UnitFactory, institution: Institution) -> Unit:
    """A top-level unit of `institution`."""
    return await make_unit(institution)


COMPLETE_SECTIONS = {
    "summary": "Layanan kunjungan daring untuk masyarakat.",
    "background_and_aims": "Antrean panjang di kantor; tujuannya layanan lebih cepat.",
    "novelty": "Pertama kali pemesanan kunjungan dilakukan secara daring.",
    "implementation": "Diterapkan sejak 2021 di seluruh bagian.",
    "significance_and_impact": "Waktu tunggu turun dari dua jam menjadi lima belas menit.",
}
InnovationFactory = Callable[..., Awaitable[Innovation]]


def innovation_factory(session: AsyncSession) -> InnovationFactory:
    """`await make_innovation(unit, status=InnovationStatus.published, **fields)`: a record
    complete enough to publish (sections, an SDG, an implementation date), a draft by default."""

    async def make(
        unit: Unit, status: InnovationStatus = InnovationStatus.draft, **fields: Any
    ) -> Innovation:
        fields.setdefault("title", f"INOVASI-{uuid.uuid4().hex[:6].upper()}")
        fields.setdefault("year_started", 2021)
        fields.setdefault("implemented_date", date(2021, 7, 1))
        fields.setdefault("is_digital", True)
        fields.setdefault("stage", InnovationStage.penerapan)
        fields.setdefault("sdgs", [16])
        fields.setdefault("sections", dict(COMPLETE_SECTIONS))
        now = datetime.now(UTC)
        if status is not InnovationStatus.draft:
            fields.setdefault("published_at", now)
        if status is InnovationStatus.archived:
            fields.setdefault("archived_at", now)
        innovation = Innovation(
            institution_id=unit.institution_id, unit_id=unit.id, status=status, **fields
        )
        session.add(innovation)
        await session.flush()
        return innovation

    return make


@pytest.fixture
def make_innovation(session: AsyncSession) -> InnovationFactory:
    return innovation_factory(session)


HubFactory = Callable[..., Awaitable[Hub]]
# The date a hub reached each status, in the machine's order.
HUB_STATUS_DATES = (
    (HubStatus.committed, "committed_date"),
    (HubStatus.designated, "designated_date"),
    (HubStatus.active, "activated_date"),
    (HubStatus.inactive, "inactivated_date"),
)
_HUB_ORDER = [HubStatus.candidate, *(status for status, _ in HUB_STATUS_DATES)]


def hub_factory(session: AsyncSession, make_institution: InstitutionFactory) -> HubFactory:
    """`await make_hub(host, status=HubStatus.active, **fields)`: a hub with the dates of every
    status up to `status` (2020-01-01 on). Without a host, a central hub of a new ministry; with
    a pemprov host, a regional one. A candidate by default."""

    async def make(
        host: Institution | None = None, status: HubStatus = HubStatus.candidate, **fields: Any
    ) -> Hub:
        host = host or await make_institution()
        kind = HubKind.regional if host.kind is InstitutionKind.pemprov else HubKind.central
        fields.setdefault("name", f"JIPP Uji {uuid.uuid4().hex[:8]}")
        fields.setdefault("kind", kind)
        fields.setdefault("candidate_date", date(2020, 1, 1))
        reached = _HUB_ORDER.index(status)
        for month, (step, column) in enumerate(HUB_STATUS_DATES, start=2):
            if _HUB_ORDER.index(step) <= reached:
                fields.setdefault(column, date(2020, month, 1))
        if fields.get("designated_date") is not None:
            fields.setdefault("designation_decree_reference", "Keputusan Menteri PANRB Nomor 1")
            fields.setdefault("designation_year", fields["designated_date"].year)
        hub = Hub(host_institution_id=host.id, status=status, **fields)
        session.add(hub)
        await session.flush()
        return hub

    return make


@pytest.fixture
def make_hub(session: AsyncSession, make_institution: InstitutionFactory) -> HubFactory:
    return hub_factory(session, make_institution)


@pytest.fixture
async def hub(make_hub: HubFactory) -> Hub:
    """An active central hub of a new ministry (what an account's hub_id can name)."""
    return await make_hub(status=HubStatus.active)


@pytest.fixture
def auth(session: AsyncSession) -> KeyFactory:
    """`await auth(Role.local_admin, institution_id=...)` -> Authorization headers for a new key."""

    async def make(role: Role, **scope: Any) -> dict[str, str]:
        issued = await issue_api_key(
            session, None, ApiKeyCreate(name=f"test {role.value}", role=role, **scope)
        )
        return {"Authorization": f"Bearer {issued.secret}"}

    return make


@pytest.fixture
async def admin(auth: KeyFactory) -> dict[str, str]:
    return await auth(Role.secretariat_admin)


@pytest.fixture(scope="session")
async def test_password_hash() -> str:
    """TEST_PASSWORD hashed once per run (argon2 is slow on purpose)."""
    return await hash_password(TEST_PASSWORD)


def user_factory(session: AsyncSession, test_password_hash: str) -> UserFactory:
    """`await make_user(Role.local_admin, institution_id=...)`: an active account whose password
    is TEST_PASSWORD. A unit operator's institution is taken from its unit."""

    async def make(role: Role, **fields: Any) -> User:
        if role is Role.unit_operator and "institution_id" not in fields:
            unit = await session.get(Unit, fields["unit_id"])
            assert unit is not None
            fields["institution_id"] = unit.institution_id
        fields.setdefault("email", f"{role.value}.{uuid.uuid4().hex[:10]}@example.go.id")
        fields.setdefault("name", f"Test {role.value}")
        user = User(role=role, password_hash=test_password_hash, **fields)
        session.add(user)
        await session.flush()
        await session.refresh(user)
        return user

    return make


@pytest.fixture
def make_user(session: AsyncSession, test_password_hash: str) -> UserFactory:
    return user_factory(session, test_password_hash)


def bearer_for(settings: Settings, user: User) -> dict[str, str]:
    """Authorization headers with a fresh access token for `user` (no sign-in request)."""
    token = issue_access_token(settings, user.id, user.password_changed_at)
    return {"Authorization": f"Bearer {token.token}"}
