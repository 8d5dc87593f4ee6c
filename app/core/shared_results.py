"""Identical concurrent reads computed once, and kept a few seconds.

For expensive reads whose answer is the same for every caller who may share it (the public
catalogue's facets): while one request computes an answer, the requests that ask the same
question wait for it instead of running the same statement again, and the answer is then kept
for `ttl` seconds. A request that arrives while another one's statement runs may get an answer
that misses a commit made after that statement started, and a kept answer may be up to `ttl`
seconds old: use it only where that is acceptable and documented.

Per process (each worker keeps its own); written here rather than taken from a cache library
because the coalescing of in-flight requests, not the expiry, is the point.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _LeaderGone(Exception):
    """The request computing the answer was cancelled (its client left): ask again."""


class SharedResults(Generic[K, V]):
    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 128,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._kept: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._pending: dict[K, asyncio.Future[V]] = {}
        # How many answers were computed and how many were shared (kept or in flight).
        self.computed = 0
        self.shared = 0

    async def get(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        while True:
            kept = self._kept.get(key)
            if kept is not None:
                if kept[0] > self._clock():
                    self._kept.move_to_end(key)
                    self.shared += 1
                    return kept[1]
                del self._kept[key]
            pending = self._pending.get(key)
            if pending is None:
                break
            try:
                # Shielded: a waiter that is cancelled does not cancel the others' answer.
                value = await asyncio.shield(pending)
            except _LeaderGone:
                continue
            self.shared += 1
            return value

        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await compute()
        except asyncio.CancelledError:
            future.set_exception(_LeaderGone())
            future.exception()  # retrieved: no warning when nobody was waiting
            raise
        except Exception as exc:
            # The waiters get the same error (a timeout, say): asking again would only repeat it.
            future.set_exception(exc)
            future.exception()
            raise
        else:
            future.set_result(value)
            self.computed += 1
            if self.ttl > 0:
                self._kept[key] = (self._clock() + self.ttl, value)
                while len(self._kept) > self.max_entries:
                    self._kept.popitem(last=False)
            return value
        finally:
            del self._pending[key]
            if not future.done():  # any other BaseException: the waiters ask again
                future.set_exception(_LeaderGone())
                future.exception()

    def clear(self) -> None:
        self._kept.clear()
