"""The clients generated from the committed openapi.json work against a running server.

`make test` generates both clients and type-checks the programs written on them
(scripts/check_python_client.sh, scripts/check_typescript_client.sh); these tests run those
programs (clients/python/program.py, clients/typescript/program.ts) against a real server:
uvicorn serving the app on a migrated database of their own, on a free port. Each program signs
in, lists two pages of provinces, reads one, creates an institution and reads it back, and reads
two problems (a 404 without field errors, a 422 with them); it exits 1 at the first answer that
is not the one expected. The TypeScript one is skipped without Node.js or npm's node_modules.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from app.core.config import PROJECT_ROOT
from app.db.session import create_engine, create_sessionmaker
from app.domains.accounts.schemas import UserCreate
from app.domains.accounts.service import create_user
from app.models.enums import Role
from tests.conftest import TEST_PASSWORD, TEST_SECRET, make_settings
from tests.fixtures.database import drop_database, migrate, seed, test_database_url

EMAIL = "sekretariat.klien@menpan.go.id"
TYPESCRIPT = PROJECT_ROOT / "clients" / "typescript"


@dataclass(frozen=True)
class Server:
    base_url: str
    email: str
    password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _add_user(url: URL) -> None:
    async def run() -> None:
        engine = create_engine(url, make_settings(url), null_pool=True)
        async with create_sessionmaker(engine)() as session, session.begin():
            data = UserCreate(
                email=EMAIL,
                name="Sekretariat Uji Klien",
                role=Role.secretariat_admin,
                password=TEST_PASSWORD,
            )
            await create_user(session, None, data)
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """uvicorn serving the app, as `inovasi serve` does, on a database of its own: the programs
    commit what they create, which the other tests' databases must not see."""
    url = test_database_url(f"inovasi_clients_{os.getpid()}")
    migrate(url)
    seed(url, make_settings(url))
    _add_user(url)
    port = _free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SECRET_KEY": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "console",
        "RATE_LIMIT_PER_MINUTE": "0",
        "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "0",
        "RATE_LIMIT_STORAGE": "memory",
    }
    log_path = tmp_path_factory.mktemp("server") / "uvicorn.log"
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app_factory", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base_url}/livez", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield Server(base_url, EMAIL, TEST_PASSWORD)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drop_database(url)


def _run(command: list[str], server: Server, cwd: Path, **env: str) -> str:
    result = subprocess.run(
        [*command, "--base-url", server.base_url, "--email", server.email],
        cwd=cwd,
        env={**os.environ, "INOVASI_PASSWORD": server.password, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return result.stdout


def _assert_walkthrough(stdout: str, server: Server) -> None:
    lines = stdout.splitlines()
    assert lines[0].startswith("signed in: a bearer token for ")
    assert lines[1] == "signed in as Sekretariat Uji Klien (secretariat_admin)"
    assert lines[2].startswith("listed provinces, two pages: ")
    assert len(lines[2].removeprefix("listed provinces, two pages: ").split(", ")) == 4
    assert lines[3].startswith("read region ")
    assert lines[4].startswith("created institution ")
    assert lines[5] == "problem: 404 institution.not_found"
    assert lines[6].startswith("problem: 422 validation_failed errors=[")
    assert '"/name"' in lines[6]
    assert lines[-1] == "OK"
    # The record the program created is there for anyone to read.
    created_id = lines[4].split()[2]
    response = httpx.get(f"{server.base_url}/v1/institutions/{created_id}", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["name"].startswith("Kementerian Uji Klien ")


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python client generated from openapi.json as scripts/check_python_client.sh does (its
    warnings are that script's to report)."""
    out = tmp_path_factory.mktemp("python-client") / "client"
    bin_dir = Path(sys.executable).parent
    generated = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate",
         "--path", "openapi.json",
         "--config", "clients/python/openapi-python-client.json",
         "--custom-template-path", "clients/python/templates",
         "--output-path", str(out), "--overwrite"],
        cwd=PROJECT_ROOT, env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert (out / "inovasi_client" / "__init__.py").is_file(), generated.stdout + generated.stderr
    subprocess.run(
        [sys.executable, "clients/python/allow_anonymous.py", "openapi.json", str(out)],
        cwd=PROJECT_ROOT, check=True, timeout=60,
    )  # fmt: skip
    return out


def test_python_client_program(server: Server, python_client: Path) -> None:
    stdout = _run(
        [sys.executable, str(PROJECT_ROOT / "clients" / "python" / "program.py")],
        server,
        PROJECT_ROOT,
        PYTHONPATH=str(python_client),
    )
    _assert_walkthrough(stdout, server)


@pytest.fixture(scope="module")
def typescript_program() -> Path:
    """clients/typescript/program.ts compiled (dist/program.js) against a client generated from
    openapi.json now. tsc's type errors are scripts/check_typescript_client.sh's to report; this
    only needs the JavaScript it emits."""
    npx = shutil.which("npx")
    if shutil.which("node") is None or npx is None:
        pytest.skip("Node.js not found: the TypeScript client program is not run")
    if not (TYPESCRIPT / "node_modules" / ".package-lock.json").is_file():
        pytest.skip("clients/typescript/node_modules missing (`make client-check` installs it)")
    subprocess.run(
        [npx, "--no", "--", "openapi-typescript", "../../openapi.json", "-o", "schema.d.ts"],
        cwd=TYPESCRIPT, capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    program = TYPESCRIPT / "dist" / "program.js"
    program.unlink(missing_ok=True)
    compiled = subprocess.run(
        [npx, "--no", "--", "tsc", "-p", "."],
        cwd=TYPESCRIPT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert program.is_file(), compiled.stdout + compiled.stderr
    return program


def test_typescript_client_program(server: Server, typescript_program: Path) -> None:
    node = shutil.which("node")
    assert node is not None
    stdout = _run([node, str(typescript_program)], server, TYPESCRIPT)
    _assert_walkthrough(stdout, server)


# --- the warning check ----------------------------------------------------------------------


def _document(*, duplicate_title: bool) -> dict[str, Any]:
    """A one-operation document; with `duplicate_title`, two components share a title, as the
    evaluation and maturity AnswerRead once did (the generator drops one, with a warning)."""
    answer = {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}},
    }
    other = {**answer, "title": "AnswerRead" if duplicate_title else "MaturityAnswerRead"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Inovasi", "version": "0.1.0"},
        "paths": {
            "/answers/{code}": {
                "get": {
                    "operationId": "get_answer",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The answer.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/MaturityAnswerRead"}
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "AnswerRead": {**answer, "title": "AnswerRead"},
                "MaturityAnswerRead": other,
            }
        },
    }


def _check_python_client(
    document: dict[str, Any], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document))
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [bash, str(PROJECT_ROOT / "scripts" / "check_python_client.sh")],
        env={
            **os.environ,
            "OPENAPI_DOCUMENT": str(path),
            "PYTHON_CLIENT_DIR": str(tmp_path / "client"),
            "PYTHON_CLIENT_PROGRAM": "0",
            "VENV_BIN": str(Path(sys.executable).parent),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_python_client_check_fails_on_a_generator_warning(tmp_path: Path) -> None:
    result = _check_python_client(_document(duplicate_title=True), tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED: openapi-python-client exited 1 with 2 warning(s):" in result.stdout
    assert "  - WARNING parsing GET /answers/{code} within default." in result.stdout
    assert "  - Unable to parse schema /components/schemas/MaturityAnswerRead" in result.stdout
    assert 'duplicate models with name "AnswerRead"' in result.stdout


def test_python_client_check_passes_a_document_without_warnings(tmp_path: Path) -> None:
    result = _check_python_client(_document(duplicate_title=False), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK (no generator warnings)" in result.stdout
    assert (tmp_path / "client" / "inovasi_client" / "api" / "default" / "get_answer.py").is_file()
