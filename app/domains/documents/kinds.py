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
    max_bytes: int


KINDS: dict[str, DocumentKind] = {
    kind.name: kind
    for kind in (
        DocumentKind(
            "regulation", "A decree or regulation that institutionalises it.", (PDF,), 20 * MB
        ),
        DocumentKind(
            "budget_document", "A budget line (DPA, RKA) that funds it.", (PDF, XLSX), 20 * MB
        ),
        DocumentKind("photo", "A photo of it at work.", (JPEG, PNG, WEBP), 10 * MB),
        DocumentKind("report", "A report of its results.", (PDF, DOCX), 50 * MB),
        DocumentKind(
            "other", "Anything else that documents it.", (PDF, JPEG, PNG, DOCX, XLSX, PPTX), 50 * MB
        ),
    )
}


def cap(kind: DocumentKind, overall: int) -> int:
    """The kind's cap, never above the service's (DOCUMENTS_MAX_BYTES)."""
    return min(kind.max_bytes, overall)
