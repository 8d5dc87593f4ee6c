"""`inovasi backup` and `inovasi restore`, run as commands against the test server: a populated
database (migrations, regions, demo data) is dumped, restored into a fresh database, and the two
compared table by table, with their sequences, triggers and alembic version."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from app.core.config import PROJECT_ROOT
from app.db.backup import (
    client_major_version,
    find_client,
    libpq_environment,
    server_major_version,
)
from app.db.url import ensure_database, to_libpq_dsn
from tests.conftest import make_settings
from tests.fixtures.database import (
    drop_database,
    migrate,
    private_server,
    seed,
    test_database_url,
)

SOURCE = "inovasi_test_backup_source"
TARGET = "inovasi_test_backup_target"

_TABLES = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name
"""
_SEQUENCES = """
SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'
ORDER BY sequencename
"""
_TRIGGERS = """
SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal ORDER BY 1, 2
"""
_FUNCTIONS = """
SELECT p.proname, md5(pg_get_functiondef(p.oid)) FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.prokind = 'f'
ORDER BY 1, 2
"""


def _dsn_url(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _inovasi(*args: str, database_url: URL) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": _dsn_url(database_url), "ENVIRONMENT": "test"}
    return subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _snapshot(url: URL) -> dict[str, Any]:
    """Every table's row count and an md5 of its rows in a fixed order, and the schema objects
    a dump could lose."""
    conn = await asyncpg.connect(to_libpq_dsn(url))
    try:
        tables = [r["table_name"] for r in await conn.fetch(_TABLES)]
        content = {}
        for table in tables:
            # The table names come from the catalogue, not from input.
            row = await conn.fetchrow(
                "SELECT count(*) AS n, md5(coalesce(string_agg(t::text, E'\\n' "  # noqa: S608
                f"ORDER BY t::text), '')) AS digest FROM \"{table}\" t"
            )
            content[table] = (row["n"], row["digest"])
        return {
            "tables": content,
            "sequences": [tuple(r) for r in await conn.fetch(_SEQUENCES)],
            "triggers": [tuple(r) for r in await conn.fetch(_TRIGGERS)],
            "functions": [tuple(r) for r in await conn.fetch(_FUNCTIONS)],
            "alembic": await conn.fetchval("SELECT version_num FROM alembic_version"),
        }
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def source() -> Iterator[URL]:
    url = test_database_url(SOURCE)
    migrate(url)
    seed(url, make_settings(url), demo=True)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def archive(source: URL, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backup") / "inovasi.dump"
    done = _inovasi("backup", "--output", str(path), database_url=source)
    assert done.returncode == 0, done.stderr
    assert f"backup written to {path}" in done.stderr
    return path


@pytest.fixture
def target(source: URL) -> Iterator[URL]:
    url = source.set(database=TARGET)
    drop_database(url)
    try:
        yield url
    finally:
        drop_database(url)


def test_a_restored_backup_holds_the_same_tables_rows_sequences_and_triggers(
    source: URL, archive: Path, target: URL
) -> None:
    assert archive.read_bytes().startswith(b"PGDMP")
    done = _inovasi(
        "restore", "--input", str(archive), "--target-url", _dsn_url(target), database_url=source
    )
    assert done.returncode == 0, done.stderr
    assert f"restored {archive} into '{TARGET}'" in done.stderr

    before, after = asyncio.run(_snapshot(source)), asyncio.run(_snapshot(target))
    assert before["tables"]["innovations"][0] > 0
    assert before["tables"]["sync_changes"][0] > 0
    assert after == before


async def _write_and_count_changes(url: URL) -> tuple[int, int, int]:
    conn = await asyncpg.connect(to_libpq_dsn(url))
    try:
        before = await conn.fetchval("SELECT count(*) FROM sync_changes")
        newest = await conn.fetchval("SELECT max(position) FROM sync_changes")
        await conn.execute(
            "UPDATE innovations SET version = version + 1 "
            "WHERE id = (SELECT id FROM innovations ORDER BY id LIMIT 1)"
        )
        added = await conn.fetchval("SELECT max(position) FROM sync_changes")
        return before, await conn.fetchval("SELECT count(*) FROM sync_changes"), added - newest
    finally:
        await conn.close()


def test_the_sync_change_log_triggers_fire_after_a_restore(
    source: URL, archive: Path, target: URL
) -> None:
    done = _inovasi(
        "restore", "--input", str(archive), "--target-url", _dsn_url(target), database_url=source
    )
    assert done.returncode == 0, done.stderr

    before, after, step = asyncio.run(_write_and_count_changes(target))
    # A new row, numbered after the restored ones (the identity sequence came back too).
    assert after == before + 1
    assert step >= 1


def test_a_restore_into_a_database_with_tables_is_refused_unless_clean(
    source: URL, archive: Path, target: URL
) -> None:
    restore = ("restore", "--input", str(archive), "--target-url", _dsn_url(target))
    assert _inovasi(*restore, database_url=source).returncode == 0
    asyncio.run(_write_and_count_changes(target))

    refused = _inovasi(*restore, database_url=source)
    assert refused.returncode == 2
    assert f"refused: the database '{TARGET}' is not empty" in refused.stderr
    assert "--clean" in refused.stderr

    cleaned = _inovasi(*restore, "--clean", database_url=source)
    assert cleaned.returncode == 0, cleaned.stderr
    # The write made after the first restore is gone: the target is the backup again.
    assert asyncio.run(_snapshot(target)) == asyncio.run(_snapshot(source))


async def _burn_transaction_ids_then_write(url: URL, count: int) -> None:
    conn = await asyncpg.connect(to_libpq_dsn(url))
    try:
        await conn.execute(
            f"DO $$ BEGIN FOR i IN 1..{count} LOOP "
            "PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$"
        )
        await conn.execute(
            "UPDATE innovations SET version = version + 1 "
            "WHERE id = (SELECT id FROM innovations ORDER BY id LIMIT 1)"
        )
    finally:
        await conn.close()


def test_a_restore_into_a_fresh_cluster_warns_that_its_transaction_ids_are_behind(
    source: URL, archive: Path, target: URL, tmp_path: Path
) -> None:
    # A copy whose change log holds a transaction id a new cluster has not reached.
    assert _inovasi("restore", "--input", str(archive), database_url=target).returncode == 0
    asyncio.run(_burn_transaction_ids_then_write(target, 3000))
    newer = tmp_path / "newer.dump"
    assert _inovasi("backup", "--output", str(newer), database_url=target).returncode == 0

    with private_server("inovasi_test_backup_fresh") as fresh:
        done = _inovasi("restore", "--input", str(newer), database_url=fresh)
    assert done.returncode == 0, done.stderr
    assert "warning: this server's transaction ids are" in done.stderr
    assert "behind the restored sync change log" in done.stderr
    # The same server (ids ahead of its own log) gets no warning.
    assert (
        "warning"
        not in _inovasi("restore", "--input", str(newer), "--clean", database_url=target).stderr
    )


def test_a_file_that_is_not_an_archive_is_refused(source: URL, target: URL, tmp_path: Path) -> None:
    junk = tmp_path / "not-a-dump.sql"
    junk.write_text("SELECT 1;\n")
    done = _inovasi(
        "restore", "--input", str(junk), "--target-url", _dsn_url(target), database_url=source
    )
    assert done.returncode == 1
    assert "is not a pg_dump custom-format archive" in done.stderr


def test_a_failed_backup_leaves_no_file_and_says_why(source: URL, tmp_path: Path) -> None:
    output = tmp_path / "missing.dump"
    done = _inovasi("backup", "--output", str(output), database_url=source.set(database="nope_x"))
    assert done.returncode == 1
    assert "backup failed: cannot connect to the database 'nope_x'" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_client_tools_match_the_servers_major_version(source: URL) -> None:
    major = asyncio.run(server_major_version(source))
    for tool in ("pg_dump", "pg_restore"):
        assert client_major_version(find_client(tool, major)) == major


def test_the_password_goes_to_the_tools_in_the_environment_not_the_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGHOST", "elsewhere")
    monkeypatch.setenv("PGSERVICE", "other")
    env = libpq_environment(make_url("postgresql://ops:s3cret@db:6543/inovasi?sslmode=require"))
    assert env["PGPASSWORD"] == "s3cret"
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"]) == ("db", "6543", "ops")
    assert (env["PGDATABASE"], env["PGSSLMODE"]) == ("inovasi", "require")
    assert "PGSERVICE" not in env


def test_a_backup_to_stdout_is_the_archive_itself(source: URL) -> None:
    env = {**os.environ, "DATABASE_URL": _dsn_url(source), "ENVIRONMENT": "test"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "backup", "--output", "-"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"PGDMP")
    assert b"backup written to stdout" in done.stderr


async def _prepare_clashing_function(url: URL) -> None:
    conn = await asyncpg.connect(to_libpq_dsn(url))
    try:
        # Not a table (the emptiness check passes), but the archive creates it too.
        await conn.execute(
            "CREATE FUNCTION sync_record_change() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NULL; END $$"
        )
    finally:
        await conn.close()


async def _tables(url: URL) -> list[str]:
    conn = await asyncpg.connect(to_libpq_dsn(url))
    try:
        return [r["table_name"] for r in await conn.fetch(_TABLES)]
    finally:
        await conn.close()


def test_a_restore_that_fails_midway_leaves_the_target_as_it_was(
    source: URL, archive: Path, target: URL
) -> None:
    asyncio.run(ensure_database(target))
    asyncio.run(_prepare_clashing_function(target))

    done = _inovasi("restore", "--input", str(archive), database_url=target)
    assert done.returncode == 1
    assert "restore failed: pg_restore failed" in done.stderr
    assert "sync_record_change" in done.stderr
    assert asyncio.run(_tables(target)) == []


def test_a_restore_to_an_unreachable_server_says_so(source: URL, archive: Path) -> None:
    nowhere = "postgresql://postgres@127.0.0.1:1/inovasi_test_backup_nowhere"
    done = _inovasi(
        "restore", "--input", str(archive), "--target-url", nowhere, database_url=source
    )
    assert done.returncode == 1
    assert "restore failed: cannot connect to the database 'inovasi_test_backup_nowhere'" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
