"""Run pytest, and treat "no tests ran" (exit 5) as a failure, never as success.

After pytest has printed its summary the process exits at once (``os._exit``):
the interpreter's final garbage collection of a 3,000-test session's objects
took about five minutes of CPU here and checks nothing.
"""

from __future__ import annotations

import os
import sys

import pytest


def main() -> int:
    code = int(pytest.main(sys.argv[1:]))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("pytest collected no tests: failing on purpose.", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
