"""Run pytest, and treat "no tests ran" (exit 5) as a failure, never as success."""

from __future__ import annotations

import sys

import pytest


def main() -> int:
    code = int(pytest.main(sys.argv[1:]))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("pytest collected no tests: failing on purpose.", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
