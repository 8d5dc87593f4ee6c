"""What a job kind is: a name, the coroutine that runs it, and how it is retried.

Each channel delivery (an email, a webhook, an in-app notification) is a kind of its own, as
`sync.compact` and `idempotency.expire` are (`builtin.py`); a domain registers its kinds with
`register` at import, in a module both the service that enqueues them and the worker import
(so the job row gets the kind's `max_attempts`), and the worker runs the kinds of the registry
it is given.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings


@dataclass(frozen=True)
class JobContext:
    """What a handler is given: a session in the transaction that marks the job done (its
    writes commit with that mark, or roll back with a failure), the settings, and the job."""

    session: AsyncSession
    settings: Settings
    job_id: Any
    attempt: int


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    # None: JOBS_MAX_ATTEMPTS.
    max_attempts: int | None = None
    # Seconds before attempt n + 1 after attempt n failed; None: the exponential default.
    backoff: Callable[[int], float] | None = None
    # An attempt running longer is cancelled and counted as failed.
    timeout_seconds: float = 300.0


Registry = dict[str, JobKind]

REGISTRY: Registry = {}


def register(kind: JobKind, registry: Registry | None = None) -> JobKind:
    target = REGISTRY if registry is None else registry
    if kind.name in target and target[kind.name] is not kind:
        raise ValueError(f"job kind {kind.name!r} is registered twice")
    target[kind.name] = kind
    return kind


def exponential_backoff(attempt: int, base: float, cap: float) -> float:
    """base x 2^(attempt - 1), at most `cap`, plus up to 10% jitter (so retries of many jobs
    that failed together do not come back together)."""
    delay: float = min(cap, base * 2.0 ** max(attempt - 1, 0))
    return float(delay * (1 + random.uniform(0, 0.1)))  # noqa: S311 - jitter, not a secret
