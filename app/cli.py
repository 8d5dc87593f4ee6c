"""The `inovasi` command: serve, migrate, seed, demo, sync-compact, worker, create-api-key,
create-user, backup, restore.

All subcommands read the same settings as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import PROJECT_ROOT, get_settings
from app.core.errors import AppError
from app.db.session import create_engine, create_sessionmaker
from app.db.url import ensure_database, resolve_database_url
from app.models.enums import Role


def _database_url() -> URL:
    settings = get_settings()
    return resolve_database_url(settings.database_url, settings.embedded_pg_dir)


@asynccontextmanager
async def _session() -> AsyncIterator[AsyncSession]:
    engine = create_engine(_database_url(), get_settings(), null_pool=True)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


def _alembic_config() -> object:
    from alembic.config import Config

    for candidate in (Path.cwd() / "alembic.ini", PROJECT_ROOT / "alembic.ini"):
        if candidate.exists():
            return Config(str(candidate))
    raise SystemExit("alembic.ini not found (run from the project folder)")


def cmd_migrate(_: argparse.Namespace) -> None:
    from alembic import command
    from alembic.config import Config

    url = _database_url()
    if get_settings().database_url is None:
        asyncio.run(ensure_database(url))
    config = _alembic_config()
    assert isinstance(config, Config)
    config.attributes["database_url"] = url.render_as_string(hide_password=False)
    command.upgrade(config, "head")
    print("database migrated to head", file=sys.stderr)


def cmd_seed(_: argparse.Namespace) -> None:
    from app.seed.regions import load_region_rows, upsert_regions

    async def run() -> int:
        async with _session() as session:
            return await upsert_regions(session, load_region_rows())

    print(f"regions: {asyncio.run(run())} loaded", file=sys.stderr)


def cmd_demo(_: argparse.Namespace) -> None:
    from app.core.config import Environment
    from app.seed.demo import load_demo

    if get_settings().environment is Environment.production:
        raise SystemExit("refused: demo data (with public demo passwords) is not for production")

    async def run() -> int:
        async with _session() as session:
            return await load_demo(session)

    print(f"demo data: {asyncio.run(run())} records added", file=sys.stderr)


def cmd_sync_compact(_: argparse.Namespace) -> None:
    from datetime import timedelta

    from app.core.idempotency import purge_expired
    from app.domains.sync.service import compact

    days = get_settings().sync_retention_days

    async def run() -> tuple[int, int]:
        async with _session() as session:
            return await compact(session, timedelta(days=days)), await purge_expired(session)

    changes, keys = asyncio.run(run())
    print(
        f"sync changes: {changes} older than {days} days compacted away; "
        f"{keys} expired idempotency keys forgotten",
        file=sys.stderr,
    )


def cmd_create_api_key(args: argparse.Namespace) -> None:
    from app.domains.accounts.schemas import ApiKeyCreate
    from app.domains.accounts.service import issue_api_key

    try:
        data = ApiKeyCreate(
            name=args.name or f"{args.role} key (CLI)",
            role=Role(args.role),
            institution_id=args.institution,
            unit_id=args.unit,
            hub_id=args.hub,
            expires_at=args.expires_at,
        )
    except ValidationError as exc:
        raise SystemExit(f"invalid key: {exc}") from exc

    async def run() -> str:
        async with _session() as session:
            return (await issue_api_key(session, None, data)).secret

    try:
        secret = asyncio.run(run())
    except AppError as exc:
        raise SystemExit(f"refused: {exc.code}: {exc.detail}") from exc
    print(secret)


def cmd_create_user(args: argparse.Namespace) -> None:
    import getpass

    from app.domains.accounts.schemas import UserCreate
    from app.domains.accounts.service import create_user

    password = os.environ.get("INOVASI_PASSWORD") or getpass.getpass("Password: ")
    try:
        data = UserCreate(
            email=args.email,
            name=args.name,
            role=args.role,
            institution_id=args.institution,
            unit_id=args.unit,
            hub_id=args.hub,
            password=password,
        )
    except ValidationError as exc:
        raise SystemExit(f"invalid account: {exc}") from exc

    async def run() -> uuid.UUID:
        async with _session() as session:
            return (await create_user(session, None, data)).id

    try:
        user_id = asyncio.run(run())
    except AppError as exc:
        raise SystemExit(f"refused: {exc.code}: {exc.detail}") from exc
    print(user_id)


def check_connection_budget(workers: int) -> None:
    """Refuse (SystemExit) when `workers` processes' pools cannot fit the server's connections
    (the primary's, and the read replica's when there is one)."""
    from app.db.budget import budget_refusals

    refusals = asyncio.run(budget_refusals(get_settings(), _database_url(), workers))
    if refusals:
        raise SystemExit("\n".join(refusals))


def cmd_backup(args: argparse.Namespace) -> None:
    from app.db.backup import BackupError, backup

    try:
        tool = backup(_database_url(), args.output, args.pg_bin_dir)
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from exc
    where = "stdout" if args.output == "-" else args.output
    print(f"backup written to {where} ({tool})", file=sys.stderr)


def cmd_restore(args: argparse.Namespace) -> None:
    import asyncpg

    from app.db.backup import BackupError, restore
    from app.db.url import to_async_url

    try:
        url = to_async_url(args.target_url) if args.target_url else _database_url()
    except ValueError as exc:
        raise SystemExit(f"restore failed: --target-url: {exc}") from exc
    # Create a missing target; a user who may not create databases (or read `postgres`) can
    # still restore into one that exists, and a target that is truly unreachable is reported
    # by the restore itself.
    with contextlib.suppress(OSError, asyncpg.PostgresError):
        asyncio.run(ensure_database(url))
    try:
        result = restore(url, args.input, clean=args.clean, pg_bin_dir=args.pg_bin_dir)
    except BackupError as exc:
        print(f"restore failed: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from exc
    print(
        f"restored {args.input} into {url.database!r} "
        f"(PostgreSQL {result.server_major}, {result.tool})",
        file=sys.stderr,
    )
    if result.xid_behind is not None:
        print(
            f"warning: this server's transaction ids are {result.xid_behind} behind the "
            "restored sync change log: GET /v1/sync/changes shows no new write until they catch up "
            "(README, Backups)",
            file=sys.stderr,
        )


def cmd_serve(args: argparse.Namespace) -> None:
    from app.serving import serve

    settings = get_settings()
    workers = settings.web_concurrency if args.workers is None else args.workers
    if workers < 1:
        raise SystemExit("--workers must be at least 1")
    # Checked in this (parent) process before any worker starts; each worker then builds its
    # own engines, pools and prepared statements and freezes its own heap in the lifespan.
    check_connection_budget(workers)
    serve(settings, args.host or settings.host, args.port or settings.port, workers)


def cmd_worker(_: argparse.Namespace) -> None:
    import signal

    import app.domains.jobs.builtin  # noqa: F401 - registers the service's job kinds
    from app.core.logging import configure_logging
    from app.db.url import to_async_url
    from app.domains.jobs.worker import Worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)

    async def run() -> None:
        # One job at a time: a few connections (the job, its heartbeat, LISTEN) are enough.
        engine = create_engine(
            _database_url(), settings.model_copy(update={"db_pool_size": 4, "db_max_overflow": 0})
        )
        listen_engine = None
        if settings.jobs_listen_url:  # PostgreSQL itself, past PgBouncer: one connection
            listen_engine = create_engine(
                to_async_url(settings.jobs_listen_url),
                settings.model_copy(update={"database_pgbouncer": False, "db_pool_size": 1}),
            )
        worker = Worker(engine, settings, listen_engine=listen_engine)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        try:
            await worker.run()
        finally:
            await engine.dispose()
            if listen_engine is not None:
                await listen_engine.dispose()

    asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inovasi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes to run, each with its own pools (default: WEB_CONCURRENCY, else 1)",
    )
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="load reference data (regions)").set_defaults(func=cmd_seed)
    sub.add_parser("demo", help="load demo data (idempotent)").set_defaults(func=cmd_demo)
    sub.add_parser(
        "sync-compact",
        help="drop sync changes older than SYNC_RETENTION_DAYS that a later one supersedes, "
        "and expired idempotency keys",
    ).set_defaults(func=cmd_sync_compact)
    sub.add_parser(
        "worker",
        help="run background jobs and schedules until SIGTERM (run several for more)",
    ).set_defaults(func=cmd_worker)
    key = sub.add_parser("create-api-key", help="issue an API key; prints only the key")
    key.add_argument("--role", required=True, choices=[r.value for r in Role])
    key.add_argument("--institution", type=uuid.UUID, default=None)
    key.add_argument("--unit", type=uuid.UUID, default=None)
    key.add_argument("--hub", type=uuid.UUID, default=None)
    key.add_argument("--name", default=None)
    key.add_argument("--expires-at", type=datetime.fromisoformat, default=None)
    key.set_defaults(func=cmd_create_api_key)
    user = sub.add_parser(
        "create-user",
        help="create a person's account; the password is read from INOVASI_PASSWORD or asked",
    )
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.add_argument(
        "--role", required=True, choices=[r.value for r in Role if r is not Role.regional_system]
    )
    user.add_argument("--institution", type=uuid.UUID, default=None)
    user.add_argument("--unit", type=uuid.UUID, default=None)
    user.add_argument("--hub", type=uuid.UUID, default=None)
    user.set_defaults(func=cmd_create_user)
    dump = sub.add_parser(
        "backup", help="dump the database (pg_dump --format=custom) to a file, or - for stdout"
    )
    dump.add_argument("--output", required=True, metavar="FILE")
    dump.add_argument("--pg-bin-dir", type=Path, default=None, help="folder of pg_dump to use")
    dump.set_defaults(func=cmd_backup)
    load = sub.add_parser(
        "restore",
        help="restore a backup into an empty database (created if missing); "
        "--clean replaces what it holds",
    )
    load.add_argument("--input", required=True, type=Path, metavar="FILE")
    load.add_argument(
        "--target-url", default=None, help="database to restore into (default: DATABASE_URL)"
    )
    load.add_argument("--clean", action="store_true", help="drop the archive's objects first")
    load.add_argument("--pg-bin-dir", type=Path, default=None, help="folder of pg_restore")
    load.set_defaults(func=cmd_restore)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except ValidationError as exc:
        raise SystemExit(f"invalid settings: {exc}") from exc
    func: Callable[[argparse.Namespace], Awaitable[None] | None] = args.func
    func(args)


if __name__ == "__main__":
    main()
