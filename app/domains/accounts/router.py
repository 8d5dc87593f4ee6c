from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.core.openapi import problems
from app.core.pagination import PageDep
from app.core.security import ALL_ROLES, Access, Principal
from app.db.session import SessionDep
from app.domains.accounts import service
from app.domains.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyFilter,
    ApiKeyPage,
    ApiKeyRead,
    ApiKeySort,
    PrincipalRead,
)
from app.models.enums import Role

router = APIRouter(tags=["identity"])

anyone_signed_in = Access(*ALL_ROLES)
key_managers = Access(
    Role.secretariat_admin,
    Role.local_admin,
    scope="a local admin sees and issues only its own institution's unit_operator and "
    "regional_system keys; other keys are 404.",
)
KeyManager = Annotated[Principal, Depends(key_managers)]


@router.get("/me")
async def get_me(principal: Annotated[Principal, Depends(anyone_signed_in)]) -> PrincipalRead:
    """Who the service takes the caller to be: role and scope."""
    return PrincipalRead.model_validate(principal)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, responses=problems(409))
async def create_api_key(
    session: SessionDep, principal: KeyManager, body: ApiKeyCreate
) -> ApiKeyCreated:
    """Issue an API key. The secret is in this response only; the service keeps a digest."""
    issued = await service.issue_api_key(session, principal, body)
    return ApiKeyCreated(**ApiKeyRead.model_validate(issued.key).model_dump(), secret=issued.secret)


@router.get("/api-keys", responses=problems(400))
async def list_api_keys(
    session: SessionDep,
    principal: KeyManager,
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
    session: SessionDep, principal: KeyManager, api_key_id: uuid.UUID
) -> ApiKeyRead:
    """Get one API key's metadata."""
    return ApiKeyRead.model_validate(await service.get_api_key(session, principal, api_key_id))


@router.delete(
    "/api-keys/{api_key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404)
)
async def revoke_api_key(session: SessionDep, principal: KeyManager, api_key_id: uuid.UUID) -> None:
    """Revoke an API key; it is refused from the next request on."""
    await service.revoke_api_key(session, principal, api_key_id)
