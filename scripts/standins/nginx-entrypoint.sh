#!/bin/sh
# Stand-in for the official nginx image's /docker-entrypoint.sh: before nginx starts, source
# the executable /docker-entrypoint.d/*.envsh and run the executable *.sh, in name order.
set -eu
if [ "${1:-}" = nginx ]; then
    for f in $(find /docker-entrypoint.d/ -follow -type f -print | sort -V); do
        case "$f" in
            *.envsh) if [ -x "$f" ]; then echo "$0: sourcing $f"; . "$f"; fi ;;
            *.sh) if [ -x "$f" ]; then echo "$0: running $f"; "$f"; fi ;;
        esac
    done
fi
exec "$@"
