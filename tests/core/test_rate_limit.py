"""Request rate limits and login-failure throttling, on every store: memory, PostgreSQL, Redis.

Counters in PostgreSQL and Redis outlive the test's transaction, so every test counts under keys
of its own (fresh principals, random client addresses, random emails).
"""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from limits.aio.storage import MemoryStorage
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import Request

from app.core.errors import PROBLEM_MEDIA_TYPE, TooManyRequests
from app.core.ratelimit import (
    REQUEST_WINDOW_SECONDS,
    LimitsCounters,
    RateLimiter,
    build_rate_limiter,
)
from app.core.security import Principal
from app.models.enums import Role
from app.models.ratelimit import RateLimitCounter
from tests.conftest import AppFactory, KeyFactory, client_for, make_settings

REDIS_URL = "redis://127.0.0.1:6379/15"
BROKEN_REDIS_URL = "redis://127.0.0.1:1/0"


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "postgresql", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    """Each store RATE_LIMIT_STORAGE can name."""
    if request.param == "redis":
        if not _redis_reachable():
            pytest.skip(f"Redis is not reachable at {REDIS_URL}")
        return REDIS_URL
    return str(request.param)


@pytest.fixture(params=["postgresql", "redis"])
def shared_storage(request: pytest.FixtureRequest) -> str:
    """The stores several server processes can share."""
    if request.param == "redis":
        if not _redis_reachable():
            pytest.skip(f"Redis is not reachable at {REDIS_URL}")
        return REDIS_URL
    return str(request.param)


def _address() -> str:
    """A client address no other test (or earlier run against the same Redis) uses."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def _principal() -> Principal:
    return Principal(kind="api_key", id=uuid.uuid4(), role=Role.secretariat_admin, name="test")


def _request(address: str) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "client": (address, 4000)}
    )


def _email() -> str:
    return f"User.{uuid.uuid4().hex[:12]}@Example.org"


class FakeClock:
    """Seconds since the epoch, moved by the test: 10 s into a request window to start with."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0 // 3600 * 3600 + 10

    def __call__(self) -> float:
        return self.now


LimiterFactory = Callable[..., RateLimiter]


@pytest.fixture
async def limiters(engine: AsyncEngine, database_url: URL) -> AsyncIterator[LimiterFactory]:
    """`limiters(storage, clock=None, **settings)`: a RateLimiter on the test database's engine;
    closed after the test. Its store may take 30 s before it is taken for failed (a served app
    allows 1 s): on a loaded machine a slow Redis reply would otherwise let the rest of a
    test's attempts through, and these tests count what the store holds."""
    made: list[RateLimiter] = []

    def make(
        storage: str, clock: Callable[[], float] | None = None, **overrides: Any
    ) -> RateLimiter:
        settings = make_settings(database_url, rate_limit_storage=storage, **overrides)
        kwargs = {"clock": clock} if clock is not None else {}
        limiter = build_rate_limiter(settings, lambda: engine, storage_timeout=30.0, **kwargs)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.aclose()


def _assert_rate_limited(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["code"] == "rate_limit.exceeded"
    assert f"{limit} requests a minute" in body["detail"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= REQUEST_WINDOW_SECONDS


# --- requests through the app ---------------------------------------------------------------


async def test_a_principal_over_its_limit_gets_429_and_others_do_not(
    make_app: AppFactory, auth: KeyFactory, storage: str
) -> None:
    app = make_app(rate_limit_per_minute=3, rate_limit_storage=storage)
    first = await auth(Role.secretariat_admin)
    second = await auth(Role.secretariat_admin)
    async with client_for(app) as client:
        for _ in range(3):
            assert (await client.get("/v1/me", headers=first)).status_code == 200
        _assert_rate_limited(await client.get("/v1/me", headers=first), 3)
        assert (await client.get("/v1/me", headers=second)).status_code == 200


async def test_anonymous_callers_are_limited_per_address(
    make_app: AppFactory, auth: KeyFactory, storage: str
) -> None:
    app = make_app(rate_limit_anonymous_per_minute=2, rate_limit_storage=storage)
    address = _address()
    headers = await auth(Role.secretariat_admin)
    async with client_for(app, address) as client, client_for(app, _address()) as elsewhere:
        for _ in range(2):
            assert (await client.get("/v1/regions")).status_code == 200
        _assert_rate_limited(await client.get("/v1/regions"), 2)
        assert (await elsewhere.get("/v1/regions")).status_code == 200
        # A principal is counted as itself, not as its address (its limit here is off).
        assert (await client.get("/v1/regions", headers=headers)).status_code == 200


async def test_a_limit_of_zero_never_limits_nor_touches_the_store(
    make_app: AppFactory, auth: KeyFactory
) -> None:
    app = make_app(
        rate_limit_per_minute=0, rate_limit_anonymous_per_minute=0, rate_limit_storage="memory"
    )
    headers = await auth(Role.secretariat_admin)
    async with client_for(app, _address()) as client:
        for _ in range(10):
            assert (await client.get("/v1/regions")).status_code == 200
            assert (await client.get("/v1/me", headers=headers)).status_code == 200
    counters = app.state.rate_limiter.counters
    assert isinstance(counters, LimitsCounters)
    assert await counters.storage.reset() == 0  # nothing was ever counted


async def test_a_broken_store_lets_requests_through(make_app: AppFactory, auth: KeyFactory) -> None:
    app = make_app(
        rate_limit_per_minute=1,
        rate_limit_anonymous_per_minute=1,
        rate_limit_storage=BROKEN_REDIS_URL,
    )
    headers = await auth(Role.secretariat_admin)
    async with client_for(app, _address()) as client:
        for _ in range(3):
            assert (await client.get("/v1/me", headers=headers)).status_code == 200
            assert (await client.get("/v1/regions")).status_code == 200


async def test_every_operation_with_a_policy_declares_429(make_app: AppFactory) -> None:
    paths = make_app().openapi()["paths"]
    assert "429" in paths["/v1/me"]["get"]["responses"]
    assert "429" in paths["/v1/regions"]["get"]["responses"]
    assert "429" not in paths["/livez"]["get"]["responses"]


# --- the limiter on each store --------------------------------------------------------------


async def test_limiters_on_a_shared_store_share_counts(
    limiters: LimiterFactory, shared_storage: str
) -> None:
    one = limiters(shared_storage, rate_limit_per_minute=3)
    two = limiters(shared_storage, rate_limit_per_minute=3)
    principal = _principal()
    request = _request(_address())
    await one.check_request(request, principal)
    await two.check_request(request, principal)
    await one.check_request(request, principal)
    with pytest.raises(TooManyRequests) as refused:
        await two.check_request(request, principal)
    assert 1 <= refused.value.retry_after <= REQUEST_WINDOW_SECONDS
    assert refused.value.headers["Retry-After"] == str(refused.value.retry_after)
    await one.check_request(request, _principal())


async def test_postgresql_counts_in_rate_limit_counters(
    limiters: LimiterFactory, session: AsyncSession
) -> None:
    limiter = limiters("postgresql", rate_limit_per_minute=5)
    principal = _principal()
    for _ in range(2):
        await limiter.check_request(_request(_address()), principal)
    key = f"p:api_key:{principal.id}"
    hits = await session.scalar(select(RateLimitCounter.hits).where(RateLimitCounter.key == key))
    assert hits == 2


async def test_retry_after_is_the_rest_of_the_window_and_the_next_window_starts_afresh(
    limiters: LimiterFactory, storage: str
) -> None:
    clock = FakeClock()
    limiter = limiters(storage, clock=clock, rate_limit_per_minute=1)
    principal = _principal()
    request = _request(_address())
    await limiter.check_request(request, principal)
    clock.now += 35.5  # 45.5 s into the window
    with pytest.raises(TooManyRequests) as refused:
        await limiter.check_request(request, principal)
    assert refused.value.retry_after == 15
    clock.now += 15
    await limiter.check_request(request, principal)


# --- login throttling -----------------------------------------------------------------------


async def test_login_failures_throttle_the_account_whatever_the_case_of_the_email(
    limiters: LimiterFactory, storage: str
) -> None:
    limiter = limiters(storage, login_max_failures_per_account=3, login_failure_window_seconds=600)
    email = _email()
    for _ in range(2):
        await limiter.record_login_failure(email, _address())
    # Asking counts nothing.
    for _ in range(5):
        assert await limiter.login_retry_after(email, _address()) is None
    await limiter.record_login_failure(email.upper(), _address())
    retry_after = await limiter.login_retry_after(email.lower(), _address())
    assert isinstance(retry_after, int)
    assert 1 <= retry_after <= 600 + 600 // 15  # the window and one step
    assert await limiter.login_retry_after(_email(), _address()) is None


async def test_login_failures_throttle_the_address(limiters: LimiterFactory, storage: str) -> None:
    limiter = limiters(storage, login_max_failures_per_address=2)
    address = _address()
    await limiter.record_login_failure(_email(), address)
    await limiter.record_login_failure(_email(), address)
    retry_after = await limiter.login_retry_after(_email(), address)
    assert retry_after is not None
    assert retry_after >= 1
    assert await limiter.login_retry_after(_email(), _address()) is None
    # Without an address only the account counts.
    assert await limiter.login_retry_after(_email(), None) is None


async def test_login_throttling_ends_with_the_window(
    limiters: LimiterFactory, storage: str
) -> None:
    clock = FakeClock()
    limiter = limiters(
        storage,
        clock=clock,
        login_max_failures_per_account=1,
        login_failure_window_seconds=900,
    )
    email = _email()
    await limiter.record_login_failure(email, None)
    # Counted in one-minute steps: the failure (10 s into its minute) stops counting once its
    # minute is 15 minutes old.
    retry_after = await limiter.login_retry_after(email, None)
    assert retry_after == 900 + 60 - 10
    clock.now += retry_after - 1
    assert await limiter.login_retry_after(email, None) == 1
    clock.now += 1
    assert await limiter.login_retry_after(email, None) is None


@pytest.mark.parametrize("first_failure", [-300.0, -61.0, -1.0, 0.0, 59.0, 450.0])
async def test_no_fifteen_minutes_hold_more_failures_than_the_limit(
    limiters: LimiterFactory, storage: str, first_failure: float
) -> None:
    """A client that tries every 20 s for an hour, starting at various points around a
    quarter-hour boundary, never gets more than 5 failures into any 15 minutes: not 5 before a
    boundary and 5 after it, as fixed windows allowed."""
    clock = FakeClock()
    clock.now = clock.now - 10 + 900 + first_failure  # relative to a quarter-hour boundary
    limiter = limiters(
        storage,
        clock=clock,
        login_max_failures_per_account=5,
        login_failure_window_seconds=900,
    )
    email = _email()
    failures: list[float] = []
    for _ in range(180):
        retry_after = await limiter.login_retry_after(email, None)
        if retry_after is None:
            await limiter.record_login_failure(email, None)
            failures.append(clock.now)
        else:
            assert 1 <= retry_after <= 900 + 60
        clock.now += 20
    for i, start in enumerate(failures):
        within = [f for f in failures[i:] if f < start + 900]
        assert len(within) <= 5, (start, within)
    # And the throttle is a delay, not a ban: the hour allowed more than one window's worth.
    assert len(failures) >= 15


async def test_login_retry_after_waits_until_a_failure_ages_out(
    limiters: LimiterFactory, storage: str
) -> None:
    clock = FakeClock()
    limiter = limiters(
        storage, clock=clock, login_max_failures_per_account=2, login_failure_window_seconds=900
    )
    email = _email()
    await limiter.record_login_failure(email, None)  # minute 0
    clock.now += 300
    await limiter.record_login_failure(email, None)  # minute 5
    retry_after = await limiter.login_retry_after(email, None)
    assert retry_after is not None
    clock.now += retry_after
    # The first failure has aged out, the second still counts: one more attempt, then locked.
    assert await limiter.login_retry_after(email, None) is None
    await limiter.record_login_failure(email, None)
    assert await limiter.login_retry_after(email, None) is not None


async def test_login_failure_keys_do_not_carry_the_email(
    limiters: LimiterFactory,
) -> None:
    limiter = limiters("memory")
    email = _email()
    await limiter.record_login_failure(email, "10.0.0.1")
    counters = limiter.counters
    assert isinstance(counters, LimitsCounters)
    assert isinstance(counters.storage, MemoryStorage)
    keys = list(counters.storage.storage)
    assert len(keys) == 2
    assert not any(email.lower().split("@")[0] in key.lower() for key in keys)


async def test_login_throttling_with_a_broken_store_lets_attempts_through(
    limiters: LimiterFactory,
) -> None:
    limiter = limiters(BROKEN_REDIS_URL, login_max_failures_per_account=1)
    email = _email()
    await limiter.record_login_failure(email, _address())
    assert await limiter.login_retry_after(email, _address()) is None
