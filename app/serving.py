"""`inovasi serve`: uvicorn with the service's settings, and its shutdown.

On SIGTERM uvicorn stops accepting connections and waits for the requests in flight; after
SHUTDOWN_GRACE_SECONDS the service cancels those still running and answers them 503
`service.shutting_down` (app.core.shutdown, app.core.middleware), and uvicorn stops (it gives up
waiting SHUTDOWN_BACKSTOP_SECONDS later whatever is left). With several workers the supervisor
passes SIGTERM on to each of them and, here, first closes its own copy of the listening socket,
so that new connections are refused at once rather than queued until the workers are gone.
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.core.config import Settings
from app.core.logging import configure_logging

# What `uvicorn.run` exits with when the server could not start.
_STARTUP_FAILURE = 3
# How much longer than SHUTDOWN_GRACE_SECONDS uvicorn waits for the requests in flight: time for
# those cancelled at the end of the grace to be rolled back and answered 503 (app.core.shutdown).
SHUTDOWN_BACKSTOP_SECONDS = 5
WORKER_HEALTHCHECK_SECONDS = 60


class Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes, closing the listening socket on SIGTERM."""

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve until SIGTERM or SIGINT (`uvicorn.run`, with a supervisor that closes its socket)."""
    config = uvicorn.Config(
        "app.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds + SHUTDOWN_BACKSTOP_SECONDS,
        # uvicorn's supervisor restarts a worker that does not answer its ping within this
        # (5 s by default): on a busy host a worker still importing and building its app
        # missed it, and was killed and restarted in a loop that logged nothing, so no replica
        # ever became healthy (the compose smoke test at load 13-17 on 2 cores).
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
    if workers > 1:
        # The supervisor's own lines (workers started, restarted, stopped) in the service's format;
        # each worker configures its logging when it builds the application.
        configure_logging(settings.log_level, settings.log_format)
        sockets: list[socket.socket] = [config.bind_socket()]
        Supervisor(config, sockets=sockets).run()
        return
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        sys.exit(_STARTUP_FAILURE)
