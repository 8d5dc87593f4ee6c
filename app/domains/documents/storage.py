"""Where documents' bytes live: a folder of the file system (`DOCUMENTS_DIR`; a volume in
compose), or an S3-compatible bucket (MinIO, Ceph, a cloud) through obstore. No path from a
client ever reaches either: keys are the service's own (`ab/<uuid>`).

A file arrives in `DOCUMENTS_DIR/tmp/` under a random name (in both cases) while it is
checked, and only then is kept: renamed to its key (atomic on one file system), or put to the
bucket (a multipart upload above 5 MB, which the bucket shows only once completed). A cut
upload leaves at most a temporary file, which `sweep` removes.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import obstore
import obstore.store

from app.core.config import Settings

CHUNK = 256 * 1024
WRITE_BUFFER = 1_048_576
# The first bytes kept to decide the media type (enough for office files' first entries).
HEAD = 64 * 1024


@dataclass
class Incoming:
    """A file being received: written to a temporary file while hashed and counted."""

    path: Path
    size: int = 0
    head: bytes = b""
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    _file: anyio.AsyncFile[bytes] | None = None
    _buffer: bytearray = field(default_factory=bytearray)

    async def write(self, data: bytes) -> None:
        """Count, hash and buffer `data`; the buffer goes to the file a megabyte at a time
        (a thread hop a write: fewer, larger writes are several times faster)."""
        self.digest.update(data)
        if len(self.head) < HEAD:
            self.head += data[: HEAD - len(self.head)]
        self.size += len(data)
        self._buffer += data
        if len(self._buffer) >= WRITE_BUFFER:
            await self._flush()

    async def _flush(self) -> None:
        if not self._buffer:
            return
        if self._file is None:
            # "ab": a file closed once (the route closes it, keeping closes it again) is
            # never truncated by a later flush.
            self._file = await anyio.open_file(self.path, "ab")
        await self._file.write(bytes(self._buffer))
        self._buffer.clear()

    async def close(self) -> None:
        await self._flush()
        if self._file is not None:
            await self._file.aclose()
            self._file = None

    async def discard(self) -> None:
        self._buffer.clear()
        if self._file is not None:
            await self._file.aclose()
            self._file = None
        self.path.unlink(missing_ok=True)

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"

    def _path(self, key: str) -> Path:
        return self.root / key

    async def incoming(self) -> Incoming:
        await anyio.Path(self.tmp).mkdir(parents=True, exist_ok=True)
        return Incoming(self.tmp / f"{uuid.uuid4().hex}.part")

    @staticmethod
    def key_for(document_id: uuid.UUID) -> str:
        return f"{document_id.hex[:2]}/{document_id.hex}"

    async def keep(self, incoming: Incoming, key: str) -> None:
        """Move the received file to its key (atomic)."""
        await incoming.close()
        target = self._path(key)
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
        await anyio.Path(incoming.path).rename(target)

    def delete_now(self, key: str) -> None:
        """Remove a stored file (synchronously: from a transaction's rollback hook)."""
        self._path(key).unlink(missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await anyio.Path(self._path(key)).exists()

    async def delete(self, key: str) -> None:
        await anyio.Path(self._path(key)).unlink(missing_ok=True)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` (inclusive) of the stored file, in chunks."""
        async with await anyio.open_file(self._path(key), "rb") as source:
            await source.seek(start)
            left = end - start + 1
            while left > 0:
                data = await source.read(min(CHUNK, left))
                if not data:
                    break
                left -= len(data)
                yield data

    def sweep(self, older_than_seconds: float = 3600) -> int:
        """Remove temporary files of uploads that never finished."""
        if not self.tmp.exists():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.tmp.iterdir():
            if path.suffix == ".part" and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


class S3FileStore(FileStore):
    """The same, with the kept bytes in a bucket (`root` holds only the temporary files)."""

    def __init__(self, root: Path, store: obstore.store.S3Store) -> None:
        super().__init__(root)
        self.store = store

    async def keep(self, incoming: Incoming, key: str) -> None:
        await incoming.close()
        try:
            await obstore.put_async(self.store, key, incoming.path)
        finally:
            await anyio.Path(incoming.path).unlink(missing_ok=True)

    def delete_now(self, key: str) -> None:
        obstore.delete(self.store, key)

    async def delete(self, key: str) -> None:
        await obstore.delete_async(self.store, key)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        result = await obstore.get_async(self.store, key, options={"range": (start, end + 1)})
        async for chunk in result.stream(min_chunk_size=CHUNK):
            yield bytes(chunk)

    async def exists(self, key: str) -> bool:
        try:
            await obstore.head_async(self.store, key)
        except FileNotFoundError:
            return False
        return True


def store_for(settings: Settings) -> FileStore:
    os.makedirs(settings.documents_dir, exist_ok=True)
    if settings.documents_store == "s3":
        return S3FileStore(
            settings.documents_dir,
            obstore.store.S3Store(
                settings.s3_bucket,
                config={
                    "endpoint": settings.s3_endpoint,
                    "region": settings.s3_region,
                    "access_key_id": settings.s3_access_key_id,
                    "secret_access_key": settings.s3_secret_access_key.get_secret_value(),
                },
                client_options={"allow_http": settings.s3_endpoint.startswith("http://")},
            ),
        )
    return FileStore(settings.documents_dir)
