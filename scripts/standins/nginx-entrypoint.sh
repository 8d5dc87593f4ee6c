#!/bin/sh
# Stand-in for the official nginx image's /docker-entrypoint.sh, the two steps the compose file
# uses: NGINX_ENTRYPOINT_LOCAL_RESOLVERS exports NGINX_LOCAL_RESOLVERS (the nameservers of
# /etc/resolv.conf, IPv6 ones in brackets), then every /etc/nginx/templates/*.template goes
# through envsubst (only the variables matching NGINX_ENVSUBST_FILTER) into /etc/nginx/conf.d/.
set -eu
if [ -n "${NGINX_ENTRYPOINT_LOCAL_RESOLVERS:-}" ]; then
    NGINX_LOCAL_RESOLVERS=$(awk 'BEGIN{ORS=" "} $1=="nameserver" {print ($2 ~ ":") ? "["$2"]" : $2}' /etc/resolv.conf)
    export NGINX_LOCAL_RESOLVERS
fi
filter="${NGINX_ENVSUBST_FILTER:-}"
defined=$(printf '${%s} ' $(awk "END { for (name in ENVIRON) { print ( name ~ /${filter}/ ) ? name : \"\" } }" </dev/null))
for template in /etc/nginx/templates/*.template; do
    [ -e "$template" ] || continue
    out="/etc/nginx/conf.d/$(basename "$template" .template)"
    envsubst "$defined" < "$template" > "$out"
    echo "stand-in entrypoint: $template -> $out"
done
exec "$@"
