from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.core.concurrency import IfMatchRequiredDep, IfNoneMatchDep, read_versioned
from app.core.errors import BadRequest
from app.core.openapi import component, not_modified, problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.query import BLANK_SEARCH, SearchText
from app.core.ratelimit import RateLimiter
from app.core.security import CurrentPrincipal
from app.db.session import SessionDep
from app.domains.accounts import service
from app.domains.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyFilter,
    ApiKeyPage,
    ApiKeyRead,
    ApiKeySort,
    PasswordChange,
    PrincipalRead,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserFilter,
    UserPage,
    UserRead,
    UserSort,
    UserUpdate,
)
from app.models.enums import Role

router = APIRouter(tags=["identity"], route_class=PolicyRoute)

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


class PasswordGrantForm(BaseModel):
    """The OAuth 2 password grant (RFC 6749 section 4.3), as Swagger UI's Authorize sends it."""

    model_config = ConfigDict(extra="ignore")

    grant_type: Literal["password"] = "password"
    username: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)
    ] = Field(description="The account's email.")
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


def _limiter(request: Request) -> RateLimiter | None:
    return getattr(request.app.state, "rate_limiter", None)


def _client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


_TOKEN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": component(TokenRequest)},
            FORM_MEDIA_TYPE: {"schema": component(PasswordGrantForm)},
        },
    }
}


async def _token_request(request: Request) -> TokenRequest:
    """Read the credentials from a JSON body, or from an OAuth 2 password-grant form."""
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        if media == FORM_MEDIA_TYPE:
            form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
            if form.get("grant_type", "password") != "password":
                raise BadRequest(
                    "auth.unsupported_grant_type", "Only the password grant is supported."
                )
            grant = PasswordGrantForm.model_validate(form)
            return TokenRequest(email=grant.username, password=grant.password)
        if not raw:
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
            )
        return TokenRequest.model_validate_json(raw)
    except UnicodeDecodeError as exc:
        raise BadRequest("request.bad", "The form is not valid UTF-8.") from exc
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise BadRequest(
                "request.malformed_json", "The request body is not valid JSON."
            ) from exc
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


@router.post(
    "/auth/token",
    responses=problems(400, 401, 429),
    openapi_extra=_TOKEN_BODY,
)
async def create_access_token(request: Request, session: SessionDep) -> TokenResponse:
    """Sign in: exchange email and password for a short-lived access token.

    Send JSON `{"email", "password"}`, or the OAuth 2 password-grant form (`username`,
    `password`). Wrong credentials and disabled accounts get the same 401."""
    credentials = await _token_request(request)
    token = await service.create_access_token(
        session,
        request.app.state.settings,
        _limiter(request),
        credentials.email,
        credentials.password,
        _client_address(request),
    )
    return TokenResponse(access_token=token.token, expires_in=token.expires_in)


@router.get("/me")
async def get_me(principal: CurrentPrincipal) -> PrincipalRead:
    """Who the service takes the caller to be: a person or a key, role and scope."""
    return PrincipalRead.model_validate(principal)


@router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT, responses=problems(403, 429))
async def change_my_password(
    request: Request, session: SessionDep, principal: CurrentPrincipal, body: PasswordChange
) -> None:
    """Change your own password; tokens issued before stop working. Wrong current passwords
    count as failed sign-ins (429 after too many)."""
    await service.change_my_password(
        session, _limiter(request), principal, body, _client_address(request)
    )


# --- users ----------------------------------------------------------------------------------


@router.post("/users", status_code=status.HTTP_201_CREATED, responses=problems(409))
async def create_user(
    session: SessionDep, principal: CurrentPrincipal, body: UserCreate, response: Response
) -> UserRead:
    """Create a person's account (within the roles and scope the caller may grant)."""
    user = await service.create_user(session, principal, body)
    created = read_versioned(UserRead, user, response)
    response.headers["Location"] = f"/v1/users/{user.id}"
    return created


@router.get("/users", responses=problems(400))
async def list_users(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    role: Annotated[list[Role] | None, Query(description="Any of these roles.")] = None,
    institution_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    is_active: bool | None = None,
    q: Annotated[
        SearchText,
        Query(description="Name or email contains." + BLANK_SEARCH),
    ] = None,
    sort: UserSort = UserSort.name,
) -> UserPage:
    """List accounts in the caller's reach."""
    filters = UserFilter(
        role=role or [], institution_id=institution_id, unit_id=unit_id, is_active=is_active, q=q
    )
    result = await service.list_users(session, principal, filters, sort, page)
    return UserPage.model_validate(result, from_attributes=True)


@router.get("/users/{user_id}", responses={**problems(404), **not_modified()})
async def get_user(
    session: SessionDep,
    principal: CurrentPrincipal,
    user_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> UserRead:
    """Get one account."""
    user = await service.get_user(session, principal, user_id)
    cond.check_not_modified(user.version)
    return read_versioned(UserRead, user, response)


@router.patch("/users/{user_id}", responses=problems(404, 409, 412))
async def update_user(
    session: SessionDep,
    principal: CurrentPrincipal,
    user_id: uuid.UUID,
    body: UserUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> UserRead:
    """Change an account: name, email, unit, active flag, or set a new password."""
    user = await service.update_user(session, principal, user_id, body, cond)
    return read_versioned(UserRead, user, response)


# --- API keys -------------------------------------------------------------------------------


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, responses=problems(409))
async def create_api_key(
    session: SessionDep, principal: CurrentPrincipal, body: ApiKeyCreate
) -> ApiKeyCreated:
    """Issue an API key. The secret is in this response only; the service keeps a digest."""
    issued = await service.issue_api_key(session, principal, body)
    return ApiKeyCreated(**ApiKeyRead.model_validate(issued.key).model_dump(), secret=issued.secret)


@router.get("/api-keys", responses=problems(400))
async def list_api_keys(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    role: Annotated[list[Role] | None, Query()] = None,
    institution_id: Annotated[uuid.UUID | None, Query()] = None,
    revoked: Annotated[bool | None, Query()] = None,
    sort: ApiKeySort = ApiKeySort.created_at_desc,
) -> ApiKeyPage:
    """List API keys in the caller's reach (never their secrets)."""
    filters = ApiKeyFilter(role=role or [], institution_id=institution_id, revoked=revoked)
    result = await service.list_api_keys(session, principal, filters, sort, page)
    return ApiKeyPage.model_validate(result, from_attributes=True)


@router.get("/api-keys/{api_key_id}", responses=problems(404))
async def get_api_key(
    session: SessionDep, principal: CurrentPrincipal, api_key_id: uuid.UUID
) -> ApiKeyRead:
    """Get one API key's metadata."""
    return ApiKeyRead.model_validate(await service.get_api_key(session, principal, api_key_id))


@router.delete(
    "/api-keys/{api_key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404)
)
async def revoke_api_key(
    session: SessionDep, principal: CurrentPrincipal, api_key_id: uuid.UUID
) -> None:
    """Revoke an API key; it is refused from the next request on."""
    await service.revoke_api_key(session, principal, api_key_id)
