#!/usr/bin/env bash
# Local stand-ins for the public base images, for a machine that has podman but cannot pull from
# Docker Hub (../shared/CONTAINERS.md). Builds, once each (an existing image is kept; the two
# built from files of scripts/standins/ are built again when those files change):
#
#   localhost/debian:bookworm-slim       debootstrap minbase, docs, man pages and locales left out
#                                        as in debian:bookworm-slim
#   localhost/python-standin:3.11-slim   + Debian's python3 (3.11), venv, this site's CA for pip
#   localhost/postgres-standin:15        + postgresql-15, an entrypoint honouring POSTGRES_*
#   localhost/nginx-standin:1.22         + Debian's nginx, the official image's entrypoint steps
#                                          (/docker-entrypoint.d: local resolvers, templates)
#
# and prints the variables that point docker-compose.yml at them (eval "$(...)"). The official
# images remain the defaults of the Dockerfile and the compose file; these only stand in for
# them here. Needs root, podman, runc and debootstrap.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
work="${STANDINS_WORKDIR:-/var/tmp/inovasi-standins}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
podman_build=(podman build --runtime runc --format docker)

have() { podman image exists "$1"; }
# An image built from files of standins/ carries their hash: edited files build it again.
files_hash() { cat "$@" | sha256sum | cut -c1-16; }
current() { # current IMAGE HASH: the image exists and was built from these files
    have "$1" && [ "$(podman image inspect --format '{{index .Config.Labels "inovasi.standin"}}' "$1")" = "$2" ]
}
log() { echo "standins: $*" >&2; }

mkdir -p "$work"

if ! have localhost/debian:bookworm-slim; then
    log "debootstrap bookworm (2-3 min)"
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1
    cat >"$work/rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
    echo 'APT::Install-Recommends "false";' >"$work/rootfs/etc/apt/apt.conf.d/90no-recommends"
    find "$work/rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$work"/rootfs/usr/share/{man,info,groff,lintian,locale}/* \
        "$work"/rootfs/var/cache/apt/*.bin "$work"/rootfs/var/cache/apt/archives/*.deb \
        "$work"/rootfs/var/lib/apt/lists/*
    tar -C "$work/rootfs" -c . | podman import - localhost/debian:bookworm-slim >/dev/null
    rm -rf "$work/rootfs"
fi

ctx="$work/context"
rm -rf "$ctx" && mkdir -p "$ctx"
apt_install='apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends'
apt_clean='apt-get clean && rm -rf /var/lib/apt/lists/*'

if ! have localhost/python-standin:3.11-slim; then
    log "python stand-in"
    # pip inside a build reaches PyPI through this site's TLS inspection: trust its CA.
    mkdir -p "$ctx/ca" && cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/" 2>/dev/null || true
    cat >"$ctx/Containerfile" <<CF
FROM localhost/debian:bookworm-slim
RUN $apt_install python3 python3-venv python-is-python3 ca-certificates && $apt_clean
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt LANG=C.UTF-8
CMD ["python3"]
CF
    "${podman_build[@]}" -t localhost/python-standin:3.11-slim "$ctx" >>"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
fi

pg_hash=$(files_hash "$here/standins/postgres-entrypoint.sh")
if ! current localhost/postgres-standin:15 "$pg_hash"; then
    log "postgres stand-in"
    rm -rf "$ctx" && mkdir -p "$ctx" && cp "$here/standins/postgres-entrypoint.sh" "$ctx/"
    cat >"$ctx/Containerfile" <<CF
FROM localhost/debian:bookworm-slim
RUN $apt_install postgresql-15 && $apt_clean
ENV PATH=/usr/lib/postgresql/15/bin:\$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
LABEL inovasi.standin=$pg_hash
CF
    "${podman_build[@]}" -t localhost/postgres-standin:15 "$ctx" >>"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
fi

nginx_hash=$(files_hash "$here"/standins/nginx-*)
if ! current localhost/nginx-standin:1.22 "$nginx_hash"; then
    log "nginx stand-in"
    rm -rf "$ctx" && mkdir -p "$ctx/entrypoint.d" && cp "$here/standins/nginx-entrypoint.sh" "$ctx/"
    cp "$here/standins/nginx-15-local-resolvers.envsh" "$ctx/entrypoint.d/15-local-resolvers.envsh"
    cp "$here/standins/nginx-20-envsubst-on-templates.sh" "$ctx/entrypoint.d/20-envsubst-on-templates.sh"
    cat >"$ctx/Containerfile" <<CF
FROM localhost/debian:bookworm-slim
RUN $apt_install nginx gettext-base && $apt_clean \\
    && rm -f /etc/nginx/sites-enabled/default \\
    && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log \\
    && mkdir -p /etc/nginx/templates
COPY nginx-entrypoint.sh /docker-entrypoint.sh
COPY entrypoint.d/ /docker-entrypoint.d/
EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
LABEL inovasi.standin=$nginx_hash
CF
    "${podman_build[@]}" -t localhost/nginx-standin:1.22 "$ctx" >>"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
fi
rm -rf "$ctx"

cat <<VARS
export PYTHON_IMAGE=localhost/python-standin:3.11-slim
export POSTGRES_IMAGE=localhost/postgres-standin:15
export NGINX_IMAGE=localhost/nginx-standin:1.22
VARS
