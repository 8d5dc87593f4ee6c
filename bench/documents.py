"""Documents: upload and download throughput of a large file against a plain copy on the same
disk, the server's memory while it receives a large upload, and concurrent uploads.

A real `inovasi serve` (one worker, its own database with the demo data, DOCUMENTS_DIR in a
temporary folder on the same disk as the source file) is sent, over HTTP on 127.0.0.1:

- one 100 MB PDF uploaded as the demo unit operator (`POST /v1/documents`, streamed from disk
  by httpx), against `shutil.copyfile` of the same file;
- the same document downloaded (`GET .../content`, streamed to disk);
- a 200 MB upload while the server's resident memory (VmRSS) is sampled every 20 ms: its
  growth over the idle process;
- 50 uploads of 1 MB at once.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.documents
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from app.core.config import Settings
from app.db.url import embedded_server_url, ensure_database, to_async_url
from tests.fixtures.database import drop_database, migrate

MB = 1_048_576
HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
OPERATOR = "operator.dprd.medan@demo.inovasi.id"
PASSWORD = "inovasi-demo-2026"  # noqa: S105 - the demo's public password


def _url() -> URL:
    given = os.environ.get("BENCH_DATABASE_URL")
    base = to_async_url(given) if given else embedded_server_url(Settings().embedded_pg_dir)
    return base.set(database="inovasi_bench_documents")


def _pdf(path: Path, size: int) -> Path:
    with path.open("wb") as out:
        out.write(HEADER)
        block = os.urandom(MB)
        left = size - len(HEADER)
        while left > 0:
            out.write(block[: min(MB, left)])
            left -= MB
    return path


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _upload(
    client: httpx.AsyncClient, headers: dict[str, str], record: str, path: Path
) -> str:
    with path.open("rb") as source:
        response = await client.post(
            "/v1/documents",
            files={"file": (path.name, source, "application/pdf")},
            data={"kind": "other", "record_type": "innovation", "record_id": record},
            headers=headers,
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _bench(base: str, pid: int, work: Path) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        token = await client.post("/v1/auth/token", json={"email": OPERATOR, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        mine = await client.get("/v1/innovations", params={"limit": 1}, headers=headers)
        listed = await client.get("/v1/me", headers=headers)
        unit = listed.json()["unit_id"]
        found = await client.get(
            "/v1/innovations", params={"unit_id": unit, "limit": 1}, headers=headers
        )
        items = found.json()["items"] or mine.json()["items"]
        record = str(items[0]["id"])

        big = _pdf(work / "big.pdf", 100 * MB)
        started = time.perf_counter()
        shutil.copyfile(big, work / "copy.pdf")
        copy = time.perf_counter() - started
        started = time.perf_counter()
        doc = await _upload(client, headers, record, big)
        up = time.perf_counter() - started
        started = time.perf_counter()
        with (work / "down.pdf").open("wb") as out:
            async with client.stream("GET", f"/v1/documents/{doc}/content", headers=headers) as r:
                assert r.status_code == 200
                async for chunk in r.aiter_bytes():
                    out.write(chunk)
        down = time.perf_counter() - started
        assert (work / "down.pdf").stat().st_size == big.stat().st_size
        print(f"plain copy of 100 MB: {copy:.2f} s = {100 / copy:.0f} MB/s")
        print(f"upload of 100 MB:     {up:.2f} s = {100 / up:.0f} MB/s ({copy / up:.2f}x the copy)")
        print(f"download of 100 MB:   {down:.2f} s = {100 / down:.0f} MB/s ({copy / down:.2f}x)")

        huge = _pdf(work / "huge.pdf", 200 * MB)
        idle = _rss_kb(pid)
        peak = idle
        task = asyncio.create_task(_upload(client, headers, record, huge))
        while not task.done():
            peak = max(peak, _rss_kb(pid))
            await asyncio.sleep(0.02)
        await task
        print(
            f"server memory during a 200 MB upload: {idle / 1024:.0f} MB idle, "
            f"{peak / 1024:.0f} MB peak: +{(peak - idle) / 1024:.1f} MB"
        )

        small = _pdf(work / "small.pdf", MB)
        started = time.perf_counter()
        await asyncio.gather(*(_upload(client, headers, record, small) for _ in range(50)))
        many = time.perf_counter() - started
        print(f"50 concurrent uploads of 1 MB: {many:.2f} s = {50 / many:.1f} uploads/s")


def main() -> None:
    url = _url()
    asyncio.run(ensure_database(url, drop_first=True))
    migrate(url)
    work = Path(tempfile.mkdtemp(prefix="inovasi-bench-documents-", dir=os.getcwd()))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "ENVIRONMENT": "development",
        "DOCUMENTS_DIR": str(work / "store"),
        "DOCUMENTS_MAX_BYTES": str(300 * MB),
        "RATE_LIMIT_PER_MINUTE": "0",
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }
    bin_dir = Path(sys.executable).parent
    inovasi = str(bin_dir / "inovasi")
    subprocess.run([inovasi, "seed"], env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run([inovasi, "demo"], env=env, check=True, capture_output=True)  # noqa: S603
    server = subprocess.Popen([inovasi, "serve", "--workers", "1"], env=env)  # noqa: S603
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # with one worker, `inovasi serve` runs uvicorn in this process's child
        asyncio.run(_bench(base, server.pid, work))
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(work, ignore_errors=True)
        drop_database(url)


if __name__ == "__main__":
    main()
