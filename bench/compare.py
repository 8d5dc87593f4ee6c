"""Two checkouts' hot paths side by side: the service's CPU milliseconds per request, in process.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.compare --base /work/wt-base [--head .] [--rows 100000] \\
        [--rounds 5] [--scale 1] [--only get,push]

`--base` is checkout A (before), `--head` checkout B (after; default this checkout). Each is
measured in a process of its own, run by its own `.venv/bin/python` with its own folder as the
working directory and on PYTHONPATH, so `import app` is that checkout's code; the measuring
code is this file, copied to a temporary folder (the same for both; it imports nothing of
`bench`). Each process builds the app with `create_app` (ENVIRONMENT=production, rate limits
off, logs at WARNING) and calls it over ASGI, one request at a time, no HTTP, as
`bench/request_cost.py` does; what is measured is the process's CPU time over a batch of
requests (`time.process_time`), divided by their number.

The database is a copy (`CREATE DATABASE ... TEMPLATE`) of the one `bench.catalogue` builds with
the same `--rows` (built first if missing), made afresh every run, to which this run adds what
the catalogue lacks: 38 provincial governments with an active regional hub each (the hub's
members are the province's regencies and cities), a national competition open for
registration, a secretariat API key and, per checkout, an institution (a lembaga) with one
unit and a regional_system key of its own: each checkout pushes into its own institution, so
the two write alike and neither sees the other's writes in what it reads (the feed's first
page is the oldest changes). These are created through the API of the checkout this file runs in.

Rounds interleave the two: in each round every scenario is measured on A then B (the second,
fourth, ... round B then A), so other load on the machine hits both alike. Per scenario it
reports the median of the rounds' CPU ms per request for each checkout, B / A of those
medians, the median and range of the rounds' paired ratios, and each side's spread
((max - min) / median of its rounds).
The first response of each GET scenario is hashed on both sides: "same body" says whether the
two checkouts answered byte for byte alike. Markdown to stdout, JSON to
`.data/bench/compare-<date>.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

DB_NAME = "inovasi_bench_compare"
SECRET_KEY = "bench-compare-secret-key-0123456789abcdef01"  # noqa: S105 - a benchmark's key
MARK = "@@compare "
PUSH_ITEMS = 100
PROVINCE = "35"

# name: (method, path, caller, requests per round at --scale 1). `{id}` takes published ids in
# turn; `{hub}` and `{competition}` the ones the setup made; the caller is None (anonymous),
# "secretariat" or "regional" (the checkout's own institution's key).
SCENARIOS: dict[str, tuple[str, str, str | None, int]] = {
    "get": ("GET", "/v1/innovations/{id}", None, 1000),
    "list": ("GET", "/v1/innovations", None, 300),
    "search_common": ("GET", "/v1/innovations?q=layanan", None, 40),
    "search_rare": ("GET", "/v1/innovations?q=mapalus", None, 150),
    "list_filtered": (
        "GET",
        f"/v1/innovations?region={PROVINCE}&is_digital=true&sort=-created_at",
        None,
        300,
    ),
    "hub": ("GET", "/v1/hubs/{hub}", None, 1000),
    "hubs": ("GET", "/v1/hubs", None, 500),
    "competition": ("GET", "/v1/competitions/{competition}", None, 1000),
    "changes": ("GET", "/v1/sync/changes?limit=100", "secretariat", 60),
    "push": ("POST", "/v1/sync/innovations/batch", "regional", 12),
}
WARMUP = {"search_common": 5, "changes": 5, "push": 3}

_SECTIONS = ("summary", "background_and_aims", "novelty", "implementation")
_PARAGRAPH = (
    "Layanan publik yang lebih cepat dan mudah diakses masyarakat melalui pendaftaran daring, "
    "antrean terjadwal dan notifikasi otomatis kepada pemohon tentang status berkas mereka. "
)


def push_item(i: int, revision: int) -> dict[str, Any]:
    """One innovation as a regional system pushes it (as `bench/sync.py`, about 1.3 kB)."""
    return {
        "external_id": f"CMP-{i:06d}",
        "unit_external_id": "DISDUKCAPIL",
        "title": f"INOVASI {i} REV {revision}",
        "acronym_expansion": f"Inovasi Layanan Nomor {i}",
        "year_started": 2018 + i % 6,
        "implemented_date": date(2024, 1 + i % 12, 1 + i % 28).isoformat(),
        "is_digital": i % 3 != 0,
        "stage": ("inisiatif", "uji_coba", "penerapan")[i % 3],
        "sdgs": sorted({1 + i % 17, 1 + (i + 5) % 17}),
        "sections": {name: f"{_PARAGRAPH}({name} {i} rev {revision})" for name in _SECTIONS},
        "links": [{"kind": "website", "url": f"https://layanan.example.go.id/{i}"}],
        "source_system": "SIM-INOVASI-DAERAH",
    }


# --- the measuring process (runs under either checkout: imports only `app` and libraries) ----


class _Caller:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
    ) -> tuple[int, bytes]:
        route, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": route,
            "raw_path": route.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"bench"), *headers],
            "client": ("127.0.0.1", 1),
            "server": ("bench", 80),
        }
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


class _Scenario:
    """The requests of one scenario, in turn: (method, path, headers, body)."""

    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        method, path, caller, _ = SCENARIOS[name]
        self.name = name
        self.method = method
        self.turn = 0
        headers: list[tuple[bytes, bytes]] = []
        if caller is not None:
            headers.append((b"authorization", f"Bearer {spec['keys'][caller]}".encode()))
        self.headers = headers
        if "{id}" in path:
            self.paths = [path.replace("{id}", i) for i in spec["ids"]]
        else:
            self.paths = [path.replace("{hub}", spec["hub"]).replace("{competition}", spec["comp"])]
        self.bodies: list[bytes] = []
        if method == "POST":
            import orjson

            self.bodies = [
                orjson.dumps({"items": [push_item(i, revision) for i in range(PUSH_ITEMS)]})
                for revision in (1, 2)
            ]

    def next(self) -> tuple[str, str, list[tuple[bytes, bytes]], bytes]:
        n, self.turn = self.turn, self.turn + 1
        path = self.paths[n % len(self.paths)]
        if not self.bodies:
            return self.method, path, self.headers, b""
        body = self.bodies[n % 2]  # alternate content: every push writes
        headers = [
            *self.headers,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"idempotency-key", str(uuid.uuid4()).encode()),
        ]
        return self.method, path, headers, body


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(MARK + json.dumps(message) + "\n")
    sys.stdout.flush()


async def _worker(spec_file: str, side: str) -> None:
    import app as app_package
    from app.core.config import Settings
    from app.main import create_app

    spec = json.loads(Path(spec_file).read_text())  # noqa: ASYNC240 - before any request
    spec["keys"] = {**spec["keys"], "regional": spec["keys"][f"regional_{side}"]}
    settings = Settings(
        environment="production",
        database_url=spec["database_url"],
        secret_key=SECRET_KEY,
        log_level="WARNING",
        rate_limit_per_minute=0,
        rate_limit_anonymous_per_minute=0,
    )
    application = create_app(settings)
    call = _Caller(application)
    async with application.router.lifespan_context(application):
        scenarios = {name: _Scenario(name, spec) for name in spec["scenarios"]}
        first: dict[str, dict[str, Any]] = {}
        for name, scenario in scenarios.items():
            statuses: Counter[int] = Counter()
            digest = ""
            for n in range(WARMUP.get(name, 20)):
                status, body = await call(*scenario.next())
                statuses[status] += 1
                if n == 0:
                    digest = hashlib.sha256(body).hexdigest()[:16]
                    if status != 200:
                        digest += " " + body[:300].decode(errors="replace")
            first[name] = {"statuses": dict(statuses), "first_body": digest}
        _reply(
            {
                "ready": True,
                "app": os.path.dirname(app_package.__file__),
                "python": sys.executable,
                "warmup": first,
            }
        )
        for line in sys.stdin:
            order = json.loads(line)
            if order.get("stop"):
                break
            scenario = scenarios[order["scenario"]]
            requests = int(order["requests"])
            statuses = Counter()
            body = b""
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(requests):
                status, body = await call(*scenario.next())
                statuses[status] += 1
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            reply: dict[str, Any] = {
                "scenario": scenario.name,
                "requests": requests,
                "cpu_ms": cpu / requests * 1000,
                "wall_ms": wall / requests * 1000,
                "cpu_s": cpu,
                "statuses": {str(k): v for k, v in statuses.items()},
            }
            if scenario.method == "POST":
                # What the last push did: every push must write (`updated` = its items).
                reply["last_totals"] = json.loads(body).get("totals")
            _reply(reply)


# --- the database and what the scenarios need ----------------------------------------------


def _compare_url() -> Any:
    from bench.catalogue import database_url

    return database_url().set(database=DB_NAME)


async def _copy_database(rows: int) -> dict[str, Any]:
    """The catalogue database of `rows` (built if missing), copied afresh."""
    import asyncpg

    from bench.catalogue import DB_NAME as CATALOGUE
    from bench.catalogue import database_url, dsn, prepare

    catalogue = database_url()
    record = await prepare(catalogue, rows, reload=False, keep_indexes=False)
    started = time.perf_counter()
    admin = await asyncpg.connect(dsn(catalogue.set(database="postgres")))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DB_NAME} TEMPLATE {CATALOGUE}")
    finally:
        await admin.close()
    print(f"copied {CATALOGUE} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return record


def _cli_env(url: Any) -> dict[str, str]:
    from bench.catalogue import dsn

    return {
        **os.environ,
        "DATABASE_URL": dsn(url),
        "ENVIRONMENT": "production",
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }


def _api_key(url: Any, role: str, institution: uuid.UUID | None = None) -> str:
    from bench.catalogue import BIN

    command = [str(BIN / "inovasi"), "create-api-key", "--role", role, "--name", f"compare {role}"]
    if institution is not None:
        command += ["--institution", str(institution)]
    out = subprocess.run(  # noqa: S603 - this checkout's own CLI
        command, env=_cli_env(url), capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


class _Api:
    """The API of the checkout this file runs in, in process, as the secretariat."""

    def __init__(self, client: Any, key: str) -> None:
        self.client = client
        self.auth = {"Authorization": f"Bearer {key}"}

    async def post(self, path: str, body: dict[str, Any], etag: str | None = None) -> Any:
        headers = {**self.auth, **({"If-Match": etag} if etag else {})}
        response = await self.client.post(path, json=body, headers=headers)
        if response.status_code not in (200, 201):
            raise SystemExit(f"setup: POST {path}: {response.status_code} {response.text[:800]}")
        return response


async def _setup(url: Any) -> dict[str, Any]:
    """Hubs, a competition, the keys and each side's institution; returns the workers' spec."""
    import asyncpg
    import httpx

    from app.core.config import Settings
    from app.main import create_app
    from bench.catalogue import dsn

    conn = await asyncpg.connect(dsn(url))
    try:
        sides: dict[str, str] = {}
        for side in ("A", "B"):
            institution, unit = uuid.uuid4(), uuid.uuid4()
            await conn.execute(
                "INSERT INTO institutions (id, name, kind, region_code, version) "
                "VALUES ($1, $2, 'lembaga', NULL, 1)",
                institution,
                f"Lembaga Bench Compare {side}",
            )
            await conn.execute(
                "INSERT INTO units (id, institution_id, name, external_id, version) "
                "VALUES ($1, $2, 'Dinas Kependudukan dan Pencatatan Sipil', 'DISDUKCAPIL', 1)",
                unit,
                institution,
            )
            sides[side] = str(institution)
        provinces = await conn.fetch("SELECT code, name FROM regions WHERE level = 1 ORDER BY code")
        members = await conn.fetch(
            "SELECT id, split_part(region_code, '.', 1) AS province FROM institutions "
            "WHERE kind IN ('pemkab', 'pemkot') "
            "ORDER BY region_code"
        )
        ministry = await conn.fetchval(
            "SELECT id FROM institutions WHERE kind = 'kementerian' ORDER BY name LIMIT 1"
        )
        ids = [
            str(r["id"])
            for r in await conn.fetch(
                "SELECT id FROM innovations WHERE status = 'published' ORDER BY id LIMIT 500"
            )
        ]
    finally:
        await conn.close()

    keys = {
        "secretariat": _api_key(url, "secretariat_admin"),
        "regional_A": _api_key(url, "regional_system", uuid.UUID(sides["A"])),
        "regional_B": _api_key(url, "regional_system", uuid.UUID(sides["B"])),
    }
    settings = Settings(
        environment="production",
        database_url=str(_cli_env(url)["DATABASE_URL"]),
        secret_key=SECRET_KEY,
        log_level="WARNING",
        rate_limit_per_minute=0,
        rate_limit_anonymous_per_minute=0,
    )
    application = create_app(settings)
    started = time.perf_counter()
    by_province: dict[str, list[str]] = {}
    for row in members:
        by_province.setdefault(row["province"], []).append(str(row["id"]))
    hubs: dict[str, str] = {}
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            api = _Api(client, keys["secretariat"])
            for province in provinces:
                code, name = province["code"], province["name"]
                if code not in by_province:
                    continue
                host = await api.post(
                    "/v1/institutions",
                    {"name": f"Pemerintah Provinsi {name}", "kind": "pemprov", "region_code": code},
                )
                hub = await api.post(
                    "/v1/hubs",
                    {
                        "name": f"JIPP Provinsi {name}",
                        "kind": "regional",
                        "host_institution_id": host.json()["id"],
                        "candidate_date": "2024-01-02",
                        "contacts": [{"name": "Sekretariat JIPP", "email": "jipp@example.go.id"}],
                    },
                )
                hub_id, etag = hub.json()["id"], hub.headers["etag"]
                for action, when in (
                    ("commit", "2024-02-01"),
                    ("designate", "2024-03-01"),
                    ("activate", "2024-04-01"),
                ):
                    body: dict[str, Any] = {"action": action, "effective_date": when}
                    if action == "designate":
                        body["designation_decree_reference"] = "Keputusan Menteri PANRB 1/2024"
                    step = await api.post(f"/v1/hubs/{hub_id}/transitions", body, etag)
                    etag = step.headers["etag"]
                for member in by_province[code]:
                    await api.post(
                        f"/v1/hubs/{hub_id}/members",
                        {"institution_id": member, "joined_date": "2024-05-01"},
                    )
                hubs[code] = hub_id
            now = datetime.now(UTC)
            competition = await api.post(
                "/v1/competitions",
                {
                    "code": "KIPP-BENCH",
                    "name": "Kompetisi Inovasi Pelayanan Publik (bench)",
                    "year": now.year,
                    "scope": "national",
                    "organiser_institution_id": str(ministry),
                    "theme": "Inovasi Pelayanan Publik Berdampak",
                    "legal_basis": ["Peraturan Menteri PANRB Nomor 91 Tahun 2021"],
                    "registration_opens_at": (now - timedelta(days=1)).isoformat(),
                    "registration_closes_at": (now + timedelta(days=60)).isoformat(),
                },
            )
            comp = competition.json()["id"]
            groups = []
            for code, name in (("umum", "Kelompok Umum"), ("khusus", "Kelompok Khusus")):
                group = await api.post(
                    f"/v1/competitions/{comp}/groups",
                    {"code": code, "name": name, "min_implementation_months": 12},
                )
                groups.append(group.json()["id"])
            for code, name in (
                ("digital", "Transformasi Digital"),
                ("layanan", "Pelayanan Publik"),
                ("tata_kelola", "Tata Kelola Pemerintahan"),
            ):
                await api.post(f"/v1/competitions/{comp}/categories", {"code": code, "name": name})
            for position, (kind, name) in enumerate(
                (("desk_evaluation", "Evaluasi Proposal"), ("interview", "Presentasi")), 1
            ):
                round_ = await api.post(
                    f"/v1/competitions/{comp}/rounds",
                    {"position": position, "kind": kind, "name": name, "advance_quota": 99},
                )
                for group in groups:
                    for n, weight in enumerate((30, 30, 20, 20), 1):
                        await api.post(
                            f"/v1/rounds/{round_.json()['id']}/criteria",
                            {"group_id": group, "name": f"Kriteria {n}", "weight": weight},
                        )
            current = await client.get(f"/v1/competitions/{comp}", headers=api.auth)
            await api.post(
                f"/v1/competitions/{comp}/transitions",
                {"action": "open_registration"},
                current.headers["etag"],
            )
    print(
        f"setup: {len(hubs)} hubs, a competition, keys in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    biggest = max(hubs, key=lambda code: len(by_province[code]))
    return {
        "database_url": _cli_env(url)["DATABASE_URL"],
        "ids": ids,
        "hub": hubs[biggest],
        "hub_members": len(by_province[biggest]),
        "hubs": len(hubs),
        "comp": comp,
        "keys": keys,
        "institutions": sides,
    }


# --- the two processes, in rounds -----------------------------------------------------------


class Worker:
    def __init__(self, side: str, checkout: Path, script: Path, spec_file: Path) -> None:
        self.side = side
        self.checkout = checkout
        python = checkout / ".venv" / "bin" / "python"
        if not python.exists():
            raise SystemExit(f"{python} is missing: run `make install` in {checkout}")
        env = {
            **os.environ,
            "PYTHONPATH": str(checkout),
            "ENVIRONMENT": "production",
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": SECRET_KEY,
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [str(python), str(script), "--worker", str(spec_file), "--side", side],
            cwd=checkout,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(MARK):
                message: dict[str, Any] = json.loads(line[len(MARK) :])
                return message
        raise SystemExit(f"worker {self.side} ({self.checkout}) ended: {self.process.wait()}")

    def run(self, scenario: str, requests: int) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"scenario": scenario, "requests": requests}) + "\n")
        self.process.stdin.flush()
        return self.read()

    def stop(self) -> None:
        if self.process.stdin is not None and self.process.poll() is None:
            self.process.stdin.write(json.dumps({"stop": True}) + "\n")
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _busy() -> tuple[float, float]:
    with open("/proc/stat") as stat:
        values = [float(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _commit(checkout: Path) -> str:
    out = subprocess.run(  # noqa: S603 - git on a path given by the caller
        ["git", "-C", str(checkout), "log", "-1", "--format=%h %s"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()[:90]


def _spread(values: Sequence[float]) -> float:
    return (max(values) - min(values)) / statistics.median(values)


def summarise(samples: list[dict[str, Any]], scenarios: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for name in scenarios:
        mine = [s for s in samples if s["scenario"] == name]
        a = [s["cpu_ms"] for s in mine if s["side"] == "A"]
        b = [s["cpu_ms"] for s in mine if s["side"] == "B"]
        by_round: dict[int, dict[str, float]] = {}
        for s in mine:
            by_round.setdefault(s["round"], {})[s["side"]] = s["cpu_ms"]
        paired = [r["B"] / r["A"] for r in by_round.values() if "A" in r and "B" in r]
        rows.append(
            {
                "scenario": name,
                "a_median_cpu_ms": statistics.median(a),
                "b_median_cpu_ms": statistics.median(b),
                "ratio": statistics.median(b) / statistics.median(a),
                "paired_ratio_median": statistics.median(paired),
                "paired_ratio_min": min(paired),
                "paired_ratio_max": max(paired),
                "a_spread": _spread(a),
                "b_spread": _spread(b),
                "a_wall_ms": statistics.median(s["wall_ms"] for s in mine if s["side"] == "A"),
                "b_wall_ms": statistics.median(s["wall_ms"] for s in mine if s["side"] == "B"),
                "a_rounds": a,
                "b_rounds": b,
            }
        )
    return rows


def table(rows: Sequence[dict[str, Any]], warmup: dict[str, Any]) -> str:
    lines = [
        "| scenario | A CPU ms/req | B CPU ms/req | B / A | rounds' B / A: median (min-max) "
        "| spread A | spread B | same body |",
        "|---|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in rows:
        name = r["scenario"]
        method, path, caller, _ = SCENARIOS[name]
        same = warmup["A"][name]["first_body"] == warmup["B"][name]["first_body"]
        label = f"`{name}`: {method} {path}" + (f" ({caller})" if caller else "")
        lines.append(
            f"| {label} | {r['a_median_cpu_ms']:.2f} | {r['b_median_cpu_ms']:.2f} "
            f"| **{r['ratio']:.2f}** | {r['paired_ratio_median']:.2f} "
            f"({r['paired_ratio_min']:.2f}-{r['paired_ratio_max']:.2f}) "
            f"| {r['a_spread'] * 100:.0f}% | {r['b_spread'] * 100:.0f}% "
            f"| {'yes' if same else 'no' if method == 'GET' else '-'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--base", type=Path, help="checkout A (before); required")
    parser.add_argument(
        "--head", type=Path, default=None, help="checkout B (after); default this one"
    )
    parser.add_argument("--rows", type=int, default=100_000, help="the catalogue's size")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every scenario's requests a round"
    )
    parser.add_argument("--only", default="", help="comma-separated scenarios")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results file; default .data/bench/compare-<date>.json",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(_worker(args.worker, args.side))
        return

    if args.base is None:
        parser.error("--base is required")
    from app.core.config import PROJECT_ROOT

    head = (args.head or PROJECT_ROOT).resolve()
    base = args.base.resolve()
    scenarios = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    run_started = time.perf_counter()
    record = asyncio.run(_copy_database(args.rows))
    url = _compare_url()
    spec = {**asyncio.run(_setup(url)), "scenarios": scenarios}

    folder = Path(tempfile.mkdtemp(prefix="inovasi-compare-"))
    script = folder / "inovasi_compare_worker.py"
    shutil.copyfile(__file__, script)
    spec_file = folder / "spec.json"
    spec_file.write_text(json.dumps(spec))
    checkouts = {"A": base, "B": head}
    workers = {side: Worker(side, path, script, spec_file) for side, path in checkouts.items()}
    samples: list[dict[str, Any]] = []
    load: list[float] = []
    try:
        ready = {side: worker.read() for side, worker in workers.items()}
        for side, hello in ready.items():
            expected = str(checkouts[side] / "app")
            if hello["app"] != expected:
                raise SystemExit(f"worker {side} imported {hello['app']}, not {expected}")
            for name, seen in hello["warmup"].items():
                if set(seen["statuses"]) != {"200"}:
                    raise SystemExit(f"worker {side}, {name} warm-up: {seen}")
        print(f"workers ready: {json.dumps(ready)}", file=sys.stderr)
        for n in range(args.rounds):
            order = ("A", "B") if n % 2 == 0 else ("B", "A")
            for name in scenarios:
                requests = max(2, round(SCENARIOS[name][3] * args.scale))
                for side in order:
                    busy, total = _busy()
                    started = time.perf_counter()
                    result = workers[side].run(name, requests)
                    busy2, total2 = _busy()
                    seconds = time.perf_counter() - started
                    cores = (busy2 - busy) / (total2 - total) * (os.cpu_count() or 1)
                    # Busy cores on the machine besides the measured process.
                    others = max(0.0, cores - result["cpu_s"] / seconds)
                    load.append(os.getloadavg()[0])
                    sample = {
                        **result,
                        "side": side,
                        "round": n,
                        "seconds": round(seconds, 2),
                        "machine_busy_cores": round(cores, 2),
                        "other_busy_cores": round(others, 2),
                        "loadavg_1m": load[-1],
                    }
                    if set(result["statuses"]) != {"200"}:
                        raise SystemExit(f"{side} {name}: statuses {result['statuses']}")
                    totals = result.get("last_totals")
                    if totals is not None and totals.get("updated") != PUSH_ITEMS:
                        raise SystemExit(f"{side} {name}: a push wrote {totals}, not an update")
                    samples.append(sample)
                    print(
                        f"round {n + 1} {name} {side}: {result['cpu_ms']:.3f} ms CPU, "
                        f"{result['wall_ms']:.3f} ms wall, {others:.2f} other cores busy",
                        file=sys.stderr,
                    )
    finally:
        for worker in workers.values():
            worker.stop()
        shutil.rmtree(folder, ignore_errors=True)

    rows = summarise(samples, scenarios)
    warmup = {side: hello["warmup"] for side, hello in ready.items()}
    today = date.today().isoformat()
    busy_cores = [s["other_busy_cores"] for s in samples]
    report = {
        "date": today,
        "rows": args.rows,
        "catalogue_load": record,
        "rounds": args.rounds,
        "scale": args.scale,
        "requests_per_round": {
            name: max(2, round(SCENARIOS[name][3] * args.scale)) for name in scenarios
        },
        "push_items": PUSH_ITEMS,
        "hub_members": spec["hub_members"],
        "hubs": spec["hubs"],
        "checkouts": {
            side: {"path": str(p), "commit": _commit(p)} for side, p in checkouts.items()
        },
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_1m_median": statistics.median(load),
            "loadavg_1m_max": max(load),
            "busy_cores_median": statistics.median(busy_cores),
            "busy_cores_max": max(busy_cores),
        },
        "warmup": warmup,
        "results": rows,
        "samples": samples,
        "run_seconds": round(time.perf_counter() - run_started),
    }
    from bench.catalogue import RESULTS_DIR

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS_DIR / f"compare-{today}.json"
    out.write_text(json.dumps(report, indent=1))

    print(f"\n## {today}: A {_commit(base)} against B {_commit(head)}\n")
    print(
        f"{args.rows:,} catalogue rows, {args.rounds} rounds, requests a round: "
        f"{report['requests_per_round']}; machine: {os.cpu_count()} CPUs, load average "
        f"(1 min) median {report['machine']['loadavg_1m_median']:.1f}, max "
        f"{report['machine']['loadavg_1m_max']:.1f}; cores busy besides the measured process: "
        f"median {report['machine']['busy_cores_median']:.2f}, max "
        f"{report['machine']['busy_cores_max']:.2f}\n"
    )
    print(table(rows, warmup))
    print(f"\nwritten to {out}; run took {report['run_seconds']} s")


if __name__ == "__main__":
    main()
