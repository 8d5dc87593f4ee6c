#!/usr/bin/env bash
# Generate a Python client from the committed openapi.json (openapi-python-client) into
# .build/python-client (not committed), fail if the generator warns about anything, and
# type-check clients/python/program.py against the generated package (mypy --strict).
# OPENAPI_DOCUMENT and PYTHON_CLIENT_DIR override the document and the output directory;
# PYTHON_CLIENT_PROGRAM=0 stops after the generator (tests/clients checks the warning check).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${VENV_BIN:-$root/.venv/bin}"
document="${OPENAPI_DOCUMENT:-openapi.json}"
out="${PYTHON_CLIENT_DIR:-$root/.build/python-client}"
log="$out.log"

# The generator's post hooks (ruff) are looked up on PATH.
export PATH="$bin:$PATH"
cd "$root"
rm -rf "$out"
mkdir -p "$(dirname "$out")"

echo "python-client-check: openapi-python-client $document -> ${out#"$root/"}"
status=0
"$bin/openapi-python-client" generate \
    --path "$document" \
    --config clients/python/openapi-python-client.json \
    --custom-template-path clients/python/templates \
    --output-path "$out" \
    --overwrite \
    --fail-on-warning >"$log" 2>&1 || status=$?

# A clean run prints "Generating <path>" and blank lines, nothing else: anything more is a
# warning (a schema it could not parse, a response it left out, a post hook it skipped).
warnings="$(grep -Ev '^(Generating .*)?[[:space:]]*$' "$log" || true)"
if [ "$status" -ne 0 ] || [ -n "$warnings" ]; then
    # Each warning starts with one of these headers; the full output follows the summary.
    headers='^(WARNING |ERROR |Unable to parse schema|Unable to process schema|Skipping Integration)'
    count="$(grep -Ec "$headers" "$log" || true)"
    echo "python-client-check: openapi-python-client output:"
    cat "$log"
    echo "python-client-check: FAILED: openapi-python-client exited $status with $count warning(s):"
    grep -E "$headers" "$log" | sed 's/^/  - /' || true
    exit 1
fi

# Anonymous operations take a client without a token (the generator's upstream issue #1372).
echo "python-client-check: clients/python/allow_anonymous.py (operations that allow anonymous calls)"
"$bin/python" clients/python/allow_anonymous.py "$document" "$out"

# What the generator wrote must at least be valid Python with every name defined.
echo "python-client-check: ruff check --select F ${out#"$root/"}"
"$bin/ruff" check --no-cache --quiet --select F "$out"

if [ "${PYTHON_CLIENT_PROGRAM:-1}" = 0 ]; then
    echo "python-client-check: OK (no generator warnings)"
    exit 0
fi

echo "python-client-check: mypy --strict clients/python/program.py (against the generated package)"
MYPYPATH="$out" "$bin/mypy" --strict --cache-dir "$root/.build/mypy-cache" clients/python/program.py

echo "python-client-check: OK (no generator warnings; the program type-checks)"
