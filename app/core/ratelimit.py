"""Request rate limits and login-failure throttling, counted where every server process sees them.

Request limits: fixed 60 s windows aligned to the clock (multiples of the window length since
the Unix epoch). A counter is reset when its window ends, so `Retry-After` is the time left in
the window, known without asking the store again, and every backend counts the same windows.
The price of fixed windows: a caller can get up to twice its limit through in a short burst
across a window boundary, which is acceptable for capacity but not for guessing passwords.

Login failures: a sliding window of LOGIN_FAILURE_WINDOW_SECONDS, counted in steps of a
fifteenth of it (one minute for 15 minutes): each failure is counted in its step's bucket, and
an attempt is refused while the buckets that may hold a failure of the last window hold the
limit. So no span of the window's length ever holds more failures than the limit, whatever the
clock says; a failure stops counting one window to one window and one step after it.

Keys name the caller, never a credential: `p:<kind>:<id>` for a principal, `a:<address>` for an
anonymous client address, `login:account:<hash>` (an HMAC-SHA-256 prefix of the lower-cased
email, keyed by SECRET_KEY, so neither logs nor Redis hold the address) and
`login:address:<address>` for login failures.

Backends (RATE_LIMIT_STORAGE): `memory` (the `limits` library, one process only), a `redis://`
URL (the `limits` library on coredis) and `postgresql`: an upsert per hit on the UNLOGGED
`rate_limit_counters` table, each in its own short transaction on the app's engine (never the
request's session, so a rolled-back request still counts and no request waits on a counter row
lock longer than one statement), with expired rows purged about once a minute per process.

Fail open: when the store fails or takes longer than a second, the request (or login attempt)
goes through, a warning is logged and the store is left alone for a few seconds. Rate limits
protect capacity; an outage of the counter store must not become an outage of the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from sqlalchemy import DateTime, String, bindparam, delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from app.core.config import Settings
from app.core.errors import TooManyRequests
from app.core.security import Principal
from app.models.ratelimit import RateLimitCounter

logger = logging.getLogger(__name__)

REQUEST_WINDOW_SECONDS = 60
# A store slower than this lets the request through rather than hold it up.
_STORAGE_TIMEOUT_SECONDS = 1.0
# After a storage failure, skip the store for this long: no pile-up of requests waiting on a
# dead server, and one warning per episode instead of one per request.
_STORAGE_RETRY_SECONDS = 5.0
_PURGE_INTERVAL_SECONDS = 60.0
_PURGE_BATCH = 1000
_REDIS_KEY_PREFIX = "inovasi:ratelimit"
# The login-failure window is counted in this many steps (plus the current one).
_LOGIN_STEPS = 15

Clock = Callable[[], float]


@dataclass(frozen=True)
class Window:
    """One fixed window: `start` and `end` in seconds since the Unix epoch."""

    start: int
    length: int

    @classmethod
    def at(cls, now: float, length: int) -> Window:
        return cls(int(now // length) * length, length)

    @property
    def end(self) -> int:
        return self.start + self.length

    def retry_after(self, now: float) -> int:
        """Whole seconds until this window ends, at least 1."""
        return max(1, math.ceil(self.end - now))


class Counters(ABC):
    """A store of fixed-window hit counters."""

    name: str

    @abstractmethod
    async def hit(self, key: str, limit: int, window: Window) -> bool:
        """Count one hit; True while the window's count is within `limit`."""

    @abstractmethod
    async def allows(self, key: str, limit: int, window: Window) -> bool:
        """True if one more hit would be within `limit`; counts nothing."""

    @abstractmethod
    async def add(self, key: str, bucket: Window, keep: int) -> None:
        """Count one event in `bucket`, kept at least `keep` seconds after the bucket starts."""

    @abstractmethod
    async def counts(self, key: str, buckets: list[Window], keep: int) -> list[int]:
        """The events counted in each of `buckets` (0 for none), in their order."""

    async def aclose(self) -> None:
        return None


# The `amount` of the items that count login-failure buckets: never reached, the limit is
# applied to the sum of the buckets.
_UNBOUNDED = 1 << 30


@functools.lru_cache(maxsize=64)
def _item(limit: int, length: int) -> RateLimitItem:
    return RateLimitItemPerSecond(limit, length)


class LimitsCounters(Counters):
    """Counters in a `limits` storage (memory or Redis), through its fixed-window strategy.

    The window start is part of the key, so a counter is never reused across windows whatever
    the storage's own expiry (set on the first hit, one window long) says.
    """

    def __init__(self, storage: Storage, name: str) -> None:
        self.storage = storage
        self.name = name
        self._strategy = FixedWindowRateLimiter(storage)

    async def hit(self, key: str, limit: int, window: Window) -> bool:
        return await self._strategy.hit(_item(limit, window.length), key, str(window.start))

    async def allows(self, key: str, limit: int, window: Window) -> bool:
        return await self._strategy.test(_item(limit, window.length), key, str(window.start))

    async def add(self, key: str, bucket: Window, keep: int) -> None:
        await self._strategy.hit(_item(_UNBOUNDED, keep), key, str(bucket.start))

    async def counts(self, key: str, buckets: list[Window], keep: int) -> list[int]:
        item = _item(_UNBOUNDED, keep)
        stats = await asyncio.gather(
            *(self._strategy.get_window_stats(item, key, str(b.start)) for b in buckets)
        )
        return [_UNBOUNDED - stat.remaining for stat in stats]

    async def aclose(self) -> None:
        if isinstance(self.storage, MemoryStorage):
            if self.storage.timer is not None and not self.storage.timer.done():
                self.storage.timer.cancel()
            return
        # limits has no close(); the coredis client sits behind its bridge.
        client: Any = getattr(getattr(self.storage, "bridge", None), "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()


_KEY = bindparam("key", type_=String(200))
_WINDOW_START = bindparam("window_start", type_=DateTime(timezone=True))
_EXPIRES_AT = bindparam("expires_at", type_=DateTime(timezone=True))
_NOW = bindparam("now", type_=DateTime(timezone=True))

_HIT = (
    insert(RateLimitCounter)
    .values(key=_KEY, window_start=_WINDOW_START, hits=1, expires_at=_EXPIRES_AT)
    .on_conflict_do_update(
        index_elements=[RateLimitCounter.key, RateLimitCounter.window_start],
        set_={"hits": RateLimitCounter.hits + 1},
    )
    .returning(RateLimitCounter.hits)
)
_PEEK = select(RateLimitCounter.hits).where(
    RateLimitCounter.key == _KEY, RateLimitCounter.window_start == _WINDOW_START
)
_FIRST = bindparam("first", type_=DateTime(timezone=True))
_BUCKETS = select(RateLimitCounter.window_start, RateLimitCounter.hits).where(
    RateLimitCounter.key == _KEY, RateLimitCounter.window_start >= _FIRST
)
# Bounded, and SKIP LOCKED so two processes purging at once neither wait nor deadlock.
_PURGE = delete(RateLimitCounter).where(
    tuple_(RateLimitCounter.key, RateLimitCounter.window_start).in_(
        select(RateLimitCounter.key, RateLimitCounter.window_start)
        .where(RateLimitCounter.expires_at < _NOW)
        .limit(_PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
)


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class PostgresCounters(Counters):
    """Counters in `rate_limit_counters`, shared by every process on the database."""

    name = "postgresql"

    def __init__(self, engine_getter: Callable[[], AsyncEngine], clock: Clock) -> None:
        self._engine_getter = engine_getter
        self._clock = clock
        self._next_purge = 0.0
        self._purge_task: asyncio.Task[None] | None = None

    async def hit(self, key: str, limit: int, window: Window) -> bool:
        async with self._engine_getter().begin() as conn:
            result = await conn.execute(
                _HIT,
                {
                    "key": key,
                    "window_start": _utc(window.start),
                    "expires_at": _utc(window.end),
                },
            )
            hits = result.scalar_one()
        self._maybe_purge()
        return hits <= limit

    async def allows(self, key: str, limit: int, window: Window) -> bool:
        async with self._engine_getter().connect() as conn:
            hits = (
                await conn.execute(_PEEK, {"key": key, "window_start": _utc(window.start)})
            ).scalar_one_or_none()
        return (hits or 0) < limit

    async def add(self, key: str, bucket: Window, keep: int) -> None:
        async with self._engine_getter().begin() as conn:
            await conn.execute(
                _HIT,
                {
                    "key": key,
                    "window_start": _utc(bucket.start),
                    "expires_at": _utc(bucket.start + keep),
                },
            )
        self._maybe_purge()

    async def counts(self, key: str, buckets: list[Window], keep: int) -> list[int]:
        if not buckets:
            return []
        async with self._engine_getter().connect() as conn:
            rows = await conn.execute(_BUCKETS, {"key": key, "first": _utc(buckets[0].start)})
            hits = {int(row.window_start.timestamp()): row.hits for row in rows}
        return [hits.get(bucket.start, 0) for bucket in buckets]

    async def aclose(self) -> None:
        if self._purge_task is not None:
            self._purge_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purge_task

    def _maybe_purge(self) -> None:
        """Start deleting a batch of ended windows in the background, about once a minute."""
        now = time.monotonic()
        if now < self._next_purge or (self._purge_task and not self._purge_task.done()):
            return
        self._next_purge = now + _PURGE_INTERVAL_SECONDS
        self._purge_task = asyncio.create_task(self._purge())

    async def _purge(self) -> None:
        try:
            async with self._engine_getter().begin() as conn:
                await conn.execute(_PURGE, {"now": datetime.fromtimestamp(self._clock(), UTC)})
        except Exception:
            # Nothing is lost: the rows are only stale, and the next purge takes them.
            logger.warning("purging expired rate-limit counters failed", exc_info=True)


class RateLimiter:
    """Per-principal and per-address request limits, and login-failure throttling."""

    def __init__(
        self,
        settings: Settings,
        counters: Counters,
        *,
        clock: Clock = time.time,
        storage_timeout: float = _STORAGE_TIMEOUT_SECONDS,
    ) -> None:
        self.counters = counters
        self._storage_timeout = storage_timeout
        self._per_principal = settings.rate_limit_per_minute
        self._per_address = settings.rate_limit_anonymous_per_minute
        self._login_window = settings.login_failure_window_seconds
        self._login_step = max(1, math.ceil(self._login_window / _LOGIN_STEPS))
        self._max_per_account = settings.login_max_failures_per_account
        self._max_per_address = settings.login_max_failures_per_address
        self._email_key = hashlib.sha256(
            b"inovasi-login-key:" + settings.secret_key.encode()
        ).digest()
        self._clock = clock
        self._skip_until = 0.0

    async def check_request(self, request: Request, principal: Principal | None) -> None:
        """Count this request against its caller's limit; TooManyRequests once it is over."""
        if principal is not None:
            limit = self._per_principal
            key = f"p:{principal.kind}:{principal.id}"
            whose = "for this caller"
        else:
            limit = self._per_address
            key = f"a:{request.client.host if request.client else 'unknown'}"
            whose = "for anonymous requests from one address"
        if limit == 0:
            return
        window = Window.at(self._clock(), REQUEST_WINDOW_SECONDS)
        allowed = await self._guarded(functools.partial(self.counters.hit, key, limit, window))
        if allowed is False:
            retry_after = window.retry_after(self._clock())
            raise TooManyRequests(
                detail=f"The rate limit of {limit} requests a minute {whose} is used up; "
                f"retry in {retry_after} s.",
                retry_after=retry_after,
            )

    async def login_retry_after(self, email: str, address: str | None) -> int | None:
        """Seconds to wait before another login attempt for this account or from this address,
        or None if one is allowed now. Counts nothing.

        Sliding: the attempt is refused while the buckets that may hold a failure of the last
        window hold `limit` failures; it is allowed again once enough of the oldest have aged
        out (so no window's length of time ever holds more than `limit` failures)."""
        now = self._clock()
        buckets = self._login_buckets(now)
        keep = self._login_keep
        wait: int | None = None
        for key, limit in self._login_keys(email, address):
            counts = await self._guarded_counts(key, buckets, keep)
            if counts is None:
                continue
            total = sum(counts)
            for bucket, count in zip(buckets, counts, strict=True):
                if total < limit:
                    break
                total -= count
                # Once this bucket's newest possible failure is a whole window old.
                key_wait = max(1, math.ceil(bucket.end + self._login_window - now))
                wait = key_wait if wait is None else max(wait, key_wait)
        return wait

    async def record_login_failure(self, email: str, address: str | None) -> None:
        """Count one failed login against the account and the client address."""
        bucket = Window.at(self._clock(), self._login_step)
        for key, _limit in self._login_keys(email, address):
            await self._guarded(functools.partial(self._add, key, bucket))

    @property
    def _login_keep(self) -> int:
        return self._login_window + 2 * self._login_step

    def _login_buckets(self, now: float) -> list[Window]:
        """Oldest first, the buckets that may hold a failure less than a window old."""
        step = self._login_step
        current = Window.at(now, step)
        first = Window.at(now - self._login_window, step)
        return [Window(start, step) for start in range(first.start, current.start + 1, step)]

    async def _add(self, key: str, bucket: Window) -> bool:
        await self.counters.add(key, bucket, self._login_keep)
        return True

    async def _guarded_counts(self, key: str, buckets: list[Window], keep: int) -> list[int] | None:
        found: list[int] = []

        async def read() -> bool:
            found.extend(await self.counters.counts(key, buckets, keep))
            return True

        return found if await self._guarded(read) else None

    async def aclose(self) -> None:
        await self.counters.aclose()

    def _login_keys(self, email: str, address: str | None) -> list[tuple[str, int]]:
        digest = hmac.new(self._email_key, email.strip().lower().encode(), hashlib.sha256)
        keys = [(f"login:account:{digest.hexdigest()[:32]}", self._max_per_account)]
        if address:
            keys.append((f"login:address:{address}", self._max_per_address))
        return keys

    async def _guarded(self, call: Callable[[], Awaitable[bool]]) -> bool | None:
        """The store's answer, or None (let the caller through) if the store failed."""
        if time.monotonic() < self._skip_until:
            return None
        try:
            async with asyncio.timeout(self._storage_timeout):
                return await call()
        except Exception:
            self._skip_until = time.monotonic() + _STORAGE_RETRY_SECONDS
            logger.warning(
                "rate-limit storage failed; letting requests through",
                exc_info=True,
                extra={"storage": self.counters.name, "retry_in_s": _STORAGE_RETRY_SECONDS},
            )
            return None


def build_rate_limiter(
    settings: Settings,
    engine_getter: Callable[[], AsyncEngine],
    *,
    clock: Clock = time.time,
    storage_timeout: float = _STORAGE_TIMEOUT_SECONDS,
) -> RateLimiter:
    """The limiter on the store RATE_LIMIT_STORAGE names. Opens no connection until first use.
    A store slower than `storage_timeout` seconds lets the request through."""
    storage = settings.resolved_rate_limit_storage
    counters: Counters
    if storage == "memory":
        counters = LimitsCounters(MemoryStorage(), "memory")
    elif storage == "postgresql":
        counters = PostgresCounters(engine_getter, clock)
    else:
        redis = RedisStorage(
            "async+" + storage,
            wrap_exceptions=True,
            key_prefix=_REDIS_KEY_PREFIX,
            connect_timeout=storage_timeout,
            stream_timeout=storage_timeout,
        )
        counters = LimitsCounters(redis, "redis")
    return RateLimiter(settings, counters, clock=clock, storage_timeout=storage_timeout)
