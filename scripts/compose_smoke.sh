#!/usr/bin/env bash
# Smoke test of docker-compose.yml, run for real: builds the API image, brings the stack up with
# two api replicas behind the proxy, and checks what an operator relies on:
#
#   1. every api replica healthy (its HEALTHCHECK on /livez) and GET /readyz 200 through the proxy
#   2. a secretariat key minted with `run --rm -T migrate inovasi create-api-key`, a write with it
#   3. both api replicas answered requests sent to the proxy (their access logs)
#   4. the api logs as `client` the address the proxy saw, not the proxy's own nor an
#      X-Forwarded-For the client forged
#   5. TLS at the proxy (deploy/compose.tls.yml, a self-signed certificate made here): /readyz
#      over https, proxied as https (X-Forwarded-Proto is the proxy's $scheme)
#   6. nginx's own refusals are problem+json: a body over SYNC_MAX_BODY_BYTES (413), and no
#      replica running (503 with Retry-After)
#   7. data kept across `down` and `up` (the pgdata volume)
#
# then tears the stack down with its volume (also on failure). Takes 3-8 minutes; not part of
# `make test`. Uses `docker compose` when a Docker engine answers, else podman-compose (see
# ../shared/CONTAINERS.md for podman on these machines). Without access to Docker Hub, run it
# with SMOKE_STANDINS=1 to build local stand-ins for the base images first
# (scripts/container_standins.sh).
#
#   scripts/compose_smoke.sh                      # official images (pulled or mirrored)
#   SMOKE_STANDINS=1 scripts/compose_smoke.sh     # this machine
#
# Variables: SMOKE_HTTP_PORT (18080), SMOKE_HTTPS_PORT (18443), SMOKE_WEB_CONCURRENCY (2),
# SMOKE_PROJECT (inovasi-smoke), SMOKE_KEEP=1 (leave the stack running for a look; `down -v`
# it yourself).
set -euo pipefail

cd "$(dirname "$0")/.."

project="${SMOKE_PROJECT:-inovasi-smoke}"
port="${SMOKE_HTTP_PORT:-18080}"
tls_port="${SMOKE_HTTPS_PORT:-18443}"
base="http://127.0.0.1:${port}"
files=(-f docker-compose.yml -f deploy/compose.tls.yml)
started=$(date +%s)
build_log="${TMPDIR:-/tmp}/$project-build.log"
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
fail() {
    echo "FAIL: $*" >&2
    if [ -n "${engine:-}" ]; then # what the api replicas said last
        for id in $(containers api -a 2>/dev/null); do
            echo "--- api ${id:0:12}: $("$engine" inspect -f '{{.State.Status}}' "$id")" >&2
            "$engine" logs --tail 5 "$id" 2>&1 | grep -v systemd >&2 || true
        done
    fi
    exit 1
}

# --- the tools ---------------------------------------------------------------------------
if docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    engine=docker
    compose=(docker compose -p "$project" "${files[@]}")
elif command -v podman >/dev/null && command -v podman-compose >/dev/null; then
    engine=podman
    # runc and bounded ulimits for every container podman starts here (CONTAINERS.md), build
    # steps included; the docker image format keeps the HEALTHCHECK.
    conf="$(mktemp)"
    cat >"$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
    export CONTAINERS_CONF="$conf" BUILDAH_FORMAT=docker
    compose=(podman-compose -p "$project" "${files[@]}")
else
    fail "neither a running Docker engine with 'docker compose' nor podman with podman-compose"
fi
echo "engine: $engine, compose: ${compose[*]}"

if [ "${SMOKE_STANDINS:-}" = 1 ]; then
    [ "$engine" = podman ] || fail "SMOKE_STANDINS=1 needs podman"
    eval "$(scripts/container_standins.sh)"
fi

# --- the stack's settings: a throw-away secret and password, pools sized for 2 replicas -----
export COMPOSE_PROJECT_NAME="$project"
export INOVASI_IMAGE="${INOVASI_IMAGE:-localhost/inovasi:smoke}"
export HTTP_PORT="$port" HTTPS_PORT="$tls_port"
TLS_CERT_DIR="$(mktemp -d)"
export TLS_CERT_DIR
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$TLS_CERT_DIR/privkey.pem" -out "$TLS_CERT_DIR/fullchain.pem" 2>/dev/null
chmod 644 "$TLS_CERT_DIR"/*.pem # read by nginx inside the container
SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
POSTGRES_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export SECRET_KEY POSTGRES_PASSWORD
# 2 replicas x WEB_CONCURRENCY 2 x (10 + 5) = 60 connections, a worker's 4, the migrate step's:
# within PostgreSQL's default 100 (README, connection budget).
# SMOKE_WEB_CONCURRENCY=1 runs one process per replica: uvicorn's supervisor kills a worker
# process that does not answer its 5 s health ping, which on a host loaded far past its cores
# happens before the worker has even imported the app, and again for each new one.
export WEB_CONCURRENCY="${SMOKE_WEB_CONCURRENCY:-2}" DB_POOL_SIZE=10 DB_READ_POOL_SIZE=5

down() { # down [-v]: the project's containers (all replicas) and network, and its volume with -v
    "${compose[@]}" down "$@" >/dev/null 2>&1 || true
    # podman-compose's down removes only the replicas the compose file names (api_1): the rest
    # of a --scale go by the project's label.
    local left
    left=$(containers '' -a)
    [ -z "$left" ] || "$engine" rm -f $left >/dev/null
    "$engine" network rm "${project}_default" >/dev/null 2>&1 || true
    if [ "${1:-}" = -v ]; then
        "$engine" volume rm -f "${project}_pgdata" >/dev/null 2>&1 || true
    fi
}

cleanup() {
    status=$?
    if [ "${SMOKE_KEEP:-}" = 1 ]; then
        echo "SMOKE_KEEP=1: the stack is still up (${compose[*]} down -v)"
    else
        step "tear down"
        down -v
    fi
    [ -n "${conf:-}" ] && rm -f "$conf"
    rm -rf "$TLS_CERT_DIR"
    if [ "$status" = 0 ]; then echo "compose smoke: OK in $(($(date +%s) - started)) s"; fi
    exit "$status"
}
trap cleanup EXIT

containers() { # the running containers of one service ('': of every service; -a: stopped too)
    "$engine" ps -q ${2:+"$2"} --filter "label=com.docker.compose.project=$project" \
        ${1:+--filter "label=com.docker.compose.service=$1"}
}

healthy() { # run (podman) or read (docker) a container's health check
    if [ "$engine" = podman ]; then
        podman healthcheck run "$1" >/dev/null 2>&1
    else
        [ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = healthy ]
    fi
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local deadline=$(($(date +%s) + $1)) what="$2"
    shift 2
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for $what"
        sleep 2
    done
}

db_ready() { "${compose[@]}" exec -T db pg_isready -q -U "${POSTGRES_USER:-inovasi}" >/dev/null 2>&1; }
replicas_healthy() {
    local ids n=0
    ids=$(containers api)
    for id in $ids; do
        healthy "$id" || return 1
        n=$((n + 1))
    done
    [ "$n" -eq 2 ]
}
readyz() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; }

bring_up() {
    # podman 4.3 ignores `condition: service_healthy` and trips over the dependency graph of a
    # one-shot that has exited ("depends on container ... not found in input list"): there,
    # start the database, wait for it, run migrate to its end, then the rest without deps.
    "${compose[@]}" up -d db >/dev/null
    wait_for 180 "the database" db_ready
    if [ "$engine" = podman ]; then
        "${compose[@]}" up -d --no-deps migrate >/dev/null
        local code
        code=$(podman wait "$(containers migrate -a | head -n 1)")
        [ "$code" = 0 ] || fail "migrate exited with $code"
        "${compose[@]}" up -d --no-deps --scale api=2 api worker proxy >/dev/null
    else
        "${compose[@]}" up -d --scale api=2 >/dev/null
    fi
    wait_for 300 "two healthy api replicas" replicas_healthy
    wait_for 60 "GET /readyz 200 through the proxy" readyz
}

# --- 0. build ------------------------------------------------------------------------------
step "build the API image ($INOVASI_IMAGE)"
down -v
"${compose[@]}" build api >"$build_log" 2>&1 || { tail -n 40 "$build_log" >&2; fail "the build"; }
"$engine" image inspect "$INOVASI_IMAGE" --format '{{.Size}}' |
    awk '{printf "image size: %.0f MB\n", $1 / 1000000}'

# --- 1. up, healthy, ready -----------------------------------------------------------------
step "up with --scale api=2"
bring_up
"${compose[@]}" ps
echo "readyz through the proxy: $(curl -s "$base/readyz")"

# --- 2. a key and a write --------------------------------------------------------------------
step "mint a key with run --rm -T migrate, write with it"
key="$("${compose[@]}" run --rm -T migrate inovasi create-api-key --role secretariat_admin \
    --name compose-smoke 2>/dev/null | tail -n 1 | tr -d '\r')"
[ -n "$key" ] || fail "create-api-key printed no key"
name="Kementerian Uji Compose $(date +%s)"
created="$(curl -sS -f -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d "{\"name\": \"$name\", \"kind\": \"kementerian\"}" "$base/v1/institutions")" ||
    fail "POST /v1/institutions through the proxy"
institution_id="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' <<<"$created")"
echo "created institution $institution_id"

# --- 3. both replicas answer -----------------------------------------------------------------
step "40 requests through the proxy: both replicas answer"
sleep 11 # past the proxy's DNS cache (valid=10s), so both replicas' addresses are known
for i in $(seq 1 40); do
    curl -sS -o /dev/null -f -H "X-Request-ID: smoke-spread-$i" "$base/v1/regions?limit=1" ||
        fail "GET /v1/regions #$i"
done
served=()
for id in $(containers api); do
    n=$("$engine" logs "$id" 2>&1 | grep -c '"request_id": *"smoke-spread-' || true)
    echo "replica ${id:0:12}: $n of 40 requests"
    served+=("$n")
done
[ "${#served[@]}" -eq 2 ] || fail "expected 2 api replicas, found ${#served[@]}"
[ "${served[0]}" -gt 0 ] && [ "${served[1]}" -gt 0 ] || fail "one replica served nothing"
[ $((served[0] + served[1])) -eq 40 ] || fail "the replicas logged $((served[0] + served[1])) of 40"

# --- 4. X-Forwarded-For ------------------------------------------------------------------------
step "the api logs the client the proxy saw"
curl -sS -o /dev/null -f -H 'X-Request-ID: smoke-xff' -H 'X-Forwarded-For: 203.0.113.7' \
    "$base/v1/regions?limit=1"
proxy_id="$(containers proxy | head -n 1)"
proxy_line="$("$engine" logs "$proxy_id" 2>/dev/null | grep '"request_id":"smoke-xff"' | tail -n 1)"
api_line="$(for id in $(containers api); do "$engine" logs "$id" 2>&1; done |
    grep '"request_id": *"smoke-xff"' | tail -n 1)"
[ -n "$proxy_line" ] || fail "no proxy log line for smoke-xff"
[ -n "$api_line" ] || fail "no api access line for smoke-xff"
seen="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["client"])' "$proxy_line")"
logged="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["client"])' "$api_line")"
proxy_ip="$("$engine" inspect "$proxy_id" \
    --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}')"
echo "proxy saw $seen; api logged client $logged; proxy's own address: $proxy_ip"
[ "$logged" = "$seen" ] || fail "the api logged $logged, the proxy saw $seen"
[ "$logged" != 203.0.113.7 ] || fail "a forged X-Forwarded-For reached the api's log"
case " $proxy_ip " in *" $logged "*) fail "the api logged the proxy's address" ;; esac

# --- 5. TLS ----------------------------------------------------------------------------------------
step "TLS at the proxy"
tls_status="$(curl -sk -o /dev/null -w '%{http_code} %{ssl_verify_result}' "https://127.0.0.1:$tls_port/readyz")"
echo "GET https://127.0.0.1:$tls_port/readyz: $tls_status (self-signed: verify result non-zero)"
[ "${tls_status%% *}" = 200 ] || fail "readyz over TLS: $tls_status"
curl -sk -o /dev/null -H 'X-Request-ID: smoke-tls' "https://127.0.0.1:$tls_port/v1/regions?limit=1"
tls_line="$("$engine" logs "$(containers proxy | head -n 1)" 2>/dev/null | grep '"request_id":"smoke-tls"' | tail -n 1)"
echo "proxy: $tls_line"
grep -q '"scheme":"https"' <<<"$tls_line" || fail "the proxy did not log the request as https"

# --- 6. nginx's refusals -----------------------------------------------------------------------
step "nginx's own refusals are problem+json"
big="$(mktemp)"
head -c $((16 * 1048576 + 1)) /dev/zero >"$big"
too_large="$(curl -s -o /dev/stdout -w ' %{http_code} %{content_type}' -H 'Content-Type: application/json' \
    --data-binary "@$big" "$base/v1/sync/innovations/batch" || true)"
rm -f "$big"
echo "17 MB body: ${too_large: -40}"
case "$too_large" in *'"code":"request.too_large"'*' 413 application/problem+json') ;;
*) fail "an over-limit body: $too_large" ;; esac
for id in $(containers api); do "$engine" stop -t 30 "$id" >/dev/null; done
unavailable="$(curl -s -D - "$base/v1/regions?limit=1" || true)"
echo "$unavailable" | head -n 1
grep -q '^HTTP/1.1 503' <<<"$unavailable" || fail "no replica running: $unavailable"
grep -qi '^Retry-After: 1' <<<"$unavailable" || fail "no Retry-After on the proxy's 503"
grep -q '"code":"service.unavailable"' <<<"$unavailable" || fail "the proxy's 503 body"

# --- 7. down and up: the data stays -------------------------------------------------------------
step "down, up again: the institution and the key are still there"
down
[ -z "$(containers '' -a)" ] || fail "containers left after down"
bring_up
status="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" \
    "$base/v1/institutions/$institution_id")"
echo "GET /v1/institutions/$institution_id after down/up: $status"
[ "$status" = 200 ] || fail "the institution is gone after down/up ($status)"
