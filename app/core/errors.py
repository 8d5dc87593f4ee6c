"""RFC 9457 problem details: one error hierarchy, one renderer, one database-error mapping.

Domain code raises an `AppError` subclass with a stable machine `code`; the handlers here turn it
(and every framework or database error) into `application/problem+json`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.exc import DBAPIError, IntegrityError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from app.core.dates import UtcDateTime, jsonable
from app.core.routing import allowed_methods

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:inovasi:problem:"


class EntryShortOfEvaluators(BaseModel):
    """An entry that cannot get the evaluators asked for without a conflict of interest."""

    submission_id: uuid.UUID
    eligible: int = Field(description="The panel's evaluators it may get.")


Absent = SkipJsonSchema[None]
"""The type of an optional member's absence: with `optional()`, the member is left out of the
JSON when it has no value, and the document says so (not required, no `null`, no default)."""


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _closed(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties", None)


def _is_absent(value: object) -> bool:
    return value is None


def optional(description: str | None = None) -> Any:
    """An optional member, left out of the JSON when it has no value, wherever the model is
    serialized (a `ProblemFieldError` in a sync item's result too), and never `null`:
    generators then type it as optional (`T | undefined`), not as present and nullable."""
    return Field(
        default=None,
        description=description,
        exclude_if=_is_absent,
        json_schema_extra=_no_default,
    )


class ProblemFieldError(BaseModel):
    """One invalid input: where it is and what is wrong with it."""

    pointer: str | Absent = optional(
        "JSON pointer into the request body (RFC 6901), for body errors."
    )
    parameter: str | Absent = optional(
        "Name of the query, path or header parameter, for those errors."
    )
    location: str = Field(description="body, query, path or header.")
    code: str = Field(description="Stable machine code of the failed rule, e.g. `missing`.")
    message: str


class BrokenRule(BaseModel):
    """One rule a refused request broke (`Problem.problems`), with where it applies."""

    code: str = Field(
        description="Stable machine code of the rule, e.g. `competition.weights_not_100`.",
        examples=["competition.weights_not_100"],
    )
    message: str
    round_id: uuid.UUID | Absent = optional(
        "`competition.weights_not_100`: the round whose criteria weights are wrong."
    )
    group_id: uuid.UUID | Absent = optional(
        "`competition.weights_not_100`: the group whose criteria weights are wrong."
    )
    weight_sum: int | Absent = optional(
        "`competition.weights_not_100`: what the weights sum to (0: no criteria)."
    )
    missing: list[uuid.UUID] | Absent = optional(
        "`submission.answers_missing`: the criteria not answered."
    )
    cap: int | Absent = optional(
        "`submission.over_cap`: the group's cap of entries per institution."
    )
    taken: int | Absent = optional(
        "`submission.over_cap`: the institution's entries that count against it."
    )


class Problem(BaseModel):
    """An error, as RFC 9457 problem details with a stable `code`. `type`, `title`, `status`
    and `code` are always there; every other member only where its description says, and
    absent (never `null`) otherwise."""

    # RFC 9457 lets a problem type add members: one not declared here would be kept, not
    # refused (tests/contract checks that every one the code adds is declared, so the document
    # does not promise undeclared members to clients: no `additionalProperties`).
    model_config = ConfigDict(extra="allow", json_schema_extra=_closed)

    type: str = Field(description="URI naming the problem type: `urn:inovasi:problem:<code>`.")
    title: str
    status: int
    detail: str | Absent = optional("What went wrong, for a person to read.")
    instance: str | Absent = optional("The request path.")
    code: str = Field(description="Stable machine code, e.g. `institution.not_found`.")
    request_id: str | Absent = optional("The request's `X-Request-ID`, as in the logs.")
    errors: list[ProblemFieldError] | Absent = optional(
        "Invalid input (422, and a sync item's refusal): each invalid field or parameter, "
        "with where it is."
    )
    problems: list[BrokenRule] | Absent = optional(
        "A refusal that checks several rules at once (an entry's rules, an edition's "
        "readiness, a decree) lists every rule broken, each with its own `code`."
    )
    current_status: str | Absent = optional(
        "A step the record's status does not allow: that status."
    )
    allowed_actions: list[str] | Absent = optional(
        "A step the record's status does not allow: those it does."
    )
    current_version: int | Absent = optional(
        "412 `*.version_mismatch`: the record's current version."
    )
    competition_status: str | Absent = optional(
        "A step the competition's status does not allow now: that status."
    )
    active_hub_id: uuid.UUID | Absent = optional(
        "`hub.host_has_active_hub`: the host's hub that is active."
    )
    member_id: uuid.UUID | Absent = optional("`hub_member.already_member`: the current membership.")
    replication_id: uuid.UUID | Absent = optional(
        "`replication.already_active`, `replication.replica_taken`: the replication in the way."
    )
    conflict: str | Absent = optional("`assignment.conflict_of_interest`: the kind of conflict.")
    entries: list[EntryShortOfEvaluators] | Absent = optional(
        "`assignment.not_enough_evaluators`: the entries that cannot get enough evaluators."
    )
    unscored_assignments: list[uuid.UUID] | Absent = optional(
        "`round.unscored`: the assignments not submitted."
    )
    unassigned_submissions: list[uuid.UUID] | Absent = optional(
        "`round.unscored`: the entries without an evaluator."
    )
    objections_close_at: UtcDateTime | Absent = optional(
        "`objection.window_closed`: when the window closed."
    )
    missing: list[uuid.UUID] | Absent = optional(
        "`submission.answers_missing` (the first rule broken): the criteria not answered."
    )
    cap: int | Absent = optional("`submission.over_cap` (the first rule broken): the cap.")
    max_bytes: int | Absent = optional("`document.too_large`: the largest size allowed, in bytes.")
    allowed: list[str] | Absent = optional(
        "`document.media_type_not_allowed`: the media types the kind allows."
    )
    quota_bytes: int | Absent = optional("`document.quota_exceeded`: the institution's quota.")
    used: int | Absent = optional("`document.quota_exceeded`: the bytes its documents take.")
    sent_at: UtcDateTime | Absent = optional("`mailing.already_sent`: when it was sent.")
    taken: int | Absent = optional(
        "`submission.over_cap` (the first rule broken): the entries that count against it."
    )


class AppError(Exception):
    """Base of every error the service reports on purpose."""

    status: int = 500
    default_code: str = "internal_error"

    def __init__(
        self,
        code: str | None = None,
        detail: str | None = None,
        *,
        errors: Sequence[ProblemFieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(detail or self.code)


class BadRequest(AppError):
    status = 400
    default_code = "request.bad"


class Unauthorized(AppError):
    status = 401
    default_code = "auth.unauthenticated"

    def __init__(
        self, code: str | None = None, detail: str | None = None, *, bearer_error: str | None = None
    ) -> None:
        """`bearer_error`: the RFC 6750 error for a bearer credential that was sent but is not
        accepted (`invalid_request`: malformed header; `invalid_token`: bad, revoked or expired);
        none when no credential was sent or the failure is not about one (sign-in)."""
        challenge = f'Bearer error="{bearer_error}"' if bearer_error else "Bearer"
        super().__init__(code, detail, headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    status = 403
    default_code = "auth.forbidden"


class NotFound(AppError):
    status = 404
    default_code = "not_found"


class Conflict(AppError):
    status = 409
    default_code = "conflict"


def invalid_transition(
    code: str,
    action: str,
    subject: str,
    current: str,
    allowed: Sequence[str],
    targets: Mapping[str, str] | None = None,
) -> Conflict:
    """409 for an action the record's status does not allow: names the status and the actions
    it allows (`current_status`, `allowed_actions`), the same for every lifecycle; `targets`
    (action -> the status it leads to) adds where each allowed action leads."""
    names = [f"{a} (to {targets[a]})" if targets else a for a in allowed]
    return Conflict(
        code,
        f"Cannot {action}: {subject} is {current}; allowed: "
        f"{', '.join(names) or 'nothing (it is final)'}.",
        extra={"current_status": current, "allowed_actions": list(allowed)},
    )


class Gone(AppError):
    status = 410
    default_code = "gone"


class PreconditionFailed(AppError):
    status = 412
    default_code = "precondition_failed"


class PreconditionRequired(AppError):
    """428 (RFC 6585): the write must be conditional, and no `If-Match` was sent."""

    status = 428
    default_code = "precondition_required"


class PayloadTooLarge(AppError):
    status = 413
    default_code = "request.too_large"


class UnsupportedMediaType(AppError):
    status = 415
    default_code = "request.unsupported_media_type"


class Unprocessable(AppError):
    status = 422
    default_code = "validation_failed"


class TooManyRequests(AppError):
    """Over a rate limit; `Retry-After` says how many seconds until the caller may try again."""

    status = 429
    default_code = "rate_limit.exceeded"

    def __init__(
        self, code: str | None = None, detail: str | None = None, *, retry_after: int
    ) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(code, detail, headers={"Retry-After": str(self.retry_after)})


class ServiceUnavailable(AppError):
    status = 503
    default_code = "service_unavailable"


_END = (".", "!", "?", ":")


def sentence(message: str) -> str:
    """`message` as one sentence: trimmed, stray separators (`;`, `,`) and repeated full stops
    at its end dropped, a full stop added when it has none."""
    text = message.strip().rstrip(";, ").rstrip()
    while text.endswith(".."):
        text = text[:-1]
    return text if text.endswith(_END) else text + "."


def join_messages(messages: Iterable[str], lead: str | None = None) -> str:
    """Several messages as one `detail`, the way every place that joins messages writes them:
    each a sentence of its own, separated by one space, after `lead` when given
    (`"Registration cannot open:"`). Never `.;`, `..` or a message run into the next."""
    sentences = [sentence(m) for m in messages if m.strip()]
    return " ".join([lead.strip(), *sentences] if lead else sentences)


def field_error(pointer: str, code: str, message: str) -> ProblemFieldError:
    """A body field error at a JSON pointer such as `/region_code`."""
    return ProblemFieldError(pointer=pointer, location="body", code=code, message=message)


def invalid_field(code: str, pointer: str, message: str) -> Unprocessable:
    """A 422 for one body field that breaks a rule, with the field's JSON pointer."""
    return Unprocessable(code, message, errors=[field_error(pointer, code, message)])


def invalid_parameter(code: str, parameter: str, message: str) -> Unprocessable:
    """A 422 for one query parameter that breaks a rule (the filters agree with each other)."""
    error = ProblemFieldError(parameter=parameter, location="query", code=code, message=message)
    return Unprocessable(code, message, errors=[error])


def problem_response(
    request: Request | None,
    status: int,
    code: str,
    detail: str | None = None,
    *,
    errors: Sequence[ProblemFieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    # The extension members go through the model too: the body is what the document says.
    body = Problem.model_validate(
        {
            **jsonable(extra or {}),  # instants in UTC with `Z`
            "type": PROBLEM_TYPE_PREFIX + code,
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "instance": request.url.path if request is not None else instance,
            "code": code,
            "request_id": correlation_id.get(),
            "errors": list(errors) if errors is not None else None,
        }
    ).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


# --- database integrity errors -------------------------------------------------------------


@dataclass(frozen=True)
class ConstraintError:
    """How a named database constraint violation is reported."""

    status: int
    code: str
    detail: str
    pointer: str | None = None


_CONSTRAINTS: dict[str, ConstraintError] = {}


def register_constraint_errors(mapping: dict[str, ConstraintError]) -> None:
    """Domains name their constraints and say how a violation reads to the caller."""
    _CONSTRAINTS.update(mapping)


def _sqlstate_and_constraint(exc: DBAPIError) -> tuple[str | None, str | None]:
    orig = exc.orig
    cause = getattr(orig, "__cause__", None) or orig
    return getattr(cause, "sqlstate", None), getattr(cause, "constraint_name", None)


def integrity_problem(exc: DBAPIError) -> AppError:
    """Map a database error to the error the caller should see (never a 500 for bad input)."""
    sqlstate, constraint = _sqlstate_and_constraint(exc)
    known = _CONSTRAINTS.get(constraint or "")
    if known is not None:
        errors = [field_error(known.pointer, known.code, known.detail)] if known.pointer else None
        cls = {404: NotFound, 409: Conflict, 422: Unprocessable}.get(known.status, Conflict)
        return cls(known.code, known.detail, errors=errors)
    if sqlstate == "23505":
        return Conflict(
            "conflict.duplicate", "A record with the same unique values already exists."
        )
    if sqlstate == "23001":  # restrict_violation: PostgreSQL 18 reports ON DELETE RESTRICT so
        return Conflict("conflict.in_use", "The record is still referenced by other records.")
    if sqlstate == "23503":
        text = str(exc.orig)
        detail = str(getattr(getattr(exc.orig, "__cause__", None), "detail", "") or "")
        if "update or delete on table" in text or "is still referenced" in detail:
            return Conflict("conflict.in_use", "The record is still referenced by other records.")
        return Unprocessable("reference.not_found", "A referenced record does not exist.")
    # character_not_in_repertoire (a NUL in a text value), untranslatable_character (a NUL
    # escape inside jsonb): request bodies are checked first (app.core.texts); this is the net.
    if sqlstate in ("22021", "22P05"):
        return Unprocessable(
            "validation_failed", "A text value contains a character that cannot be stored (NUL)."
        )
    if sqlstate in ("23514", "23502", "22001", "22003", "22007", "22008", "22P02"):
        return Unprocessable("validation_failed", "A value is not acceptable for this record.")
    if sqlstate == "23P01":
        return Conflict("conflict.overlap", "The record overlaps an existing one.")
    if sqlstate == "40001" or sqlstate == "40P01":
        return Conflict("conflict.concurrent_update", "A concurrent change interfered; retry.")
    if sqlstate == "57014":
        return ServiceUnavailable("database.timeout", "The database took too long to answer.")
    return AppError()


# --- validation errors ----------------------------------------------------------------------


def _pointer(loc: Iterable[Any]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts) if parts else ""


def validation_field_errors(raw: Sequence[Any]) -> list[ProblemFieldError]:
    out: list[ProblemFieldError] = []
    for err in raw:
        loc = list(err.get("loc", ()))
        where = str(loc[0]) if loc else "body"
        rest = loc[1:]
        message = str(err.get("msg", "invalid"))
        code = str(err.get("type", "invalid"))
        if where == "body":
            out.append(
                ProblemFieldError(
                    pointer=_pointer(rest), location="body", code=code, message=message
                )
            )
        else:
            out.append(
                ProblemFieldError(
                    parameter=".".join(str(p) for p in rest) or None,
                    location=where,
                    code=code,
                    message=message,
                )
            )
    return out


# --- handlers -------------------------------------------------------------------------------


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if exc.status == 503:
        # Expected while the database is away or busy, or the service stops: the cause was
        # logged where it was seen (a warning), not an error of the service.
        logger.info("request answered 503: %s", exc.code)
    elif exc.status >= 500:
        logger.error("request failed: %s", exc.code, exc_info=exc)
    return problem_response(
        request,
        exc.status,
        exc.code,
        exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response(
            request, 400, "request.malformed_json", "The request body is not valid JSON."
        )
    return problem_response(
        request,
        422,
        "validation_failed",
        "The request is not valid; see `errors`.",
        errors=validation_field_errors(raw),
    )


_HTTP_CODES = {
    400: "request.bad",
    401: "auth.unauthenticated",
    403: "auth.forbidden",
    404: "route.not_found",
    405: "method.not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404:
        detail = f"No route matches {request.url.path}."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = allowed_methods(request.app, request.url.path)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}."
    return problem_response(request, exc.status_code, code, detail, headers=headers)


def database_unavailable(
    detail: str = "The database cannot be reached; retry.",
) -> ServiceUnavailable:
    """The 503 of a database that cannot serve now: down, starting, stopping, full, or the
    connection to it lost. Retrying soon is right: `Retry-After: 1`."""
    return ServiceUnavailable("database.unavailable", detail, headers={"Retry-After": "1"})


# The server refuses connections while it starts, stops or is full (class 57P, 53300), or a
# connection could not be made or was lost (class 08): unavailable for now, not an error of the
# request.
_UNREACHABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# SQLAlchemy's PendingRollbackError for a connection invalidated (a disconnect) inside a
# transaction that was not rolled back yet; the Session's own PendingRollbackError (a failed
# flush not rolled back, a bug) has another code and stays a 500.
_INVALIDATED_IN_TRANSACTION = "8s2b"
# Driver modules: an `OSError` raised from inside them is a connection that could not be made
# or was lost (refused, reset, a missing Unix socket, the connect timeout), not a file error.
_DRIVER_MODULES = ("asyncpg.", "sqlalchemy.pool", "sqlalchemy.dialects", "sqlalchemy.connectors")


def _raised_by_database_driver(exc: BaseException) -> bool:
    """Whether the error came out of the database driver or pool (a refused or timed-out
    connection is a plain `OSError` from asyncpg, not a DBAPI error)."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The error, the errors it wraps (a DBAPI error's `orig`) and their causes and contexts."""
    seen: set[int] = set()
    pending = [exc]
    while pending and len(seen) < 16:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)


def _says_unavailable(exc: BaseException) -> str | None:
    """Why this one error (not its chain) means the database cannot serve now, or None."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "The connection to the database was lost; retry."
    if isinstance(exc, PendingRollbackError) and exc.code == _INVALIDATED_IN_TRANSACTION:
        return "The connection to the database was lost; retry."
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate in _UNREACHABLE_SQLSTATES or sqlstate[:2] == "08"):
        return "The database cannot be reached; retry."
    if isinstance(exc, OSError) and _raised_by_database_driver(exc):
        return "The database cannot be reached; retry."
    return None


def unavailability(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 `database.unavailable` for an error that says the database cannot serve now
    (refused or reset connections, a missing socket, the connect timeout, a server starting,
    stopping or full, a connection lost, a transaction on a lost connection), wherever it
    surfaced and however it was wrapped; None for any other error."""
    for linked in _chain(exc):
        detail = _says_unavailable(linked)
        if detail is not None:
            return database_unavailable(detail)
    return None


def _describe(exc: BaseException) -> str:
    """One line naming the driver's error (no traceback: an outage repeats it per request)."""
    cause = exc
    for linked in _chain(exc):
        cause = linked
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"


def log_unavailable(exc: BaseException) -> None:
    """A warning per request while the database is away, with the driver's error on one line;
    the traceback only at DEBUG."""
    logger.warning("database unavailable: %s", _describe(exc))
    logger.debug("database unavailable", exc_info=exc)


async def _os_error(request: Request, exc: Exception) -> Response:
    """A database that cannot be reached (down, restarting, address unreachable): 503; any
    other `OSError` is unexpected (500)."""
    unavailable = unavailability(exc)
    if unavailable is None:
        raise exc
    log_unavailable(exc)
    return await _app_error(request, unavailable)


async def _db_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    unavailable = unavailability(exc)
    if unavailable is not None:
        # After a lost connection the pool has dropped it and its other connections of that
        # age; the next request gets a fresh one. Connections are not pinged before each use
        # (it costs a round trip a request, bench/README.md).
        log_unavailable(exc)
        return await _app_error(request, unavailable)
    mapped = integrity_problem(exc)
    if mapped.status >= 500:
        logger.error("database error", exc_info=exc)
    return await _app_error(request, mapped)


async def _pool_timeout(request: Request, exc: Exception) -> Response:
    """Every database connection stayed busy for the pool timeout: overloaded, not broken."""
    logger.warning("database pool exhausted", exc_info=exc)
    return await _app_error(
        request,
        ServiceUnavailable(
            "database.busy",
            "The service is too busy to reach its database; retry shortly.",
            headers={"Retry-After": "5"},
        ),
    )


def unhandled_error_response(request: Request, exc: Exception) -> Response:
    """Log an unexpected error once, with the request id, and answer 500 `internal_error`.

    Called by `UnhandledErrorMiddleware` (app.core.middleware), inside the request-id, CORS and
    access-log middleware, so the response gets their headers and its status is logged; the
    error does not travel on to Starlette's ServerErrorMiddleware, which would re-raise it for
    the server to log a second time."""
    unavailable = unavailability(exc)
    if unavailable is not None:
        # The database went away where no handler looked for it (a raw driver error, a
        # middleware): still a 503, never a 500.
        log_unavailable(exc)
        return problem_response(
            request,
            unavailable.status,
            unavailable.code,
            unavailable.detail,
            headers=unavailable.headers,
        )
    request_id = correlation_id.get()
    logger.error(
        "unhandled error",
        exc_info=exc,
        extra={"request_id": request_id, "method": request.method, "path": request.url.path},
    )
    return problem_response(request, 500, "internal_error", "An unexpected error occurred.")


async def _unhandled(request: Request, exc: Exception) -> Response:
    """The last resort, for an error in a middleware outside `UnhandledErrorMiddleware`:
    Starlette's ServerErrorMiddleware sends this response (outside the request-id middleware,
    so the header is set here) and then re-raises the error to the server."""
    response = unhandled_error_response(request, exc)
    request_id = correlation_id.get()
    if request_id:
        response.headers["X-Request-ID"] = request_id
    return response


def install_error_handlers(app: FastAPI) -> None:
    handlers: dict[type[Exception], Callable[[Request, Exception], Any]] = {
        AppError: _app_error,
        RequestValidationError: _validation_error,
        StarletteHTTPException: _http_error,
        IntegrityError: _db_error,
        DBAPIError: _db_error,
        PoolTimeout: _pool_timeout,
        OSError: _os_error,
        Exception: _unhandled,
    }
    for exc_type, handler in handlers.items():
        app.add_exception_handler(exc_type, handler)
