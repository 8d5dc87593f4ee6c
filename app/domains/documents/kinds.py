"""The kinds of document a record takes, each with the media types it allows and its size
cap. The API's answers and the OpenAPI document quote these (never a number of their own)."""

from __future__ import annotations

from dataclasses import dataclass

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MB = 1_048_576


@dataclass(frozen=True)
class DocumentKind:
    name: str
    description: str
    media_types: tuple[str, ...]
    # Its own cap, below the service's (DOCUMENTS_MAX_BYTES); None: the service's.
    max_bytes: int | None = None


KINDS: dict[str, DocumentKind] = {
    kind.name: kind
    for kind in (
        DocumentKind("regulation", "A decree or regulation that institutionalises it.", (PDF,)),
        DocumentKind("budget_document", "A budget line (DPA, RKA) that funds it.", (PDF, XLSX)),
        DocumentKind("photo", "A photo of it at work.", (JPEG, PNG, WEBP), 10 * MB),
        DocumentKind("report", "A report of its results.", (PDF, DOCX)),
        DocumentKind(
            "other", "Anything else that documents it.", (PDF, JPEG, PNG, DOCX, XLSX, PPTX)
        ),
    )
}


def cap(kind: DocumentKind, overall: int) -> int:
    """The kind's cap, never above the service's (DOCUMENTS_MAX_BYTES)."""
    return overall if kind.max_bytes is None else min(kind.max_bytes, overall)
