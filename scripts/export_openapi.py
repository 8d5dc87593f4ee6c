"""Write the OpenAPI document to a file, or (--check) fail if the committed one differs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.core.config import Settings
from app.main import create_app


def render() -> str:
    app = create_app(Settings(log_level="WARNING"))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not args.path.exists() or args.path.read_text() != text:
            print(f"{args.path} is out of date: run `make openapi` and commit it.", file=sys.stderr)
            return 1
        print(f"{args.path} matches the application.", file=sys.stderr)
        return 0
    args.path.write_text(text)
    print(f"wrote {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
