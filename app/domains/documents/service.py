"""Documents: upload (checked by the file's own bytes, within the kind's and the institution's
limits), read, list and delete, each as the attached record's rules allow. A published
innovation's documents are public unless private; everything else about a record's documents
is for those who may see (to read) or change (to upload and delete) the record."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

import puremagic
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, invalid_field
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.documents import kinds
from app.domains.documents.repository import DocumentRepository
from app.domains.documents.storage import FileStore
from app.domains.documents.upload import Upload
from app.domains.innovations.service import visible_innovation, writable_innovation
from app.models.documents import Document

ENTITY = "document"
_UNSAFE = re.compile(r"[^\w.\- ()]+")


def safe_file_name(name: str, media_type: str) -> str:
    """A name fit to show and to send: no folders, no control characters, at most 150
    characters, never empty."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" ._") or "document"
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 150 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:150]
    return name


def sniff(head: bytes) -> set[str]:
    """The media types the file's first bytes say it may be (empty: unknown). The file's name
    is not consulted: puremagic falls back to the extension when the bytes say nothing, and a
    name is the client's claim, not evidence."""
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return set()
    return {match.mime_type for match in matches if match.mime_type}


@dataclass(frozen=True)
class Target:
    record_type: str
    record_id: uuid.UUID
    institution_id: uuid.UUID


def _form_field(upload: Upload, name: str) -> str:
    value = upload.fields.get(name)
    if value is None or not value.strip():
        raise invalid_field("document.field_required", f"/{name}", f"`{name}` is required.")
    return value.strip()


def _discard_on_rollback(session: AsyncSession, store: FileStore, key: str) -> None:
    """A stored file whose row does not commit is removed: nothing half-written stays."""
    committed = False

    def on_commit(_: object) -> None:
        nonlocal committed
        committed = True

    def on_rollback(_: object) -> None:
        if not committed:
            store.delete_now(key)

    event.listen(session.sync_session, "after_commit", on_commit, once=True)
    event.listen(session.sync_session, "after_rollback", on_rollback, once=True)


async def create_document(
    session: AsyncSession,
    settings: Settings,
    store: FileStore,
    principal: Principal,
    upload: Upload,
) -> Document:
    incoming = upload.file
    assert incoming is not None
    try:
        kind_name = _form_field(upload, "kind")
        kind = kinds.KINDS.get(kind_name)
        if kind is None:
            raise invalid_field(
                "document.unknown_kind", "/kind", f"Kinds: {', '.join(sorted(kinds.KINDS))}."
            )
        record_type = _form_field(upload, "record_type")
        if record_type != "innovation":
            raise invalid_field(
                "document.unknown_record_type", "/record_type", "Documents attach to: innovation."
            )
        try:
            record_id = uuid.UUID(_form_field(upload, "record_id"))
        except ValueError:
            raise invalid_field("document.invalid_record_id", "/record_id", "Not a UUID.") from None
        private_value = upload.fields.get("private", "false").strip().lower()
        if private_value not in ("true", "false"):
            raise invalid_field("document.invalid_private", "/private", "true or false.")
        innovation = await writable_innovation(session, principal, record_id)
        if incoming.size == 0:
            raise invalid_field("document.empty", "/file", "The file is empty.")
        limit = kinds.cap(kind, settings.documents_max_bytes)
        if incoming.size > limit:
            raise PayloadTooLarge(
                "document.too_large",
                f"A document of kind {kind.name} may have at most {limit} bytes.",
                extra={"max_bytes": limit},
            )
        file_name = upload.file_name or ""
        detected = sniff(incoming.head)
        allowed = detected & set(kind.media_types)
        if not allowed:
            raise UnsupportedMediaType(
                "document.media_type_not_allowed",
                f"The file is not one a document of kind {kind.name} may be "
                f"({', '.join(kind.media_types)}), judged by its own bytes.",
                extra={"allowed": list(kind.media_types)},
            )
        declared = (upload.declared_type or "").lower()
        if declared not in allowed:
            raise invalid_field(
                "document.media_type_mismatch",
                "/file",
                f"The part says {declared or 'nothing'}, but the file's bytes are "
                f"{' or '.join(sorted(allowed))}.",
            )
        repo = DocumentRepository(session)
        used = await repo.used_bytes(innovation.institution_id)
        if used + incoming.size > settings.documents_institution_quota_bytes:
            raise PayloadTooLarge(
                "document.quota_exceeded",
                "The institution's documents would exceed its quota of "
                f"{settings.documents_institution_quota_bytes} bytes ({used} used).",
                extra={"quota_bytes": settings.documents_institution_quota_bytes, "used": used},
            )
    except BaseException:
        await incoming.discard()
        raise
    document_id = uuid.uuid4()
    key = store.key_for(document_id)
    await store.keep(incoming, key)
    _discard_on_rollback(session, store, key)
    document = Document(
        id=document_id,
        kind=kind.name,
        file_name=safe_file_name(file_name, declared),
        media_type=declared,
        size_bytes=incoming.size,
        sha256=incoming.sha256,
        storage_key=key,
        record_type=record_type,
        record_id=record_id,
        institution_id=innovation.institution_id,
        private=private_value == "true",
        uploaded_by_kind=principal.kind,
        uploaded_by_id=principal.id,
        uploaded_by_name=principal.name,
    )
    repo.add(document)
    await session.flush()
    await audit.record(
        session, principal, "upload", ENTITY, document.id,
        institution_id=document.institution_id, after=audit.snapshot(document),
    )  # fmt: skip
    return document


def _not_found(document_id: uuid.UUID) -> NotFound:
    return NotFound("document.not_found", f"No document has the id {document_id}.")


async def get_document(
    session: AsyncSession,
    principal: Principal | None,
    document_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Document:
    """The document if the caller may see its record (and, if private, as its own)."""
    document = await DocumentRepository(session).get(document_id, for_update=for_update)
    if document is None:
        raise _not_found(document_id)
    try:
        _, own = await visible_innovation(session, principal, document.record_id)
    except NotFound:
        raise _not_found(document_id) from None
    if document.private and not own:
        raise _not_found(document_id)
    return document


async def list_documents(
    session: AsyncSession,
    principal: Principal | None,
    record_type: str,
    record_id: uuid.UUID,
    page: PageRequest,
) -> PageResult[Document]:
    _, own = await visible_innovation(session, principal, record_id)
    return await DocumentRepository(session).of_record(
        record_type, record_id, include_private=own, page=page
    )


async def delete_document(
    session: AsyncSession, store: FileStore, principal: Principal, document_id: uuid.UUID
) -> None:
    locked = await get_document(session, principal, document_id, for_update=True)
    await writable_innovation(session, principal, locked.record_id)
    repo = DocumentRepository(session)
    key = locked.storage_key
    before = audit.snapshot(locked)
    await repo.delete(locked)
    await audit.record(
        session, principal, "delete", ENTITY, document_id,
        institution_id=locked.institution_id, before=before,
    )  # fmt: skip

    def remove(_: object) -> None:
        store.delete_now(key)

    # The bytes go once the row's removal is committed (a rolled-back delete keeps both).
    event.listen(session.sync_session, "after_commit", remove, once=True)
