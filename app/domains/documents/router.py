from __future__ import annotations

import re
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.core.errors import AppError
from app.core.openapi import component, problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal, MaybePrincipal
from app.core.texts import checks_its_own_text
from app.db.session import SessionDep
from app.domains.documents import kinds, service, upload
from app.domains.documents.schemas import (
    DocumentKindRead,
    DocumentPage,
    DocumentRead,
    DocumentUploadForm,
    RecordType,
)
from app.domains.documents.storage import FileStore, store_for

router = APIRouter(tags=["documents"], route_class=PolicyRoute)

MULTIPART = "multipart/form-data"
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {MULTIPART: {"schema": component(DocumentUploadForm)}},
    }
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(AppError):
    status = 416
    default_code = "document.range_not_satisfiable"


def document_store(request: Request) -> FileStore:
    store: FileStore | None = getattr(request.app.state, "document_store", None)
    if store is None:
        store = store_for(request.app.state.settings)
        request.app.state.document_store = store
    return store


@router.get("/document-kinds")
async def list_document_kinds(request: Request) -> list[DocumentKindRead]:
    """The kinds of document, the media types each allows and its largest size (the limits
    the uploads are checked against)."""
    overall = request.app.state.settings.documents_max_bytes
    return [
        DocumentKindRead(
            kind=kind.name,
            description=kind.description,
            media_types=list(kind.media_types),
            max_bytes=kinds.cap(kind, overall),
        )
        for kind in kinds.KINDS.values()
    ]


@router.post(
    "/documents",
    status_code=201,
    responses=problems(400, 404, 413, 415),
    openapi_extra=_UPLOAD_BODY,
)
# Its body is a file, streamed to storage, never read whole: the fields are checked by
# upload.py (UTF-8, short) and the file's name loses its control characters.
@checks_its_own_text
async def upload_document(
    request: Request, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> DocumentRead:
    """Upload one file (multipart/form-data: `file`, `kind`, `record_type`, `record_id`,
    `private`), streamed to storage. Its media type is decided from its bytes (415 when the
    kind does not allow it, 422 when the part's Content-Type says otherwise); each kind's size
    cap and media types: `GET /v1/document-kinds`; an institution's quota: 413."""
    settings = request.app.state.settings
    store = document_store(request)
    received = await upload.receive(request, store, settings.documents_max_bytes)
    document = await service.create_document(session, settings, store, principal, received)
    response.headers["Location"] = f"/v1/documents/{document.id}"
    return DocumentRead.model_validate(document)


@router.get("/documents", responses=problems(400, 404))
async def list_documents(
    session: SessionDep,
    principal: MaybePrincipal,
    page: PageDep,
    record_type: Annotated[RecordType, Query(description="The kind of record.")],
    record_id: Annotated[uuid.UUID, Query(description="The record whose documents to list.")],
) -> DocumentPage:
    """A record's documents, newest first (private ones for its own institution and the
    secretariat only); a record the caller may not see is a 404."""
    result = await service.list_documents(session, principal, record_type, record_id, page)
    return DocumentPage.model_validate(result, from_attributes=True)


@router.get("/documents/{document_id:uuid}", responses=problems(404))
async def get_document(
    session: SessionDep, principal: MaybePrincipal, document_id: uuid.UUID
) -> DocumentRead:
    """One document's metadata."""
    return DocumentRead.model_validate(await service.get_document(session, principal, document_id))


def _disposition(file_name: str) -> str:
    ascii_name = file_name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range asked for, as (first, last); None for the whole file (no header, or
    several ranges: answered whole, as RFC 9110 allows); 416 when it lies outside the file."""
    if not header or "," in header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(0) == "bytes=-":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        length = int(last)
        if length == 0:
            raise _unsatisfiable(size)
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        "document.range_not_satisfiable",
        f"The range lies outside the document's {size} bytes.",
        headers={"Content-Range": f"bytes */{size}"},
    )


@router.get(
    "/documents/{document_id:uuid}/content",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The bytes.", "content": {"application/octet-stream": {}}},
        206: {"description": "The range asked for.", "content": {"application/octet-stream": {}}},
        304: {"description": "Not modified: the `If-None-Match` ETag is current."},
        **problems(404, 416),
    },
)
async def get_document_content(
    request: Request,
    session: SessionDep,
    principal: MaybePrincipal,
    document_id: uuid.UUID,
    range_: Annotated[
        str | None, Header(alias="Range", description="One range: `bytes=0-1023`, `bytes=-500`.")
    ] = None,
    if_none_match: Annotated[str | None, Header(description="The ETag you have.")] = None,
) -> Response:
    """The document's bytes: `ETag` (its SHA-256), `Range` (206), a safe
    `Content-Disposition` and `X-Content-Type-Options: nosniff`."""
    document = await service.get_document(session, principal, document_id)
    tag = f'"{document.sha256}"'
    headers = {
        "ETag": tag,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": _disposition(document.file_name),
        "Cache-Control": "private, no-cache",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if if_none_match is not None and tag in [part.strip() for part in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    size = document.size_bytes
    chosen = _byte_range(range_, size)
    start, end = chosen if chosen is not None else (0, size - 1)
    headers["Content-Length"] = str(end - start + 1)
    status = 200
    if chosen is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    store = document_store(request)
    return StreamingResponse(
        store.read(document.storage_key, start, end),
        status_code=status,
        media_type=document.media_type,
        headers=headers,
    )


@router.delete("/documents/{document_id:uuid}", status_code=204, responses=problems(404))
async def delete_document(
    request: Request, session: SessionDep, principal: CurrentPrincipal, document_id: uuid.UUID
) -> None:
    """Delete a document (its bytes go when the deletion is committed)."""
    await service.delete_document(session, document_store(request), principal, document_id)
