"""Optimistic concurrency over HTTP: ETag from `version`, If-None-Match (304), If-Match (412)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header

from app.core.errors import AppError, PreconditionFailed

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
    """The conditional headers of a request, applied to a record's current version."""

    def __init__(self, if_match: str | None, if_none_match: str | None) -> None:
        self.if_match = if_match
        self.if_none_match = if_none_match

    def check_not_modified(self, version: int) -> None:
        if self.if_none_match is None:
            return
        versions = _versions(self.if_none_match)
        if versions is None or version in versions:
            raise NotModified(etag(version))

    def check_match(self, version: int, *, entity: str) -> None:
        if self.if_match is None:
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


IF_NONE_MATCH_DESCRIPTION = "ETag the caller already has; 304 if still current."
IfNoneMatchHeader = Annotated[str | None, Header(description=IF_NONE_MATCH_DESCRIPTION)]


async def if_none_match_header(if_none_match: IfNoneMatchHeader = None) -> Preconditions:
    return Preconditions(None, if_none_match)


IfMatchDep = Annotated[Preconditions, Depends(if_match_header)]
IfNoneMatchDep = Annotated[Preconditions, Depends(if_none_match_header)]
