"""Hot reads (app/db/reads.py): compiled once, run on the pool's driver connections, with the
same errors as every other database access."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Float, Integer, bindparam, func, literal_column, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.errors import ServiceUnavailable
from app.db.reads import CompiledRead, ConnectionReader, PoolReader
from app.db.session import create_engine, create_key_read_engine
from app.main import create_app
from app.models.innovations import Innovation
from tests.conftest import make_settings

_SUM = CompiledRead(
    select(
        (bindparam("b", type_=Integer()) * 10 + bindparam("a", type_=Integer())).label("n"),
        literal_column("'x'").label("tag"),
    )
)


def test_a_compiled_read_knows_its_parameters_order() -> None:
    assert _SUM.names == ("b", "param_1", "a")  # the literal 10 is a parameter too
    assert _SUM.arguments({"a": 1, "b": 2}) == [2, 10, 1]
    assert "$3" in _SUM.sql
    with pytest.raises(KeyError):
        _SUM.arguments({"a": 1})


async def test_the_pool_reader_runs_a_read_and_returns_its_connection(database_url: URL) -> None:
    engine = create_engine(database_url, make_settings(database_url, db_pool_size=1))
    reader = PoolReader(engine)
    try:
        for a in range(3):  # one connection, used in turn: each read gives it back
            row = await reader.one(_SUM, a=a, b=4)
            assert row is not None
            assert (row["n"], row["tag"]) == (40 + a, "x")
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        missing = CompiledRead(
            select(Innovation.id).where(Innovation.id == bindparam("i", type_=Innovation.id.type))
        )
        assert await reader.one(missing, i=uuid.uuid4()) is None
    finally:
        await engine.dispose()


async def test_the_statement_timeout_is_a_503_database_timeout(database_url: URL) -> None:
    engine = create_engine(database_url, make_settings(database_url, db_statement_timeout_ms=50))
    slow = CompiledRead(select(func.pg_sleep(bindparam("s", type_=Integer()))))
    try:
        with pytest.raises(ServiceUnavailable) as raised:
            await PoolReader(engine).one(slow, s=1)
        assert raised.value.code == "database.timeout"
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_an_exhausted_pool_raises_the_pools_timeout(database_url: URL) -> None:
    """The service maps SQLAlchemy's pool timeout to a 503 `database.busy` (test_errors)."""
    settings = make_settings(database_url, db_pool_size=1, db_max_overflow=0)
    engine = create_engine(database_url, settings)
    engine.sync_engine.pool._timeout = 0.2  # type: ignore[attr-defined]
    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            with pytest.raises(PoolTimeout):
                await PoolReader(engine).one(_SUM, a=1, b=1)
        assert await PoolReader(engine).one(_SUM, a=1, b=1) is not None
    finally:
        await engine.dispose()


async def test_a_connection_reader_reads_inside_its_transaction(database_url: URL) -> None:
    engine = create_engine(database_url, make_settings(database_url))
    count = CompiledRead(
        select(func.count()).select_from(text("pg_temp.reads_probe")).where(text("true"))
    )
    try:
        async with engine.connect() as conn:
            await conn.begin()
            await conn.execute(text("CREATE TEMP TABLE reads_probe (n int) ON COMMIT DROP"))
            await conn.execute(text("INSERT INTO reads_probe VALUES (1), (2)"))
            row = await ConnectionReader(conn).one(count)
            assert row is not None
            assert row[0] == 2
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_a_lost_connection_on_a_hot_read_is_a_503_and_the_next_read_recovers(
    database_url: URL,
) -> None:
    """GET /v1/innovations/{id} runs on the driver: a connection the server closed still comes
    back as a 503 with Retry-After, leaves the pool, and the next request gets a fresh one."""
    app_settings = make_settings(database_url, db_pool_size=1, db_max_overflow=0)
    engine = create_engine(database_url, app_settings)
    app = create_app(app_settings, engine=engine)
    path = f"/v1/innovations/{uuid.uuid4()}"
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get(path)).status_code == 404
            async with engine.connect() as conn:
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            other = create_engine(database_url, app_settings, null_pool=True)
            async with other.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await other.dispose()
            await asyncio.sleep(0.1)
            lost = await client.get(path)
            body = lost.json()
            assert lost.status_code == 503, body
            assert body["code"] == "database.unavailable"
            assert lost.headers["retry-after"] == "1"
            assert (await client.get(path)).status_code == 404
    finally:
        await engine.dispose()


async def test_a_lost_connection_retires_every_pooled_connection_as_old_as_it(
    database_url: URL,
) -> None:
    """After a server restart every pooled connection is dead: the first read that meets one
    gets a 503, and the pool replaces the others before they are used (as SQLAlchemy does on a
    disconnect), so the next reads succeed."""
    app_settings = make_settings(database_url, db_pool_size=2, db_max_overflow=0)
    engine = create_engine(database_url, app_settings)
    app = create_app(app_settings, engine=engine)
    path = f"/v1/innovations/{uuid.uuid4()}"
    try:
        first, second = await engine.connect(), await engine.connect()  # two pooled connections
        pids = [
            (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            for conn in (first, second)
        ]
        await first.close()
        await second.close()
        other = create_engine(database_url, app_settings, null_pool=True)
        async with other.connect() as conn:
            for pid in pids:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await other.dispose()
        await asyncio.sleep(0.1)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get(path)).status_code == 503
            assert [(await client.get(path)).status_code for _ in range(3)] == [404, 404, 404]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("pooling", ["null_pool", "overflow"])
async def test_a_connection_the_pool_does_not_keep_is_closed_after_a_read(
    database_url: URL, pooling: str
) -> None:
    """Closing awaits the driver (from a greenlet): nothing may be left open.

    Overflow: the pool keeps one connection; the read runs on a second one while the first is
    busy, and the first goes back to the pool during the read, so the read's must be closed."""
    name = f"inovasi-reads-{pooling}"
    args = {"server_settings": {"application_name": name}}
    if pooling == "null_pool":
        engine = create_async_engine(database_url, poolclass=NullPool, connect_args=args)
    else:
        engine = create_async_engine(database_url, pool_size=1, max_overflow=1, connect_args=args)
    probe = create_engine(database_url, make_settings(database_url), null_pool=True)
    slow = CompiledRead(select(func.pg_sleep(bindparam("s", type_=Float())).label("slept")))

    async def open_backends() -> int:
        async with probe.connect() as conn:
            query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n")
            return int((await conn.execute(query, {"n": name})).scalar_one())

    try:
        held = await engine.connect()
        await held.execute(text("SELECT 1"))
        read = asyncio.create_task(PoolReader(engine).one(slow, s=0.5))
        await asyncio.sleep(0.2)
        await held.close()  # back to the pool (overflow: it fills the pool's one place)
        assert await read is not None
        expected = 0 if pooling == "null_pool" else 1
        for _ in range(50):  # the server notices a closed connection shortly after
            if await open_backends() == expected:
                break
            await asyncio.sleep(0.05)
        assert await open_backends() == expected
    finally:
        await engine.dispose()
        await probe.dispose()


async def test_reads_by_key_keep_cached_plans_and_the_main_pool_plans_each_execution(
    database_url: URL,
) -> None:
    """Searches need a plan for their parameters; reads by key are best with the cached one."""
    settings = make_settings(database_url, db_read_pool_size=1)
    main = create_engine(database_url, settings)
    by_key = create_key_read_engine(database_url, settings)
    mode = CompiledRead(select(func.current_setting(literal_column("'plan_cache_mode'"))))
    try:
        async with main.connect() as conn:
            assert await ConnectionReader(conn).one(mode) == ("force_custom_plan",)
        row = await PoolReader(by_key).one(mode)
        assert row is not None
        assert row[0] == "auto"
        assert by_key.sync_engine.pool.size() == 1  # type: ignore[attr-defined]
    finally:
        await main.dispose()
        await by_key.dispose()


async def test_a_started_service_reads_by_key_on_its_own_pool(database_url: URL) -> None:
    settings = make_settings(database_url)
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            assert app.state.reader.engine is not app.state.engine
            assert app.state.reader.engine.sync_engine.pool.size() == settings.db_read_pool_size
    finally:
        gc.unfreeze()  # the started service froze this test process's objects


async def test_a_started_service_freezes_what_it_built_at_startup(database_url: URL) -> None:
    """Its modules, routes and schemas leave the garbage collector's generations."""
    app = create_app(make_settings(database_url))
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


async def test_a_pooled_connection_left_in_the_middle_of_an_operation_is_a_503_and_leaves_the_pool(
    database_url: URL,
) -> None:
    """asyncpg refuses a connection whose protocol is still busy ("another operation is in
    progress", "cannot switch to state"): the read is a 503, the connection is dropped, and the
    next read gets a fresh one."""
    engine = create_engine(database_url, make_settings(database_url, db_pool_size=1))
    reader = PoolReader(engine)
    try:
        fairy = await engine.raw_connection()
        busy = asyncio.create_task(fairy.driver_connection.fetchval("SELECT pg_sleep(0.5)"))
        await asyncio.sleep(0.05)
        fairy.close()  # back in the pool mid-operation
        with pytest.raises(ServiceUnavailable) as raised:
            await reader.one(_SUM, a=1, b=1)
        assert raised.value.code == "database.unavailable"
        with contextlib.suppress(Exception):
            await busy
        row = await reader.one(_SUM, a=1, b=1)
        assert row is not None
        assert row["n"] == 11
    finally:
        await engine.dispose()


async def test_a_database_that_refuses_connections_is_a_503_on_a_hot_read(
    database_url: URL,
) -> None:
    """Nothing listens on the port (a database stopped): the driver's refusal, which
    SQLAlchemy does not wrap on a raw connection, is a 503 `database.unavailable`."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = database_url.set(host="127.0.0.1", port=port, query={})
    engine = create_engine(url, make_settings(url))
    try:
        with pytest.raises(ServiceUnavailable) as raised:
            await PoolReader(engine).one(_SUM, a=1, b=1)
        assert raised.value.code == "database.unavailable"
        assert raised.value.headers["Retry-After"] == "1"
    finally:
        await engine.dispose()


async def test_a_missing_unix_socket_is_a_503_on_a_hot_read(
    database_url: URL, tmp_path: Path
) -> None:
    """A socket directory where no server runs: asyncpg's FileNotFoundError is a 503 too."""
    url = database_url.set(host=None, port=None, query={"host": str(tmp_path)})
    engine = create_engine(url, make_settings(url))
    try:
        with pytest.raises(ServiceUnavailable) as raised:
            await PoolReader(engine).one(_SUM, a=1, b=1)
        assert raised.value.code == "database.unavailable"
    finally:
        await engine.dispose()


async def test_a_database_that_never_answers_is_a_503_after_the_connect_timeout(
    database_url: URL,
) -> None:
    """A server that takes the TCP connection and never answers (a hung host, a black-holed
    route): the connection attempt gives up after DB_CONNECT_TIMEOUT_SECONDS (asyncpg's own
    default is a minute) and the read is a 503, not a request left hanging."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes the handshake; nobody ever reads or writes
        url = database_url.set(host="127.0.0.1", port=silent.getsockname()[1], query={})
        engine = create_engine(url, make_settings(url, db_connect_timeout_seconds=0.3))
        try:
            with pytest.raises(ServiceUnavailable) as raised:
                # Far longer than the setting, far shorter than asyncpg's default.
                await asyncio.wait_for(PoolReader(engine).one(_SUM, a=1, b=1), timeout=20)
            assert raised.value.code == "database.unavailable"
        finally:
            await engine.dispose()
