"""Who is calling: the principal a bearer credential resolves to, and the access policy every
operation carries.

Which credentials there are (API keys, access tokens) and how they are looked up is the
accounts domain's (`app.domains.accounts.credentials`): the app factory installs its resolver
(`install_credentials`), and the policy asks it once a request sends a bearer credential.

Policies live in one table (`app.core.policies.POLICIES`, keyed by operation id) and are attached
to routes by `PolicyRoute`, so the OpenAPI document and the authorization matrix test are
generated from the route table and a route without a policy cannot even be mounted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from fastapi import Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute

from app.core.errors import Forbidden, Unauthorized
from app.core.headers import request_header
from app.core.texts import check_json_body, route_checks_text
from app.models.enums import Role

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Principal:
    """The caller: a person (`user`) or a machine (`api_key`), a role and the scope it acts in."""

    kind: Literal["user", "api_key"]
    id: uuid.UUID
    role: Role
    name: str
    institution_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    hub_id: uuid.UUID | None = None
    email: str | None = None

    @property
    def is_secretariat(self) -> bool:
        return self.role is Role.secretariat_admin

    def acts_for(self, institution_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
        """A unit operator acts for its unit's records, a local admin for its institution's
        (submissions, replications); no other role does."""
        if self.role is Role.unit_operator:
            return self.unit_id is not None and self.unit_id == unit_id
        if self.role is Role.local_admin:
            return self.institution_id is not None and self.institution_id == institution_id
        return False

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.id if self.kind == "user" else None

    @property
    def api_key_id(self) -> uuid.UUID | None:
        return self.id if self.kind == "api_key" else None

    def institution_filter(self, requested: uuid.UUID | None) -> tuple[bool, uuid.UUID | None]:
        """Narrow a list's institution filter to the caller's reach: `(visible, institution_id)`.

        The secretariat keeps what it asked for; anyone else gets its own institution, and
        nothing (`visible` False) if it asked for another or has none: never an unfiltered list.
        """
        if self.is_secretariat:
            return True, requested
        if self.institution_id is None or requested not in (None, self.institution_id):
            return False, None
        return True, self.institution_id

    def reaches_institution(self, institution_id: uuid.UUID | None) -> bool:
        """Secretariat admins reach every institution; everyone else only their own."""
        return self.is_secretariat or (
            institution_id is not None and institution_id == self.institution_id
        )


def _bearer_token(request: Request) -> str | None:
    """The `Authorization: Bearer <token>` credential; None when the header is absent.

    Read here rather than through FastAPI's `HTTPBearer` dependency: every request pays for each
    dependency solved (bench/README.md), and the OpenAPI security schemes are written by
    `app.core.openapi` anyway.
    """
    header = request_header(request, b"authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "auth.malformed",
            "The Authorization header must be `Bearer <token>`.",
            bearer_error="invalid_request",
        )
    return token


class CredentialResolver(Protocol):
    """Turns a bearer credential into the principal it stands for, or raises the 401 that says
    why not (`Unauthorized` with `bearer_error="invalid_token"`).

    The accounts domain provides it (`app.domains.accounts.credentials.Credentials`); the app
    factory installs it with `install_credentials`, so core names no domain."""

    async def __call__(self, request: Request, credential: str) -> Principal: ...


def install_credentials(app: FastAPI, resolver: CredentialResolver) -> None:
    """The resolver every route's policy asks who a bearer credential belongs to."""
    app.state.credentials = resolver


class Scope(StrEnum):
    """How a role's reach is narrowed inside an operation."""

    everything = "everything"
    own_institution = "own institution"
    own_unit = "own unit"
    own_hub = "own hub"
    own_assignments = "own assignments"
    own_account = "own account"


class Access:
    """An operation's access policy: the roles that may call it, each with its scope, and
    whether anonymous callers may (they see published data only).

    `out_of_scope` is what a caller of an allowed role gets for a record outside its scope:
    404 where the caller may not even know the record exists, 403 where the record is public.
    """

    def __init__(
        self,
        rules: Mapping[Role, Scope] | None = None,
        *,
        anonymous: bool = False,
        out_of_scope: Literal[403, 404] = 404,
        note: str = "",
    ) -> None:
        self.rules: dict[Role, Scope] = dict(rules or {})
        self.roles = frozenset(self.rules)
        self.anonymous = anonymous
        self.out_of_scope = out_of_scope
        self.note = note

    @classmethod
    def public(cls, note: str = "") -> Access:
        """Anyone, signed in or not."""
        return cls(dict.fromkeys(Role, Scope.everything), anonymous=True, note=note)

    def dep(self) -> Any:
        """This policy as a route dependency (for routes built outside the policy table)."""
        return Depends(self)

    @property
    def scoped(self) -> bool:
        return any(scope is not Scope.everything for scope in self.rules.values())

    def describe(self) -> str:
        if self.anonymous:
            text = "Who may call: anyone, including anonymous callers."
        else:
            parts = [f"{role.value} ({scope.value})" for role, scope in sorted(self.rules.items())]
            text = f"Who may call: {', '.join(parts) or 'nobody'}."
            if self.scoped:
                text += f" Outside the caller's scope: {self.out_of_scope}."
        return text + (f" {self.note}" if self.note else "")

    async def __call__(self, request: Request) -> Principal | None:
        # One dependency, not a chain of them: each costs every request (bench/README.md).
        credential = _bearer_token(request)
        principal: Principal | None = None
        if credential is not None:
            resolve: CredentialResolver = request.app.state.credentials
            principal = await resolve(request, credential)
        if principal is None:
            if not self.anonymous:
                raise Unauthorized("auth.required", "This operation needs a bearer token.")
        elif not self.anonymous and principal.role not in self.roles:
            raise Forbidden(
                "auth.role_forbidden", f"The role {principal.role.value} may not do this."
            )
        limiter = getattr(request.app.state, "rate_limiter", None)
        if limiter is not None:
            await limiter.check_request(request, principal)
        request.state.principal = principal
        return principal


async def _required_principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # only a route outside the policy table can get here
        raise Unauthorized("auth.required", "This operation needs a bearer token.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_required_principal)]
"""The caller, once the route's policy has admitted it."""


def principal_of(request: Request) -> Principal | None:
    """The caller the route's policy admitted; None when anonymous."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal


async def _optional_principal(request: Request) -> Principal | None:
    return principal_of(request)


MaybePrincipal = Annotated[Principal | None, Depends(_optional_principal)]
"""The caller of an operation open to anonymous callers: None when anonymous."""


def policy_route_class(policies: Mapping[str, Access]) -> type[APIRoute]:
    """A route class that applies each operation's policy from `policies` (by operation id)."""

    class PolicyRoute(APIRoute):
        def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
            name = kwargs.get("name") or endpoint.__name__
            policy = policies.get(name)
            if policy is None:
                raise RuntimeError(f"operation {name} ({path}) has no access policy")
            self.policy: Access = policy
            self.checks_text = route_checks_text(endpoint)
            super().__init__(path, endpoint, **kwargs)

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            # The policy runs before FastAPI solves the route's parameters, as its first
            # dependency did, but without the cost of one more dependency every request
            # (bench/README.md). `app.core.openapi.route_policy` reads `self.policy`.
            # Then a body's texts are checked once for what PostgreSQL cannot store
            # (app.core.texts); the body read here is the one FastAPI parses (cached).
            handler = super().get_route_handler()
            policy = self.policy
            checks_text = self.checks_text and bool((self.methods or set()) & _BODY_METHODS)

            async def admitted(request: Request) -> Response:
                await policy(request)
                if checks_text:
                    check_json_body(await request.body())
                return await handler(request)

            return admitted

    return PolicyRoute
