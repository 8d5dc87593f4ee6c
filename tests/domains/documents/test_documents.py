"""Documents on the file system store: an upload streamed, checked by its own bytes (a PDF
declared as a photo is refused, a renamed text file too), within the kind's cap and the
institution's quota; served with ETag, Range and a safe name; seen as the record is seen
(a draft's documents and private ones only by its own), deleted with its bytes; a refused or
rolled-back upload leaves no file behind."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.domains.documents.storage import FileStore, store_for
from app.models.audit import AuditEvent
from app.models.documents import Document
from app.models.enums import InnovationStatus, Role
from app.models.innovations import Innovation
from tests.conftest import InnovationFactory, InstitutionFactory, KeyFactory, UnitFactory
from tests.fixtures.s3 import S3Server

PATH = "/v1/documents"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"0" * 4000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 2000


@dataclass
class Backend:
    """The store under test, and a way to count what it holds."""

    name: str
    store: FileStore
    settings: Settings
    s3: S3Server | None

    def count(self) -> int:
        if self.s3 is not None:
            return len(self.s3.keys())
        root = self.settings.documents_dir
        return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


@pytest.fixture(params=["filesystem", "s3"])
def backend(request: pytest.FixtureRequest, app: Any, settings: Settings) -> Iterator[Backend]:
    """Every test here runs on both stores: the file system, and a real S3 server (moto)."""
    s3: S3Server | None = None
    chosen = settings
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_server")
        chosen = settings.model_copy(update=s3.settings())
    store = store_for(chosen)
    app.state.document_store = store
    try:
        yield Backend(request.param, store, chosen, s3)
    finally:
        app.state.document_store = None


async def _world(
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
    auth: KeyFactory,
) -> dict[str, Any]:
    medan = await make_institution(name="Pemerintah Kota Medan")
    unit = await make_unit(medan, name="Sekretariat DPRD Kota Medan")
    other = await make_institution(name="Pemerintah Kota Surabaya")
    other_unit = await make_unit(other, name="Dinas Kesehatan Kota Surabaya")
    return {
        "published": await make_innovation(unit, InnovationStatus.published, title="SIKULIN"),
        "draft": await make_innovation(unit, title="E-RESES"),
        "operator": await auth(Role.unit_operator, unit_id=unit.id),
        "local": await auth(Role.local_admin, institution_id=medan.id),
        "outsider": await auth(Role.unit_operator, unit_id=other_unit.id),
        "evaluator": await auth(Role.evaluator),
    }


async def _upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    innovation: Innovation,
    *,
    content: bytes = PDF,
    name: str = "Perwal 12 tahun 2021.pdf",
    media: str = "application/pdf",
    kind: str = "regulation",
    private: bool = False,
) -> httpx.Response:
    return await client.post(
        PATH,
        files={"file": (name, content, media)},
        data={
            "kind": kind,
            "record_type": "innovation",
            "record_id": str(innovation.id),
            "private": "true" if private else "false",
        },
        headers=headers,
    )


@pytest.fixture
async def world(
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
    auth: KeyFactory,
) -> dict[str, Any]:
    return await _world(make_institution, make_unit, make_innovation, auth)


async def test_upload_then_read_the_bytes_back(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any], backend: Backend
) -> None:
    created = await _upload(
        client, world["operator"], world["published"], name="../../etc/Perwal.pdf"
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["media_type"] == "application/pdf"
    assert body["size_bytes"] == len(PDF)
    assert body["file_name"] == "Perwal.pdf"
    assert len(body["sha256"]) == 64
    assert created.headers["Location"] == f"{PATH}/{body['id']}"
    events = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_id == body["id"])
    )
    assert events == 1

    content = await client.get(f"{PATH}/{body['id']}/content")  # public: published innovation
    assert content.status_code == 200
    assert content.content == PDF
    assert content.headers["etag"] == f'"{body["sha256"]}"'
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"].startswith('attachment; filename="Perwal.pdf"')
    assert content.headers["accept-ranges"] == "bytes"

    part = await client.get(f"{PATH}/{body['id']}/content", headers={"Range": "bytes=5-9"})
    assert part.status_code == 206
    assert part.content == PDF[5:10]
    assert part.headers["content-range"] == f"bytes 5-9/{len(PDF)}"
    tail = await client.get(f"{PATH}/{body['id']}/content", headers={"Range": "bytes=-4"})
    assert tail.content == PDF[-4:]
    outside = await client.get(
        f"{PATH}/{body['id']}/content", headers={"Range": f"bytes={len(PDF)}-"}
    )
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(PDF)}"
    cached = await client.get(
        f"{PATH}/{body['id']}/content", headers={"If-None-Match": content.headers["etag"]}
    )
    assert cached.status_code == 304

    listed = await client.get(
        PATH, params={"record_type": "innovation", "record_id": str(world["published"].id)}
    )
    assert [d["id"] for d in listed.json()["items"]] == [body["id"]]


async def test_the_bytes_decide_the_media_type(
    client: httpx.AsyncClient, world: dict[str, Any], backend: Backend
) -> None:
    before = backend.count()
    cases = [
        # a PDF declared as a PNG photo: a photo may not be a PDF
        ({"content": PDF, "name": "foto.png", "media": "image/png", "kind": "photo"}, 415,
         "document.media_type_not_allowed"),
        # a PNG declared as a PDF regulation: the bytes say otherwise
        ({"content": PNG, "name": "perwal.pdf", "media": "application/pdf"}, 415,
         "document.media_type_not_allowed"),
        # a photo whose part claims another image type
        ({"content": PNG, "name": "foto.jpg", "media": "image/jpeg", "kind": "photo"}, 422,
         "document.media_type_mismatch"),
        # text renamed to .pdf
        ({"content": b"hello, this is not a pdf", "name": "x.pdf"}, 415,
         "document.media_type_not_allowed"),
        ({"content": b""}, 422, "document.empty"),
        ({"kind": "selfie"}, 422, "document.unknown_kind"),
    ]  # fmt: skip
    for kwargs, status, code in cases:
        refused = await _upload(client, world["operator"], world["published"], **kwargs)
        assert refused.status_code == status, (kwargs, refused.text)
        assert refused.json()["code"] == code
    ok = await _upload(
        client, world["operator"], world["published"], content=PNG, name="foto.png",
        media="image/png", kind="photo",
    )  # fmt: skip
    assert ok.status_code == 201, ok.text
    # nothing of the refused uploads stayed: only the one accepted file was added
    assert backend.count() == before + 1
    tmp = backend.settings.documents_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []


async def test_limits(
    client: httpx.AsyncClient, settings: Settings, world: dict[str, Any], app: Any, backend: Backend
) -> None:
    kinds = await client.get("/v1/document-kinds")
    photo = next(k for k in kinds.json() if k["kind"] == "photo")
    assert photo["max_bytes"] == 10 * 1_048_576
    assert "image/webp" in photo["media_types"]
    app.state.settings = settings.model_copy(update={"documents_max_bytes": 2048})
    try:
        big = await _upload(client, world["operator"], world["published"], content=PDF)
        assert big.status_code == 413
        assert big.json()["code"] == "document.too_large"
    finally:
        app.state.settings = settings
    app.state.settings = settings.model_copy(update={"documents_institution_quota_bytes": 5000})
    try:
        first = await _upload(client, world["operator"], world["published"])
        assert first.status_code == 201
        over = await _upload(client, world["operator"], world["published"])
        assert over.status_code == 413
        assert over.json()["code"] == "document.quota_exceeded"
    finally:
        app.state.settings = settings
    not_multipart = await client.post(PATH, json={"kind": "photo"}, headers=world["operator"])
    assert not_multipart.status_code == 415


async def test_who_sees_and_who_changes(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any], backend: Backend
) -> None:
    public = (await _upload(client, world["operator"], world["published"])).json()
    private = (await _upload(client, world["local"], world["published"], private=True)).json()
    drafts = (await _upload(client, world["operator"], world["draft"])).json()
    # another institution's operator may not attach to these records
    assert (await _upload(client, world["outsider"], world["published"])).status_code == 403
    assert (await _upload(client, world["outsider"], world["draft"])).status_code == 404
    assert (await _upload(client, world["evaluator"], world["published"])).status_code == 403

    for caller in (None, world["outsider"], world["evaluator"]):
        headers = caller or {}
        assert (await client.get(f"{PATH}/{public['id']}", headers=headers)).status_code == 200
        for hidden in (private, drafts):
            for suffix in ("", "/content"):
                seen = await client.get(f"{PATH}/{hidden['id']}{suffix}", headers=headers)
                assert seen.status_code == 404, (caller, hidden["id"], suffix)
        listed = await client.get(
            PATH,
            params={"record_type": "innovation", "record_id": str(world["published"].id)},
            headers=headers,
        )
        assert [d["id"] for d in listed.json()["items"]] == [public["id"]]
    own = await client.get(
        PATH,
        params={"record_type": "innovation", "record_id": str(world["published"].id)},
        headers=world["operator"],
    )
    assert {d["id"] for d in own.json()["items"]} == {public["id"], private["id"]}
    assert (
        await client.get(f"{PATH}/{private['id']}/content", headers=world["local"])
    ).status_code == 200

    # deleting: the record's own only; the bytes go with the row
    assert (
        await client.delete(f"{PATH}/{public['id']}", headers=world["outsider"])
    ).status_code == 403
    stored = await session.get(Document, uuid.UUID(public["id"]))
    assert stored is not None
    assert await backend.store.exists(stored.storage_key)
    gone = await client.delete(f"{PATH}/{public['id']}", headers=world["operator"])
    assert gone.status_code == 204
    assert not await backend.store.exists(stored.storage_key)
    assert (await client.get(f"{PATH}/{public['id']}")).status_code == 404
    assert (await client.get(f"{PATH}/{uuid.uuid4()}")).status_code == 404


async def test_the_sweep_removes_only_old_temporary_files(settings: Settings) -> None:
    store = store_for(settings)
    old = await store.incoming()
    await old.write(b"cut off")
    await old.close()
    fresh = await store.incoming()
    await fresh.write(b"still arriving")
    await fresh.close()
    stale = time.time() - 7200
    os.utime(old.path, (stale, stale))
    assert store.sweep(older_than_seconds=3600) == 1
    assert not old.path.exists()
    assert fresh.path.exists()
    await fresh.discard()
