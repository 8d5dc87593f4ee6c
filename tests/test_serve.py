"""`inovasi serve`: the connection budget it checks, and several worker processes serving."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.engine import URL, make_url

from app.cli import build_parser, cmd_serve
from app.core.config import PROJECT_ROOT
from app.db.budget import (
    ServerLimits,
    budget_refusal,
    connections_per_process,
    read_server_limits,
)
from tests.conftest import TEST_SECRET
from tests.fixtures.database import drop_database, migrate, test_database_url
from tests.fixtures.servers import wait_until_live

LOCAL_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def test_a_process_opens_its_pool_its_overflow_and_its_read_pool() -> None:
    assert connections_per_process(20, 5, 10) == 35


def test_workers_that_fit_the_available_connections_are_allowed() -> None:
    limits = ServerLimits(max_connections=100, superuser_reserved=3)
    assert budget_refusal(limits, 3, 22, 0, 10) is None  # 96 of 97


def test_workers_past_the_available_connections_are_refused_with_the_numbers() -> None:
    limits = ServerLimits(max_connections=100, superuser_reserved=3)
    refusal = budget_refusal(limits, 4, 20, 0, 10)  # 120 of 97
    assert refusal is not None
    expected = (
        "4 worker(s)",
        "= 120 connections",
        "allows 97",
        "max_connections 100",
        "superuser_reserved_connections 3",
        "at most 3 fit",
        "WEB_CONCURRENCY",
    )
    for text in expected:
        assert text in refusal


def test_serve_refuses_fewer_than_one_worker_before_touching_the_database() -> None:
    with pytest.raises(SystemExit, match="--workers must be at least 1"):
        cmd_serve(build_parser().parse_args(["serve", "--workers", "0"]))


def _env(url: URL, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SECRET_KEY": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "console",
        "RATE_LIMIT_STORAGE": "memory",
        **extra,
    }


def test_serve_refuses_workers_whose_pools_cannot_fit_the_real_server() -> None:
    """Against the PostgreSQL on 127.0.0.1:5432: one worker more than fits exits at once."""
    url = make_url(LOCAL_SERVER)
    limits = asyncio.run(read_server_limits(url))
    workers = limits.available // 30 + 1
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", "1"],
        cwd=PROJECT_ROOT,
        env=_env(
            url,
            WEB_CONCURRENCY=str(workers),
            DB_POOL_SIZE="20",
            DB_MAX_OVERFLOW="0",
            DB_READ_POOL_SIZE="10",
        ),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert f"refused: {workers} worker(s)" in result.stderr
    assert f"= {workers * 30} connections" in result.stderr
    assert f"max_connections {limits.max_connections}" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served_database() -> Iterator[URL]:
    url = test_database_url(f"inovasi_serve_{os.getpid()}")
    migrate(url)
    yield url
    drop_database(url)


def test_serve_runs_the_workers_and_trusted_proxies_of_a_dotenv_file_and_stops_on_sigterm(
    served_database: URL, tmp_path: Path
) -> None:
    """WEB_CONCURRENCY and FORWARDED_ALLOW_IPS only in `.env` (uvicorn alone reads neither
    from there): two processes answer, and the X-Forwarded-For of a proxy not in the list (this
    test, on 127.0.0.1, which uvicorn's default trusts) is ignored."""
    (tmp_path / ".env").write_text(
        "WEB_CONCURRENCY=2\nFORWARDED_ALLOW_IPS=192.0.2.1\n"
        "RATE_LIMIT_STORAGE=postgresql\nRATE_LIMIT_ANONYMOUS_PER_MINUTE=3\n"
    )
    env = _env(served_database, DB_POOL_SIZE="2", DB_READ_POOL_SIZE="1",
               PYTHONPATH=str(PROJECT_ROOT))  # fmt: skip
    for name in ("WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "RATE_LIMIT_STORAGE",
                 "RATE_LIMIT_ANONYMOUS_PER_MINUTE"):  # fmt: skip
        env.pop(name, None)
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed command, no shell
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_live(process, port)
        workers = [
            child
            for child in psutil.Process(process.pid).children()
            if "multiprocessing.resource_tracker" not in " ".join(child.cmdline())
        ]
        assert len(workers) == 2
        time.sleep(1)  # the other worker's startup
        # Each worker has pools of its own, opened by the first database request it serves
        # (/livez needs none) and kept: after many /readyz on fresh connections, both hold a
        # database connection more than before, so both answered.
        started = [w.num_fds() for w in workers]
        for _ in range(60):
            assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        opened = [w.num_fds() - before for w, before in zip(workers, started, strict=True)]
        assert min(opened) >= 1, opened
        # Untrusted, the header names no client: both "addresses" share 127.0.0.1's limit.
        regions = f"http://127.0.0.1:{port}/v1/regions"
        statuses = [
            httpx.get(regions, headers={"X-Forwarded-For": "10.0.0.1"}, timeout=5).status_code
            for _ in range(5)
        ]
        assert statuses[:3] == [200, 200, 200]
        assert 429 in statuses
        other = httpx.get(regions, headers={"X-Forwarded-For": "10.0.0.2"}, timeout=5)
        assert other.status_code == 429
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
