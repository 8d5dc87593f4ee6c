"""`SharedResults`: identical concurrent reads run once, answers are kept `ttl` seconds, errors
reach every waiter, and a cancelled leader hands the work to a waiter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from app.core.shared_results import SharedResults


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_identical_concurrent_requests_are_computed_once() -> None:
    shared: SharedResults[str, int] = SharedResults(0)
    release = asyncio.Event()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    tasks = [asyncio.create_task(shared.get("k", compute)) for _ in range(10)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*tasks) == [42] * 10
    assert calls == 1
    assert (shared.computed, shared.shared) == (1, 9)


async def test_different_keys_are_computed_separately() -> None:
    shared: SharedResults[str, str] = SharedResults(0)

    async def compute_for(key: str) -> str:
        await asyncio.sleep(0)
        return key.upper()

    results = await asyncio.gather(*(shared.get(k, lambda k=k: compute_for(k)) for k in "abc"))
    assert results == ["A", "B", "C"]
    assert shared.computed == 3


async def test_without_ttl_a_later_request_computes_again() -> None:
    shared: SharedResults[str, int] = SharedResults(0)
    values = iter([1, 2])

    async def compute() -> int:
        return next(values)

    assert await shared.get("k", compute) == 1
    assert await shared.get("k", compute) == 2


async def test_answers_are_kept_for_the_ttl_and_no_longer() -> None:
    clock = Clock()
    shared: SharedResults[str, int] = SharedResults(5, clock=clock)
    values = iter([1, 2])

    async def compute() -> int:
        return next(values)

    assert await shared.get("k", compute) == 1
    clock.now += 4.9
    assert await shared.get("k", compute) == 1
    clock.now += 0.2
    assert await shared.get("k", compute) == 2


async def test_the_oldest_answers_go_beyond_max_entries() -> None:
    shared: SharedResults[int, int] = SharedResults(60, max_entries=2)
    calls: list[int] = []

    def compute_for(key: int) -> Callable[[], Awaitable[int]]:
        async def compute() -> int:
            calls.append(key)
            return key

        return compute

    for key in (1, 2, 1, 3, 1, 2):
        await shared.get(key, compute_for(key))
    # 1 kept (used again before 3 came), 2 pushed out by 3, so computed again at the end.
    assert calls == [1, 2, 3, 2]


async def test_an_error_reaches_every_waiter_and_is_not_kept() -> None:
    shared: SharedResults[str, int] = SharedResults(60)
    release = asyncio.Event()

    async def failing() -> int:
        await release.wait()
        raise TimeoutError("statement timeout")

    tasks = [asyncio.create_task(shared.get("k", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, TimeoutError) for r in results)

    async def working() -> int:
        return 7

    assert await shared.get("k", working) == 7


async def test_a_cancelled_leader_hands_the_work_to_a_waiter() -> None:
    shared: SharedResults[str, int] = SharedResults(0)
    started = asyncio.Event()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        started.set()
        await asyncio.sleep(0.01)
        return calls

    leader = asyncio.create_task(shared.get("k", compute))
    await started.wait()
    waiter = asyncio.create_task(shared.get("k", compute))
    await asyncio.sleep(0)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await waiter == 2
    assert calls == 2


async def test_a_cancelled_waiter_leaves_the_leader_alone() -> None:
    shared: SharedResults[str, int] = SharedResults(0)
    release = asyncio.Event()

    async def compute() -> int:
        await release.wait()
        return 5

    leader = asyncio.create_task(shared.get("k", compute))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(shared.get("k", compute))
    await asyncio.sleep(0)
    waiter.cancel()
    release.set()
    assert await leader == 5
    with pytest.raises(asyncio.CancelledError):
        await waiter
