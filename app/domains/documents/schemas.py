from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import ReadModel


class DocumentKindName(StrEnum):
    regulation = "regulation"
    budget_document = "budget_document"
    photo = "photo"
    report = "report"
    other = "other"


RecordType = Literal["innovation"]


class DocumentRead(ReadModel):
    """A stored file and the record it documents (its bytes: `GET .../content`)."""

    id: uuid.UUID
    kind: DocumentKindName
    file_name: str = Field(description="The name it is downloaded as (sanitised).")
    media_type: str = Field(description="Decided from the file's own bytes.")
    size_bytes: int
    sha256: str = Field(description="Hex SHA-256 of the bytes; the content's ETag.")
    record_type: RecordType
    record_id: uuid.UUID
    private: bool = Field(
        description="Seen only by the record's own institution and the secretariat, even when "
        "the record is public."
    )
    uploaded_by_kind: Literal["user", "api_key"]
    uploaded_by_id: uuid.UUID
    uploaded_by_name: str
    created_at: UtcDateTime


class DocumentPage(Page[DocumentRead]):
    pass


class DocumentUploadForm(BaseModel):
    """The multipart/form-data of an upload: the `file` and what it documents."""

    file: bytes = Field(
        json_schema_extra={"format": "binary"},
        description="The file. Its media type is decided from its bytes and must equal the "
        "part's Content-Type and be one the kind allows.",
    )
    kind: DocumentKindName
    record_type: RecordType = Field(description="The kind of record it documents.")
    record_id: uuid.UUID
    private: bool = False


class DocumentKindRead(BaseModel):
    kind: DocumentKindName
    description: str
    media_types: list[str]
    max_bytes: int = Field(description="The largest file of this kind, in bytes.")
