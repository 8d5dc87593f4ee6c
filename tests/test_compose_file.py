"""docker-compose.yml, the proxy's template and .env.example read as files: what the stack
promises (README "Deploying with Docker Compose") without starting it. The stack itself runs in
scripts/compose_smoke.sh (minutes, needs podman or docker). PyYAML is there through
uvicorn[standard]."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.config import PROJECT_ROOT, Settings

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
README = PROJECT_ROOT / "README.md"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"

# README settings that the compose file does not pass on purpose: the image sets where the
# server listens, the embedded PostgreSQL is never used in a container, and DATABASE_URL is
# built from POSTGRES_* (checked below).
NOT_FROM_COMPOSE = {"EMBEDDED_PG_DIR", "HOST", "PORT", "TEST_DATABASE_URL", "DATABASE_URL"}

_INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::?[-?]([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def environment(compose: dict[str, Any]) -> dict[str, str]:
    return compose["x-inovasi-environment"]  # type: ignore[no-any-return]


def _mounts(services: dict[str, dict[str, Any]]) -> dict[str, Path]:
    """The proxy's bind mounts: the path inside the container -> the file in the repository."""
    mounts = {}
    for volume in services["proxy"]["volumes"]:
        source, target, *_ = volume.split(":")
        mounts[target] = PROJECT_ROOT / source
    return mounts


@pytest.fixture(scope="module")
def proxy_template(services: dict[str, dict[str, Any]]) -> str:
    """The proxy's templates (default.conf and the part its server includes), as one text."""
    templates = {
        target: source
        for target, source in _mounts(services).items()
        if target.startswith("/etc/nginx/templates/") and target.endswith(".template")
    }
    assert len(templates) == 2, templates
    default = templates.pop("/etc/nginx/templates/default.conf.template").read_text()
    ((target, source),) = templates.items()
    rendered = "/etc/nginx/conf.d/" + Path(target).name.removesuffix(".template")
    assert f"include {rendered};" in default
    assert not rendered.endswith(".conf")  # else nginx would read it in the http block too
    return default + source.read_text()


def _default(value: str, name: str) -> str:
    """The default of `${NAME:-default}` in a compose value."""
    match = re.fullmatch(r"\$\{" + name + r":-([^}]*)\}", value)
    assert match, f"{value!r} is not ${{{name}:-default}}"
    return match.group(1)


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", duration)
    assert match, duration
    return int(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[match.group(2)]


def readme_settings() -> set[str]:
    """The variables of the README's configuration table."""
    text = README.read_text()
    section = text[text.index("## Configuration") :]
    section = section[: section.index("\n### ")]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_readme_table_is_read() -> None:
    names = readme_settings()
    assert {"SECRET_KEY", "SYNC_MAX_BODY_BYTES", "FORWARDED_ALLOW_IPS", "METRICS_TOKEN"} <= names


def test_every_readme_setting_reaches_the_containers(environment: dict[str, str]) -> None:
    missing = readme_settings() - NOT_FROM_COMPOSE - environment.keys()
    assert not missing, f"README settings not passed by x-inovasi-environment: {sorted(missing)}"
    for name, value in environment.items():
        # DATABASE_URL points at the db service; DOCUMENTS_DIR is where the files volume is
        # mounted: both fixed by the compose file itself.
        if name not in ("DATABASE_URL", "DOCUMENTS_DIR"):
            assert re.fullmatch(r"\$\{" + name + r":[-?][^}]*\}", str(value)), (name, value)
    assert "@db:5432/" in environment["DATABASE_URL"]
    assert environment["DOCUMENTS_DIR"] == "/srv/inovasi/files"


def test_the_services_that_run_the_image_get_the_settings(
    services: dict[str, dict[str, Any]], environment: dict[str, str]
) -> None:
    for name in ("migrate", "api", "worker"):
        assert services[name]["environment"] == environment, name


def test_only_the_proxy_publishes_a_port(services: dict[str, dict[str, Any]]) -> None:
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert services["proxy"]["ports"] == ["${HTTP_PORT:-8000}:80"]
    assert "container_name" not in services["api"]  # a fixed name cannot be scaled


def test_the_proxy_is_the_official_image_and_renders_the_repo_template(
    services: dict[str, dict[str, Any]], proxy_template: str
) -> None:
    proxy = services["proxy"]
    assert _default(proxy["image"], "NGINX_IMAGE").startswith("nginx:")
    env = proxy["environment"]
    assert env["PROXY_UPSTREAM"] == "http://api:8000"
    assert env["NGINX_ENTRYPOINT_LOCAL_RESOLVERS"]
    # Every ${VAR} of the template is one envsubst replaces (the filter) and that is set: the
    # compose file's, or the resolvers the image's entrypoint finds.
    used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", proxy_template))
    assert used
    assert all(re.match(env["NGINX_ENVSUBST_FILTER"], name) for name in used), used
    assert used - env.keys() == {"NGINX_LOCAL_RESOLVERS"}
    assert "resolver ${NGINX_LOCAL_RESOLVERS} valid=10s" in proxy_template
    # A variable in proxy_pass: nginx resolves `api` at run time and finds new replicas.
    assert re.search(r"set \$(\w+) \$\{PROXY_UPSTREAM\};\s+proxy_pass \$\1;", proxy_template)


def test_the_proxy_forwards_the_client_it_saw(proxy_template: str) -> None:
    # Overwritten with the connection's address (not $proxy_add_x_forwarded_for, which keeps a
    # client's forged list and that uvicorn, trusting `*`, would read from its left).
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in proxy_template
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in proxy_template
    assert "$proxy_add_x_forwarded_for" not in proxy_template


def test_the_proxy_body_limit_is_the_services(
    services: dict[str, dict[str, Any]], environment: dict[str, str], proxy_template: str
) -> None:
    assert "client_max_body_size ${PROXY_MAX_BODY_BYTES};" in proxy_template
    limit = services["proxy"]["environment"]["PROXY_MAX_BODY_BYTES"]
    assert limit == environment["SYNC_MAX_BODY_BYTES"]
    defaults = Settings.model_fields
    assert int(_default(limit, "SYNC_MAX_BODY_BYTES")) == defaults["sync_max_body_bytes"].default
    # The larger of the two limits: the API answers 413 itself under it.
    assert defaults["sync_max_body_bytes"].default >= defaults["max_body_bytes"].default
    assert int(_default(environment["MAX_BODY_BYTES"], "MAX_BODY_BYTES")) <= int(
        _default(limit, "SYNC_MAX_BODY_BYTES")
    )


def test_the_proxy_waits_longer_than_the_service_takes(
    services: dict[str, dict[str, Any]], environment: dict[str, str], proxy_template: str
) -> None:
    assert "proxy_read_timeout ${PROXY_READ_TIMEOUT}s;" in proxy_template
    read_timeout = int(
        _default(services["proxy"]["environment"]["PROXY_READ_TIMEOUT"], "PROXY_READ_TIMEOUT")
    )
    statement_timeout = int(
        _default(environment["DB_STATEMENT_TIMEOUT_MS"], "DB_STATEMENT_TIMEOUT_MS")
    )
    pool_wait = 30  # SQLAlchemy's pool_timeout, then 503 database.busy
    assert read_timeout > pool_wait + statement_timeout / 1000


def test_stop_grace_periods(
    services: dict[str, dict[str, Any]], environment: dict[str, str]
) -> None:
    for name in ("api", "worker", "proxy"):
        assert "stop_grace_period" in services[name], name
    jobs_grace = float(
        _default(environment["JOBS_SHUTDOWN_GRACE_SECONDS"], "JOBS_SHUTDOWN_GRACE_SECONDS")
    )
    assert _seconds(services["worker"]["stop_grace_period"]) > jobs_grace
    statement_timeout = int(
        _default(environment["DB_STATEMENT_TIMEOUT_MS"], "DB_STATEMENT_TIMEOUT_MS")
    )
    assert _seconds(services["api"]["stop_grace_period"]) > statement_timeout / 1000


def test_forwarded_allow_ips_trusts_the_proxy(environment: dict[str, str]) -> None:
    # The api publishes no port (test above), so `*` means: the containers of this project.
    assert _default(environment["FORWARDED_ALLOW_IPS"], "FORWARDED_ALLOW_IPS") == "*"


def test_env_example_names_every_compose_variable() -> None:
    example = ENV_EXAMPLE.read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    compose_files = COMPOSE.read_text() + (PROJECT_ROOT / "deploy" / "compose.tls.yml").read_text()
    used = {match.group(1) for match in _INTERPOLATION.finditer(compose_files)}
    assert used, "no ${VAR} found in docker-compose.yml"
    assert not used - listed, f"not in .env.example: {sorted(used - listed)}"


def test_env_example_agrees_with_the_compose_defaults(environment: dict[str, str]) -> None:
    example = dict(
        re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)
    )
    for name in ("SYNC_MAX_BODY_BYTES", "MAX_BODY_BYTES", "FORWARDED_ALLOW_IPS", "WEB_CONCURRENCY"):
        assert example[name] == _default(environment[name], name), name
    assert example["HTTP_PORT"] == "8000"
    assert "METRICS_TOKEN" in example
    assert example["METRICS_TOKEN"] == ""


def test_the_tls_override_includes_the_same_proxying() -> None:
    override = yaml.safe_load((PROJECT_ROOT / "deploy" / "compose.tls.yml").read_text())
    proxy = override["services"]["proxy"]
    assert proxy["ports"] == ["${HTTPS_PORT:-443}:443"]
    (template,) = [v.split(":")[0] for v in proxy["volumes"] if v.endswith(".template:ro")]
    tls = (PROJECT_ROOT / template).read_text()
    assert "listen 443 ssl;" in tls
    assert "include /etc/nginx/conf.d/inovasi-proxy.inc;" in tls


def test_the_proxy_mounts_files_of_the_repo(services: dict[str, dict[str, Any]]) -> None:
    mounts = _mounts(services)
    assert all(source.is_file() for source in mounts.values()), mounts
    # The entrypoint sources an .envsh only when it is executable, and before the templates.
    (envsh,) = [target for target in mounts if target.startswith("/docker-entrypoint.d/")]
    assert mounts[envsh].stat().st_mode & 0o111
    assert "15-local-resolvers" < Path(envsh).name < "20-envsubst-on-templates"
