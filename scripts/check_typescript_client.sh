#!/usr/bin/env bash
# Generate a TypeScript client from the committed openapi.json (openapi-typescript) and compile
# clients/typescript/check.ts (the document's contract, as types) and program.ts (a program on
# openapi-fetch that signs in, lists, reads, creates and handles problems) against it with tsc
# (strict; output in clients/typescript/dist, not committed; tests/clients runs the program).
# Skipped, with exit 0, without Node.js.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
client="$root/clients/typescript"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIPPED: Node.js not found; TypeScript client check not run"
    exit 0
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
    echo "SKIPPED: Node.js $(node --version) is older than 18; TypeScript client check not run"
    exit 0
fi

cd "$client"

# npm ci only when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "client-check: npm ci (clients/typescript)"
    npm ci --no-audit --no-fund
else
    echo "client-check: node_modules up to date with package-lock.json"
fi

echo "client-check: openapi-typescript openapi.json -> clients/typescript/schema.d.ts"
# openapi-typescript prints its warnings as " ⚠  ..." and its errors as " ✘  ...": any is a failure.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
npx --no -- openapi-typescript ../../openapi.json -o schema.d.ts >"$log" 2>&1 || status=$?
cat "$log"
if [ "$status" -ne 0 ] || grep -q -e '⚠' -e '✘' "$log"; then
    echo "client-check: FAILED: openapi-typescript exited $status with these warning(s):"
    grep -e '⚠' -e '✘' "$log" || true
    exit 1
fi

rm -rf dist
echo "client-check: tsc -p clients/typescript (check.ts, program.ts)"
npx --no -- tsc -p .

echo "client-check: OK (TypeScript client generated from openapi.json; check.ts and program.ts compile)"
