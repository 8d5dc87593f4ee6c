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

Retries: a dropped or refused connection, a timeout, a 502, 503 or 504 (the database
restarting, the service stopping, a proxy without a live instance), a 429 and a 409 (the same
key still in flight) are retried with exponential backoff and jitter, never sooner than the
`Retry-After` the service sent, until the request's retry budget (`--retry-budget`, 300 s by
default) is spent; then the last answer is reported. Any other answer (a 500, a 4xx such as
401, 403, 413, 422) is final at once: retrying would not change it.

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
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

BATCH_SIZE = 500  # the service takes at most 1,000 items a batch
FEED_PAGE = 1000
# 409: the same key still in flight; 429: rate limited; 502, 503, 504: the service or its
# database is away for now. Anything else is final.
RETRIED_STATUSES = frozenset({409, 429, 502, 503, 504})
RETRY_BUDGET_SECONDS = 300.0


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
    API key (see `connect`). Each request is retried until `budget` seconds have passed since
    its first attempt; the wait before attempt n is `backoff` x 2^(n-1) seconds (at most
    `max_delay`) times a random factor in [0.5, 1.5), and never less than the `Retry-After` the
    service sent. `sleep` and `clock` are injectable for tests."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        budget: float = RETRY_BUDGET_SECONDS,
        backoff: float = 0.5,
        max_delay: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.budget = budget
        self.backoff = backoff
        self.max_delay = max_delay
        self.sleep = sleep
        self.clock = clock

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The first answer that is not worth retrying, or the last one when the budget ends
        (a transport error is raised then)."""
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.TransportError:  # refused, reset, dropped, timed out...
                delay = self._delay(attempt, None)
                if self.clock() + delay > deadline:
                    raise
            else:
                if response.status_code not in RETRIED_STATUSES:
                    return response
                delay = self._delay(attempt, response.headers.get("Retry-After"))
                if self.clock() + delay > deadline:
                    return response
            await self.sleep(delay)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Exponential backoff with jitter, and at least the server's Retry-After."""
        backoff = min(self.max_delay, self.backoff * 2 ** (attempt - 1))
        delay = backoff * (0.5 + random.random())  # noqa: S311 - jitter, not a secret
        return max(delay, _retry_after_seconds(retry_after))

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


def _retry_after_seconds(value: str | None) -> float:
    """`Retry-After` as seconds: a number of seconds or an HTTP date (RFC 9110); 0 if absent."""
    if not value:
        return 0.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


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
    parser.add_argument(
        "--retry-budget",
        type=float,
        default=float(os.environ.get("INOVASI_RETRY_BUDGET", RETRY_BUDGET_SECONDS)),
        help="seconds to keep retrying one request (dropped connections, 429, 502-504)",
    )
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
        client = SyncClient(http, budget=args.retry_budget)
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
