#!/bin/sh
# Stand-in for the official image's 20-envsubst-on-templates.sh: each
# /etc/nginx/templates/*.template goes through envsubst, replacing only the defined variables
# whose names match NGINX_ENVSUBST_FILTER, into /etc/nginx/conf.d/.
set -eu
filter="${NGINX_ENVSUBST_FILTER:-}"
defined=$(printf '${%s} ' $(awk "END { for (name in ENVIRON) { print ( name ~ /${filter}/ ) ? name : \"\" } }" </dev/null))
for template in /etc/nginx/templates/*.template; do
    [ -e "$template" ] || continue
    out="/etc/nginx/conf.d/$(basename "$template" .template)"
    envsubst "$defined" <"$template" >"$out"
    echo "$0: $template -> $out"
done
