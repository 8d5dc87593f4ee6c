"""Optimistic concurrency over HTTP: ETag from `version`, If-None-Match (304), If-Match (412 when
stale; 428 when a PATCH, PUT or DELETE of a versioned record sends none).

The If-Match check runs in the service, after the record and the caller's rights to it are
known, so a caller who may not write the record gets 401/403/404 and never learns more from a
428. `If-Match: *` is a conditional request (RFC 9110 13.1.1: true while the record exists), so
it satisfies the requirement: a client that sends it says, on purpose, "whatever is current".
"""

from __future__ import annotations

import re
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Header, Response
from pydantic import BaseModel

from app.core.errors import AppError, PreconditionFailed, PreconditionRequired

_ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')


def etag(version: int) -> str:
    return f'"{version}"'


class NotModified(AppError):
    """Raised by a GET when the caller's If-None-Match still matches; rendered as a bare 304."""

    status = 304
    default_code = "not_modified"

    def __init__(self, tag: str) -> None:
        super().__init__(headers={"ETag": tag})


def _versions(header: str, *, strong: bool = False) -> set[int] | None:
    """Versions named by an If-Match / If-None-Match header; None means `*`.

    `strong`: If-Match compares strongly (RFC 9110 13.1.1), so a weak tag (`W/"3"`) names none.
    """
    if header.strip() == "*":
        return None
    found: set[int] = set()
    for part in header.split(","):
        part = part.strip()
        if strong and part.startswith("W/"):
            continue
        match = _ETAG.match(part)
        if match:
            found.add(int(match.group(1)))
    return found


class Preconditions:
    """The conditional headers of a request, applied to a record's current version.

    `required`: the write must name the version it is based on (428 without `If-Match`);
    internal callers (the demo seed) pass none and are not required to.
    """

    def __init__(
        self, if_match: str | None, if_none_match: str | None, *, required: bool = False
    ) -> None:
        self.if_match = if_match
        self.if_none_match = if_none_match
        self.required = required

    def check_not_modified(self, version: int) -> None:
        if self.if_none_match is None:
            return
        versions = _versions(self.if_none_match)
        if versions is None or version in versions:
            raise NotModified(etag(version))

    def check_match(self, version: int, *, entity: str) -> None:
        """Call only once the caller is known to be allowed to write the record."""
        if self.if_match is None:
            if self.required:
                raise PreconditionRequired(
                    "precondition_required",
                    f"This change to the {entity} must be conditional: send `If-Match` with the "
                    "ETag of the version it is based on (GET the record for it).",
                )
            return
        versions = _versions(self.if_match, strong=True)
        if versions is not None and version not in versions:
            raise PreconditionFailed(
                f"{entity}.version_mismatch",
                f"The {entity} has changed (current version {version}); "
                "fetch it again and retry with its ETag.",
                extra={"current_version": version},
            )


async def if_match_header(
    if_match: Annotated[
        str | None,
        Header(description="ETag of the version this change is based on; 412 if it is stale."),
    ] = None,
) -> Preconditions:
    return Preconditions(if_match, None)


IF_MATCH_REQUIRED_DESCRIPTION = (
    "ETag of the version this change is based on (required: 428 without it; 412 if it is "
    "stale). `*` matches any current version."
)


async def if_match_required_header(
    if_match: Annotated[str | None, Header(description=IF_MATCH_REQUIRED_DESCRIPTION)] = None,
) -> Preconditions:
    """If-Match of a PATCH, PUT or DELETE. Optional to FastAPI (a missing header must not be a
    422 decided before authorization), declared required in the OpenAPI document."""
    return Preconditions(if_match, None, required=True)


IF_NONE_MATCH_DESCRIPTION = "ETag the caller already has; 304 if still current."
IfNoneMatchHeader = Annotated[str | None, Header(description=IF_NONE_MATCH_DESCRIPTION)]


async def if_none_match_header(if_none_match: IfNoneMatchHeader = None) -> Preconditions:
    return Preconditions(None, if_none_match)


IfMatchDep = Annotated[Preconditions, Depends(if_match_header)]
IfMatchRequiredDep = Annotated[Preconditions, Depends(if_match_required_header)]
IfNoneMatchDep = Annotated[Preconditions, Depends(if_none_match_header)]


class Versioned(Protocol):
    """A record with a version: its ETag."""

    @property
    def version(self) -> int: ...


BodyT = TypeVar("BodyT")
ReadT = TypeVar("ReadT", bound=BaseModel)


def versioned(response: Response, record: Versioned, body: BodyT) -> BodyT:
    """`body` with the record's ETag set on the response: every read and write of a versioned
    record answers with the version it reached."""
    response.headers["ETag"] = etag(record.version)
    return body


def read_versioned(schema: type[ReadT], record: Versioned, response: Response) -> ReadT:
    """The record read as `schema`, with its ETag."""
    return versioned(response, record, schema.model_validate(record))
