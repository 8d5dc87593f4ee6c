"""A reference client for syncing a regional system with Inovasi (docs/sync.md): copy it and
adapt it.

    export INOVASI_URL=https://inovasi.example.go.id INOVASI_API_KEY=inv_...
    python examples/sync_client.py push records/          # every *.json file in the folder
    python examples/sync_client.py pull --state sync-state.json --out changes.jsonl

`push` reads the records of a folder (each file one record or a list of records; each record
names its `resource` (`units`, `innovations`, `replications` or `hub-activities`) and carries
your `external_id`), sends them in batches to `POST /v1/sync/batch` and prints each item that
was not applied. Every batch carries
an `Idempotency-Key` derived from its content, so a retry (after a timeout, a dropped
connection, a 429 or a 503) or a rerun after a crash within 24 hours replays the first answer
instead of applying anything twice.

`pull` follows the changes feed from the cursor stored in the state file, appends each change to
a JSON Lines file (your system would apply it instead) and stores the new cursor after each
page, so an interrupted pull resumes where it stopped; a change may be seen twice after a crash
(between writing a page and storing its cursor), never missed: apply changes idempotently, by
`id` and `version`. A `410` (the cursor is older than the retention window) starts again from
the beginning: a full resync; so does a `400` `sync.invalid_cursor` (a stored cursor the feed
no longer accepts: one handed out before cursors were signed, or before SECRET_KEY changed).
A cursor is bound to the `--resource`s it was read with (or fewer): keep one state file per
set you pull.

Needs Python 3.11+ and httpx (`pip install httpx`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

BATCH_SIZE = 500  # the service takes at most 1,000 items a batch
FEED_PAGE = 1000
RETRIED_STATUSES = frozenset({409, 429, 502, 503, 504})  # 409: the same key is still in flight


class SyncError(Exception):
    """A refusal that retrying will not fix (401, 403, 413, 422...)."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        try:
            self.problem: dict[str, Any] = response.json()
        except ValueError:
            self.problem = {"detail": response.text}
        super().__init__(
            f"{response.status_code} {self.problem.get('code')}: {self.problem.get('detail')}"
        )


class SyncClient:
    """Push batches and pull changes, retrying what is worth retrying with backoff.

    `http` is an httpx.AsyncClient whose base URL is the service and whose headers carry the
    API key (see `connect`); `sleep` is injectable for tests."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        attempts: int = 6,
        backoff: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.TransportError:  # connection refused, reset, timed out...
                if attempt == self.attempts:
                    raise
                await self.sleep(self._delay(attempt, None))
                continue
            if response.status_code in RETRIED_STATUSES and attempt < self.attempts:
                await self.sleep(self._delay(attempt, response.headers.get("Retry-After")))
                continue
            return response
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Exponential backoff with jitter; the server's Retry-After when it gave one."""
        if retry_after is not None and retry_after.isdigit():
            return float(retry_after)
        return self.backoff * 2 ** (attempt - 1) * (0.5 + random.random())  # noqa: S311

    # --- pushing ----------------------------------------------------------------------------

    async def push_batch(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """One batch (mixed resources) under a key derived from its content."""
        body = json.dumps({"items": items}, sort_keys=True, ensure_ascii=False).encode()
        key = hashlib.sha256(body).hexdigest()
        response = await self._send(
            "POST",
            "/v1/sync/batch",
            content=body,
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
        )
        if response.status_code != 200:
            raise SyncError(response)
        result: dict[str, Any] = response.json()
        return result

    async def push(
        self, records: list[dict[str, Any]], batch_size: int = BATCH_SIZE
    ) -> list[dict[str, Any]]:
        """Every record, in batches; returns each batch's result."""
        results = []
        for start in range(0, len(records), batch_size):
            results.append(await self.push_batch(records[start : start + batch_size]))
        return results

    # --- pulling ----------------------------------------------------------------------------

    async def pull(
        self,
        state_file: Path,
        apply: Callable[[list[dict[str, Any]]], None],
        resources: list[str] | None = None,
    ) -> int:
        """Follow the feed from the stored cursor to its end; `apply` gets each page before its
        cursor is stored. Returns how many changes were applied."""
        cursor = _read_state(state_file).get("cursor")
        applied = 0
        while True:
            params: dict[str, Any] = {"limit": FEED_PAGE}
            if cursor:
                params["cursor"] = cursor
            if resources:
                params["resources"] = resources
            response = await self._send("GET", "/v1/sync/changes", params=params)
            if cursor and _cursor_refused(response):
                print("cursor expired: resynchronising from the beginning", file=sys.stderr)
                cursor = None
                _write_state(state_file, {"cursor": None})
                continue
            if response.status_code != 200:
                raise SyncError(response)
            page = response.json()
            apply(page["items"])
            applied += len(page["items"])
            cursor = page["next_cursor"]
            _write_state(state_file, {"cursor": cursor})
            if not page["has_more"]:
                return applied


def _cursor_refused(response: httpx.Response) -> bool:
    """A 410 (compacted away) or a 400 `sync.invalid_cursor`: read again from the beginning."""
    if response.status_code == 410:
        return True
    if response.status_code != 400:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == "sync.invalid_cursor"


def _read_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def _write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the file atomically: a crash leaves the old cursor or the new, never half."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(state))
    os.replace(temporary, path)


def read_records(folder: Path) -> list[dict[str, Any]]:
    """The records of every *.json file of the folder, in file name order."""

    def each() -> Iterator[dict[str, Any]]:
        for path in sorted(folder.glob("*.json")):
            loaded = json.loads(path.read_text(encoding="utf-8"))
            yield from loaded if isinstance(loaded, list) else [loaded]

    return list(each())


def append_changes(out: Path) -> Callable[[list[dict[str, Any]]], None]:
    def apply(items: list[dict[str, Any]]) -> None:
        with out.open("a", encoding="utf-8") as file:
            for item in items:
                file.write(json.dumps(item, ensure_ascii=False) + "\n")

    return apply


def connect(base_url: str, api_key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=httpx.Timeout(60.0, connect=10.0),
    )


def report(results: list[dict[str, Any]]) -> int:
    """Print the totals and each item not applied; the number of such items."""
    failed = 0
    totals: dict[str, int] = {}
    for result in results:
        for name, count in result["totals"].items():
            totals[name] = totals.get(name, 0) + count
        for item in result["items"]:
            if item["status"] in ("conflict", "invalid"):
                failed += 1
                where = ", ".join(e["pointer"] for e in item.get("errors") or [])
                print(
                    f"item {item['index']} ({item['resource']} {item['external_id']}): "
                    f"{item['status']} {item['code']}: {item['message']} {where}".rstrip()
                )
    print(json.dumps(totals))
    return failed


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sync a regional system with Inovasi.")
    parser.add_argument("--url", default=os.environ.get("INOVASI_URL", "http://127.0.0.1:8000"))
    sub = parser.add_subparsers(dest="command", required=True)
    push = sub.add_parser("push", help="push every record of a folder of JSON files")
    push.add_argument("folder", type=Path)
    push.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    pull = sub.add_parser("pull", help="pull changes since the stored cursor")
    pull.add_argument("--state", type=Path, default=Path("sync-state.json"))
    pull.add_argument("--out", type=Path, default=Path("changes.jsonl"))
    pull.add_argument("--resource", action="append", dest="resources")
    args = parser.parse_args(argv)
    api_key = os.environ.get("INOVASI_API_KEY")
    if not api_key:
        parser.error("set INOVASI_API_KEY")
    async with connect(args.url, api_key) as http:
        client = SyncClient(http)
        try:
            if args.command == "push":
                results = await client.push(read_records(args.folder), args.batch_size)
                return 1 if report(results) else 0
            count = await client.pull(args.state, append_changes(args.out), args.resources)
            print(f"{count} changes appended to {args.out}")
            return 0
        except SyncError as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
