"""One worker process against two: `inovasi serve --workers N` under load, in one run.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.workers [--rows 100000] [--duration 10] [--rounds 2]

The database is a copy (`CREATE DATABASE inovasi_bench_workers TEMPLATE
inovasi_bench_catalogue`) of the catalogue benchmark's, which `bench.catalogue`'s loader builds
first if it is missing (about a minute at 100k rows); the copy is made afresh each run, so the
pushes below never change the catalogue's database. Eight institutions (lembaga, one unit each)
and a regional_system API key for each are added with the service's own CLI.

For each worker count the real command runs (`inovasi serve --host 127.0.0.1 --port 8780
--workers N`: a uvicorn supervisor and N worker processes, each with its own pools), and four
scenarios are measured, each after a 2-second warm-up of the same load:

- `get`: `GET /v1/innovations/{id}` over 2,000 sampled published ids, in random order;
- `list`: `GET /v1/innovations?region=<province>&is_digital=true&sort=-created_at&limit=20`,
  over the 38 provinces in random order;
- `search`: `GET /v1/innovations?q=mapalus&limit=20` (the rare word: 10 rows; the service, not
  PostgreSQL, is its bottleneck, bench/README.md);
- `push`: eight sync clients (bench/sync.py's item, httpx from this process), one institution
  each, pushing batches of `--batch` new innovations with an `Idempotency-Key` each,
  back to back for the duration; a batch in flight at the end is awaited and counted.

The three reads are driven by `wrk` (Debian package `wrk`: C, one thread, 64 keep-alive
connections, a Lua script picking the paths), so the load generator takes a small share of the
second core; its own CPU is measured. Rounds alternate the order (1 then 2 workers, then 2 then
1) so a change of load on the shared machine hits both alike; the median round is reported.

CPU is read from /proc for the server (the supervisor and each worker), the PostgreSQL backends
of the bench database (the pools' connections), the load generator and the whole machine; the
machine's other load is sampled for a second before each scenario. Results go to stdout as
Markdown and to `.data/bench/workers-<rows>.json`. Target (issue 28): 2 workers give at least
1.3x one worker's get throughput. Results: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from sqlalchemy.engine import URL

from bench import catalogue
from bench.catalogue import BIN, HOST, RESULTS_DIR, HttpConnection, background_load, dsn
from bench.sync import item as sync_item

DB_NAME = "inovasi_bench_workers"
PORT = 8780
CONNECTIONS = 64
SYNC_CLIENTS = 8
WARMUP_SECONDS = 2
SCENARIOS = ("get", "list", "search", "push")

LUA = r"""
-- Paths from the file named by BENCH_PATHS, one a line, requested in random order; at the end
-- one JSON line with the counts and the latency percentiles (microseconds).
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end

function init(args)
  math.randomseed(os.time() + (tonumber(os.getenv("BENCH_SEED")) or 0))
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


# --- the database -----------------------------------------------------------------------------


def database_url() -> URL:
    return catalogue.database_url().set(database=DB_NAME)


def service_env(url: URL) -> dict[str, str]:
    values = catalogue.service_env(url)
    values.pop("WEB_CONCURRENCY", None)
    return values


async def fresh_copy(rows: int) -> URL:
    source = catalogue.database_url()
    await catalogue.prepare(source, rows, reload=False, keep_indexes=False)
    admin = await asyncpg.connect(dsn(source.set(database="postgres")))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DB_NAME} TEMPLATE {catalogue.DB_NAME}")
    finally:
        await admin.close()
    return database_url()


async def _api_key(url: URL, institution: uuid.UUID) -> str:
    process = await asyncio.create_subprocess_exec(
        str(BIN / "inovasi"),
        "create-api-key",
        "--role",
        "regional_system",
        "--institution",
        str(institution),
        "--name",
        "bench workers",
        env=service_env(url),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit("create-api-key failed")
    return out.decode().strip().splitlines()[-1]


async def setup(url: URL) -> dict[str, Any]:
    """The paths the reads pick from, and one institution and key per sync client."""
    conn = await asyncpg.connect(dsn(url))
    try:
        ids = [
            str(r["id"])
            for r in await conn.fetch(
                "SELECT id FROM innovations TABLESAMPLE BERNOULLI (5) REPEATABLE (7) "
                "WHERE status = 'published' LIMIT 2000"
            )
        ]
        provinces = [
            r["code"] for r in await conn.fetch("SELECT code FROM regions WHERE level = 1")
        ]
        institutions = []
        for client in range(SYNC_CLIENTS):
            institution = uuid.uuid4()
            await conn.execute(
                "INSERT INTO institutions (id, name, kind, region_code, version) "
                "VALUES ($1, $2, 'lembaga', NULL, 1)",
                institution,
                f"Lembaga Bench Workers {client}",
            )
            await conn.execute(
                "INSERT INTO units (id, institution_id, name, external_id, version) "
                "VALUES ($1, $2, 'Dinas Kependudukan dan Pencatatan Sipil', 'DISDUKCAPIL', 1)",
                uuid.uuid4(),
                institution,
            )
            institutions.append(institution)
    finally:
        await conn.close()
    keys = await asyncio.gather(*(_api_key(url, i) for i in institutions))
    folder = RESULTS_DIR / "workers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paths.lua").write_text(LUA)
    files = {
        "get": [f"/v1/innovations/{i}" for i in ids],
        "list": [
            f"/v1/innovations?region={p}&is_digital=true&sort=-created_at&limit=20"
            for p in provinces
        ],
        "search": [f"/v1/innovations?q={catalogue.data.RARE_WORD}&limit=20"],
    }
    for name, paths in files.items():
        (folder / f"{name}.txt").write_text("\n".join(paths) + "\n")
    return {"folder": folder, "keys": list(keys), "ids": len(ids), "provinces": len(provinces)}


# --- CPU --------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found += [int(child) for child in text]
    return found


def _workers(pid: int) -> list[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    found = []
    for child in _children(pid):
        with contextlib.suppress(OSError):
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def _cpu(pid: int) -> float:
    try:
        return catalogue._cpu_seconds(pid)
    except OSError:
        return float("nan")


def _cpu_of(pids: list[int]) -> dict[int, float]:
    return {pid: _cpu(pid) for pid in pids}


async def _backends(url: URL) -> list[int]:
    conn = await asyncpg.connect(dsn(url.set(database="postgres")))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            DB_NAME,
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


@dataclass
class Cpu:
    """Cores busy over a scenario."""

    workers: list[float]
    supervisor: float
    postgres: float
    driver: float
    machine: float

    @property
    def server(self) -> float:
        return sum(self.workers) + self.supervisor


class CpuMeter:
    def __init__(self, server: Server, url: URL) -> None:
        self.server = server
        self.url = url

    async def start(self) -> None:
        # One worker: uvicorn serves in the process it started in, no supervisor.
        self.workers = _workers(self.server.pid) if self.server.workers > 1 else []
        self.backends = await _backends(self.url)
        self.before = _cpu_of([self.server.pid, *self.workers, *self.backends])
        self.machine = catalogue._machine_busy()
        self.started = time.perf_counter()

    def stop(self, driver_seconds: float) -> Cpu:
        elapsed = time.perf_counter() - self.started
        after = _cpu_of(list(self.before))
        busy, total = catalogue._machine_busy()
        cores = os.cpu_count() or 1

        def used(pid: int) -> float:
            return (after[pid] - self.before[pid]) / elapsed

        postgres = sum(used(p) for p in self.backends if after[p] == after[p])
        own = used(self.server.pid)
        return Cpu(
            workers=[round(used(p), 3) for p in self.workers] or [round(own, 3)],
            supervisor=round(own, 3) if self.workers else 0.0,
            postgres=round(postgres, 3),
            driver=round(driver_seconds / elapsed, 3),
            machine=round((busy - self.machine[0]) / max(total - self.machine[1], 1e-9) * cores, 3),
        )


# --- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    workers: int
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def start_server(workers: int, url: URL) -> Server:
    log = (RESULTS_DIR / "workers" / f"serve-{workers}.log").open("ab")
    command = [str(BIN / "inovasi"), "serve", "--host", HOST, "--port", str(PORT)]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(  # noqa: S603, ASYNC220 - this checkout's own CLI, started once
        command,
        env=service_env(url),
        cwd=catalogue.PROJECT_ROOT,
        stdout=log,
        stderr=log,
    )
    log.close()
    server = Server(workers, process)
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"inovasi serve exited; see {RESULTS_DIR}/workers/serve-*.log")
        # With one worker uvicorn serves in its own process; with more it supervises them.
        if workers == 1 or len(_workers(process.pid)) >= workers:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                connection = HttpConnection(PORT)
                status, _ = await connection.get("/livez")
                connection.close()
                if status == 200:
                    return server
        await asyncio.sleep(0.3)
    server.stop()
    raise SystemExit(f"inovasi serve --workers {workers} did not answer on port {PORT}")


# --- the loads --------------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    workers: int
    round: int
    rate: float  # requests (or rows, for push) a second that succeeded
    unit: str
    p50_ms: float
    p99_ms: float
    errors: int
    seconds: float
    background: float
    cpu: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def _wrk(script: Path, paths: Path, seconds: float) -> tuple[dict[str, Any], float]:
    """Run wrk; its JSON summary and the CPU seconds it used (from wait4)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{round(seconds)}s", "--timeout", "30s"]
    command += ["-s", str(script), f"http://{HOST}:{PORT}"]
    process = subprocess.Popen(  # noqa: S603 - the benchmark's own command line
        command,
        env={**os.environ, "BENCH_PATHS": str(paths)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stdout is not None
    output = process.stdout.read().decode()
    lines = [line for line in output.splitlines() if line.startswith("BENCH_JSON ")]
    if process.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{output}")
    return json.loads(lines[-1].removeprefix("BENCH_JSON ")), usage.ru_utime + usage.ru_stime


async def read_load(
    scenario: str, server: Server, url: URL, folder: Path, seconds: float, round_: int
) -> Result:
    script, paths = folder / "paths.lua", folder / f"{scenario}.txt"
    await asyncio.to_thread(_wrk, script, paths, WARMUP_SECONDS)
    background = await background_load()
    meter = CpuMeter(server, url)
    await meter.start()
    summary, driver = await asyncio.to_thread(_wrk, script, paths, seconds)
    cpu = meter.stop(driver)
    elapsed = summary["duration_us"] / 1e6
    errors = sum(summary[k] for k in ("connect", "read", "write", "status", "timeout"))
    good = summary["requests"] - summary["status"]
    return Result(
        scenario=scenario,
        workers=server.workers,
        round=round_,
        rate=good / elapsed,
        unit="req/s",
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        errors=errors,
        seconds=round(elapsed, 2),
        background=round(background, 3),
        cpu={**asdict(cpu), "server": round(cpu.server, 3)},
        extra={"requests": summary["requests"], "mean_ms": summary["mean_us"] / 1000},
    )


async def push_load(
    server: Server, url: URL, keys: list[str], seconds: float, batch: int, round_: int
) -> Result:
    run = uuid.uuid4().hex[:8]
    base = f"http://{HOST}:{PORT}"
    latencies: list[float] = []
    rows = 0
    errors = 0

    async def client(index: int, key: str, until: float, record: bool) -> None:
        nonlocal rows, errors
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=base, timeout=300) as http:
            sequence = 0
            while time.perf_counter() < until:
                items = []
                for _ in range(batch):
                    sequence += 1
                    one = sync_item(sequence, 1)
                    one["external_id"] = f"W{run}-{index}-{sequence:06d}"
                    items.append(one)
                started = time.perf_counter()
                response = await http.post(
                    "/v1/sync/innovations/batch",
                    content=orjson.dumps({"items": items}),
                    headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                )
                if not record:
                    continue
                if response.status_code != 200:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                rows += response.json()["totals"].get("created", 0)

    warm_until = time.perf_counter() + WARMUP_SECONDS
    await asyncio.gather(*(client(i, k, warm_until, False) for i, k in enumerate(keys)))
    background = await background_load()
    meter = CpuMeter(server, url)
    await meter.start()
    driver_before = time.process_time()
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(client(i, k, until, True) for i, k in enumerate(keys)))
    elapsed = time.perf_counter() - started
    cpu = meter.stop(time.process_time() - driver_before)
    latencies.sort()
    return Result(
        scenario="push",
        workers=server.workers,
        round=round_,
        rate=rows / elapsed,
        unit="rows/s",
        p50_ms=catalogue._percentile(latencies, 0.5) * 1000,
        p99_ms=catalogue._percentile(latencies, 0.99) * 1000,
        errors=errors,
        seconds=round(elapsed, 2),
        background=round(background, 3),
        cpu={**asdict(cpu), "server": round(cpu.server, 3)},
        extra={"batches": len(latencies), "batch": batch, "clients": len(keys)},
    )


# --- report -----------------------------------------------------------------------------------


def _machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return {"cpus": os.cpu_count(), "model": model, "loadavg": os.getloadavg()}


def _median_round(results: list[Result], scenario: str, workers: int) -> Result:
    rounds = sorted(
        (r for r in results if r.scenario == scenario and r.workers == workers),
        key=lambda r: r.rate,
    )
    return rounds[(len(rounds) - 1) // 2]


def report(results: list[Result], counts: list[int]) -> list[str]:
    one, two = counts[0], counts[-1]
    lines = [
        f"| scenario | workers | rate | p50 ms | p99 ms | errors | server cores (per worker) "
        f"| PostgreSQL cores | driver cores | machine cores | busy before | {two} / {one} |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        if not any(r.scenario == scenario for r in results):
            continue
        base = _median_round(results, scenario, one)
        for workers in counts:
            r = _median_round(results, scenario, workers)
            ratio = f"**{r.rate / base.rate:.2f}**" if workers != one else ""
            per_worker = ", ".join(f"{c:.2f}" for c in r.cpu["workers"])
            lines.append(
                f"| {scenario} | {workers} | {r.rate:,.0f} {r.unit} | {r.p50_ms:,.1f} "
                f"| {r.p99_ms:,.1f} | {r.errors} | {r.cpu['server']:.2f} ({per_worker}) "
                f"| {r.cpu['postgres']:.2f} | {r.cpu['driver']:.2f} | {r.cpu['machine']:.2f} "
                f"| {r.background:.2f} | {ratio} |"
            )
    lines.append("")
    for scenario in SCENARIOS:
        rounds = [r for r in results if r.scenario == scenario]
        if not rounds:
            continue
        by = {w: [f"{r.rate:,.0f}" for r in rounds if r.workers == w] for w in counts}
        text = "; ".join(f"{w} worker(s): {', '.join(v)}" for w, v in by.items())
        lines.append(f"- {scenario}, every round: {text}")
    return lines


async def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    machine_before = _machine()
    url = await fresh_copy(args.rows)
    prepared = await setup(url)
    counts = [int(v) for v in args.workers.split(",")]
    scenarios = [s for s in args.only.split(",") if s] if args.only else list(SCENARIOS)
    results: list[Result] = []
    for round_ in range(args.rounds):
        order = counts if round_ % 2 == 0 else list(reversed(counts))
        for workers in order:
            print(f"round {round_ + 1}: {workers} worker(s)", file=sys.stderr)
            server = await start_server(workers, url)
            try:
                for scenario in scenarios:
                    if scenario == "push":
                        result = await push_load(
                            server, url, prepared["keys"], args.duration, args.batch, round_
                        )
                    else:
                        result = await read_load(
                            scenario, server, url, prepared["folder"], args.duration, round_
                        )
                    results.append(result)
                    print(
                        f"  {scenario}: {result.rate:,.0f} {result.unit}, p50 "
                        f"{result.p50_ms:.1f} ms, server {result.cpu['server']:.2f} cores "
                        f"{result.cpu['workers']}, postgres {result.cpu['postgres']:.2f}, "
                        f"machine {result.cpu['machine']:.2f}, busy before "
                        f"{result.background:.2f}, errors {result.errors}",
                        file=sys.stderr,
                    )
            finally:
                server.stop()
    lines = report(results, counts)
    machine_after = _machine()
    summary = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "duration": args.duration,
        "rounds": args.rounds,
        "seconds": round(time.perf_counter() - started, 1),
        "machine_before": machine_before,
        "machine_after": machine_after,
        "results": [asdict(r) for r in results],
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"workers-{args.rows}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(
        f"{args.rows:,} rows, {args.rounds} round(s) of {args.duration:g} s a scenario, "
        f"{summary['seconds']:.0f} s in all; {machine_before['cpus']} CPUs "
        f"({machine_before['model']}); load average before "
        f"{machine_before['loadavg'][0]:.2f}, after {machine_after['loadavg'][0]:.2f}\n"
    )
    print("\n".join(lines))
    print(f"\nwritten to {out}", file=sys.stderr)
    get_one = _median_round(results, "get", counts[0]) if "get" in scenarios else None
    if get_one is not None:
        ratio = _median_round(results, "get", counts[-1]).rate / get_one.rate
        verdict = "PASS" if ratio >= 1.3 else "FAIL"
        print(f"\ntarget: get with {counts[-1]} workers >= 1.3x one: {ratio:.2f}x, {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds a scenario")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", default="1,2", help="worker counts, the first the baseline")
    parser.add_argument("--batch", type=int, default=100, help="innovations a sync push")
    parser.add_argument("--only", default="", help="some of: " + ",".join(SCENARIOS))
    asyncio.run(main(parser.parse_args()))
