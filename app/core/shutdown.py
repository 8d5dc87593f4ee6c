"""The shutdown grace of a served process: on SIGTERM (or a first SIGINT) the requests in flight
get SHUTDOWN_GRACE_SECONDS to finish; those still running are then cancelled, their work undone,
and answered 503 `service.shutting_down` (app.core.middleware) while the server still runs.

uvicorn stops accepting connections on the signal and waits for the requests in flight; its own
limit (`timeout_graceful_shutdown`, set a few seconds longer by `inovasi serve`) is only the
backstop: when it is reached uvicorn cancels what is left and stops at once, and a request
whose cancellation has not finished unwinding by then loses its connection unanswered. So the
service keeps its own deadline, inside uvicorn's, and answers before uvicorn gives up.

The signal is seen by wrapping the handler the server installed (uvicorn installs its own with
`signal.signal` before the application starts); the wrapper calls it first, so the server
shuts down exactly as before, and uvicorn puts its predecessor back when it stops.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Drain:
    """The requests in flight, and the deadline after which the ones left are cancelled."""

    def __init__(self, grace_seconds: float) -> None:
        self.grace_seconds = grace_seconds
        self.running: set[asyncio.Task[Any]] = set()
        self.began = False
        self.expired = False

    def begin(self) -> None:
        """The server is stopping: cancel what is still running once the grace is over."""
        if self.began:
            return
        self.began = True
        logger.info(
            "shutting down: %d request(s) in flight get %s s to finish",
            len(self.running),
            self.grace_seconds,
        )
        asyncio.get_running_loop().call_later(self.grace_seconds, self.expire)

    def expire(self) -> None:
        self.expired = True
        if self.running:
            logger.warning(
                "shutdown grace over: %d request(s) still running are cancelled (503)",
                len(self.running),
            )
        for task in list(self.running):
            task.cancel("the shutdown grace is over")

    def watch_signals(self) -> None:
        """Begin when the server's SIGTERM or SIGINT handler is called (in the main thread,
        from the running loop: the application's startup)."""
        loop = asyncio.get_running_loop()
        for signum in _SIGNALS:
            previous = signal.getsignal(signum)
            if not callable(previous):
                continue  # no server handles it here: nothing to follow

            def handler(sig: int, frame: FrameType | None, previous: Any = previous) -> None:
                previous(sig, frame)
                loop.call_soon_threadsafe(self.begin)

            signal.signal(signum, handler)
