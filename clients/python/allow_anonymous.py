"""Let the generated client call anonymous operations without a token.

An operation a caller may make anonymously lists the empty requirement `{}` among its security
alternatives (`[{"bearerAuth": []}, {"passwordLogin": []}, {}]`, OpenAPI 3.1 section 4.8.30).
openapi-python-client 0.29.1 reads any non-empty `security` as "needs a token" and types the
operation's functions `client: AuthenticatedClient`, so signing in needs a token (upstream issue
#1372). This rewrites those functions to take `AuthenticatedClient | Client`, as the generator
does for an operation without `security`, and fails when an operation's module or its client
parameter is not where 0.29.1 puts them. Drop it when the pinned generator has the fix.

    python clients/python/allow_anonymous.py openapi.json .build/python-client
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

AUTHENTICATED = "    client: AuthenticatedClient,\n"
EITHER = "    client: AuthenticatedClient | Client,\n"


def anonymous_operations(document: dict[str, object]) -> list[str]:
    paths = document.get("paths", {})
    assert isinstance(paths, dict)
    found = []
    for operations in paths.values():
        for operation in operations.values():
            if isinstance(operation, dict) and {} in operation.get("security", []):
                found.append(str(operation["operationId"]))
    return sorted(found)


def main(document_path: str, client_dir: str) -> int:
    document = json.loads(Path(document_path).read_text(encoding="utf-8"))
    api = next(Path(client_dir).glob("*/api"))
    problems = []
    for operation_id in anonymous_operations(document):
        modules = list(api.glob(f"*/{operation_id}.py"))
        if len(modules) != 1:
            problems.append(f"{operation_id}: {len(modules)} modules")
            continue
        text = modules[0].read_text(encoding="utf-8")
        if AUTHENTICATED not in text:
            problems.append(f"{operation_id}: no `{AUTHENTICATED.strip()}` in {modules[0].name}")
            continue
        modules[0].write_text(text.replace(AUTHENTICATED, EITHER), encoding="utf-8")
    for problem in problems:
        print(f"allow_anonymous: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
