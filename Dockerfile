# Inovasi API image.
#
#   docker build -t inovasi:latest .
#   docker build --build-arg PYTHON_IMAGE=mirror.example/python:3.11-slim \
#                --build-arg PYTHON_INDEX_URL=https://mirror.example/pypi/simple .
#
# A data centre without access to public registries builds from mirrors: PYTHON_IMAGE names the
# base image (both stages use it, so only one image has to be mirrored) and PYTHON_INDEX_URL, if
# set, the package index that pip installs from.
#
# Size (README "Deploying with Docker Compose"): the runtime stage is the base image plus one
# virtual environment holding the service and its production dependencies, without pip,
# setuptools, wheel, build tools, the packages' tests, type stubs, C sources or debug symbols,
# with bytecode for the modules a process imports at start.
ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# builder: a virtual environment with the service and its production dependencies only
# (no `embedded`, `otel` or `dev` extras: the container always talks to a real PostgreSQL).
FROM ${PYTHON_IMAGE} AS builder

ARG PYTHON_INDEX_URL=""

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

WORKDIR /build
# Only what `pip install .` needs, so editing tests or docs does not invalidate this layer.
COPY pyproject.toml README.md ./
COPY app/ ./app/
# Wheels only for the dependencies (each has a manylinux wheel: no compiler is needed, and none
# is installed); the service itself is built from this source. Then pip, setuptools and wheel
# leave the venv, and so does what no process reads: tests, type stubs, C and Cython sources.
RUN pip install --no-compile --only-binary=:all: --no-binary=inovasi \
        ${PYTHON_INDEX_URL:+--index-url "$PYTHON_INDEX_URL"} . \
    && pip uninstall --yes --quiet pip setuptools wheel \
    && site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
    && find "$site" -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} + \
    && find "$site" -type f \( -name '*.pyi' -o -name '*.pyx' -o -name '*.pxd' -o -name '*.c' \
         -o -name '*.h' -o -name '*.cpp' \) -delete \
    && rm -f /opt/venv/bin/activate* /opt/venv/bin/Activate.ps1
# The wheels' extension modules carry their debug symbols (uvloop's is 13.6 MB, 1.6 MB
# stripped): strip them with binutils, installed in this stage only (skipped, with a warning,
# where the base image's package mirror cannot be reached).
RUN site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
    && if command -v strip >/dev/null || { apt-get update -qq \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
              binutils >/dev/null; }; then \
         find "$site" -name '*.so*' -type f -exec strip --strip-unneeded {} +; \
       else echo "warning: no strip, extension modules kept with their symbols" >&2; fi
# Bytecode for what a process imports at start (deploy/image/compile_startup.py).
COPY deploy/image/compile_startup.py /tmp/
RUN python /tmp/compile_startup.py

# ---------------------------------------------------------------------------------------------
# runtime: the venv, the migrations and nothing else, run as an unprivileged user.
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:${PATH}" \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=1 \
    ENVIRONMENT=production

RUN groupadd --system --gid 10001 inovasi \
    && useradd --system --uid 10001 --gid inovasi --home-dir /srv/inovasi --no-create-home \
       --shell /usr/sbin/nologin inovasi

COPY --from=builder /opt/venv /opt/venv

# `inovasi migrate` reads ./alembic.ini first, so the working directory holds it and alembic/.
WORKDIR /srv/inovasi
COPY alembic.ini ./
COPY alembic/ ./alembic/
# Documents' bytes (DOCUMENTS_DIR; compose mounts the `files` volume here): a new volume takes
# this folder's owner, so the unprivileged user can write to it.
RUN mkdir -p /srv/inovasi/files && chown 10001:10001 /srv/inovasi/files

USER 10001:10001

EXPOSE 8000

# /livez needs no database; readiness (/readyz) is for the orchestrator to probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('PORT', '8000'), timeout=4)"]

# WEB_CONCURRENCY worker processes (compose sets 2), after the connection budget check.
CMD ["inovasi", "serve"]
