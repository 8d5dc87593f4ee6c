"""Read a multipart/form-data upload as it arrives: the file part streamed to the store's
temporary file (never held whole in memory), the few text fields kept, every limit checked
while reading (413 as soon as the file is too large, not after)."""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import ParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from app.core.errors import (
    AppError,
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    invalid_field,
)
from app.domains.documents.storage import FileStore, Incoming

_MAX_FIELD_BYTES = 1024
_MAX_FIELDS = 10
_FILE_FIELD = "file"


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    file: Incoming | None = None
    file_name: str | None = None
    declared_type: str | None = None


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    file_name: str | None = None
    value: bytearray = field(default_factory=bytearray)
    is_file: bool = False


async def receive(request: Request, store: FileStore, limit: int) -> Upload:
    """The upload's fields and its one file (written to a temporary file of `store`). On any
    failure the temporary file is removed and the error raised."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise UnsupportedMediaType(
            "document.multipart_required",
            "Upload the file as multipart/form-data (a `file` part and the fields).",
        )
    upload = Upload()
    pending: list[bytes] = []
    current: list[_Part] = []
    header_name = bytearray()
    header_value = bytearray()
    errors: list[AppError] = []

    def on_part_begin() -> None:
        current.append(_Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        current[-1].headers[header_name.decode("latin-1").lower()] = header_value.decode("latin-1")
        header_name.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        part = current[-1]
        _, disposition = parse_options_header(part.headers.get("content-disposition", ""))
        name = disposition.get(b"name")
        part.name = name.decode("utf-8", "replace") if name is not None else None
        raw_file_name = disposition.get(b"filename")
        if part.name == _FILE_FIELD:
            if upload.file_name is not None:
                errors.append(
                    invalid_field("document.one_file", "/file", "Upload one file at a time.")
                )
                return
            part.is_file = True
            upload.file_name = (
                raw_file_name.decode("utf-8", "replace") if raw_file_name is not None else ""
            )
            upload.declared_type = part.headers.get("content-type", "").split(";")[0].strip()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = current[-1]
        if part.is_file:
            pending.append(data[start:end])
            return
        part.value.extend(data[start:end])
        if len(part.value) > _MAX_FIELD_BYTES:
            errors.append(
                invalid_field(
                    "document.field_too_long",
                    f"/{part.name}",
                    f"A field holds at most {_MAX_FIELD_BYTES} bytes.",
                )
            )

    def on_part_end() -> None:
        part = current.pop()
        if part.is_file or part.name is None:
            return
        if len(upload.fields) >= _MAX_FIELDS:
            errors.append(BadRequest("document.too_many_fields", "Too many form fields."))
            return
        try:
            upload.fields[part.name] = part.value.decode("utf-8")
        except UnicodeDecodeError:
            errors.append(
                invalid_field("document.field_encoding", f"/{part.name}", "Send UTF-8 text.")
            )

    parser = MultipartParser(
        options[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    incoming = await store.incoming()
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if errors:
                raise errors[0]
            for data in pending:
                if incoming.size + len(data) > limit:
                    raise PayloadTooLarge(
                        "document.too_large", f"A document may have at most {limit} bytes."
                    )
                await incoming.write(data)
            pending.clear()
        parser.finalize()
        if errors:
            raise errors[0]
    except ClientDisconnect:
        await incoming.discard()
        raise
    except ParseError as exc:
        await incoming.discard()
        raise BadRequest("document.malformed", "The multipart body is malformed.") from exc
    except BaseException:
        await incoming.discard()
        raise
    await incoming.close()
    if upload.file_name is None:
        await incoming.discard()
        raise invalid_field("document.file_required", "/file", "Send the file in a `file` part.")
    upload.file = incoming
    return upload
