"""The audit trail, generated from the route table: every write leaves exactly one event in the
request's own transaction (tagged with the response's request id), naming the right actor and
record and never a secret; reads, refused writes and rolled-back requests leave none."""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api import ROUTERS
from app.core.errors import Conflict
from app.core.openapi import iter_api_routes
from app.core.pagination import CursorSigner, PageRequest
from app.core.security import Access, Principal, Scope
from app.db.session import SessionDep
from app.domains.accounts.schemas import ApiKeyFilter, ApiKeySort, UserFilter, UserSort
from app.domains.accounts.service import list_api_keys, list_users
from app.domains.audit import service as audit
from app.domains.audit.schemas import (
    AuditAction,
    AuditEntityType,
    AuditEventFilter,
    AuditEventSort,
)
from app.domains.audit.service import list_audit_events
from app.domains.competitions.schemas import CompetitionAction
from app.domains.hub_activities.schemas import HubActivityAction
from app.domains.hubs.schemas import HubAction
from app.domains.institutions.schemas import InstitutionCreate
from app.domains.institutions.service import create_institution
from app.domains.maturity.schemas import MaturityInstrumentAction, ReviewAction
from app.domains.replications.schemas import ReplicationAction
from app.domains.submissions.schemas import SubmissionAction
from app.models.audit import AuditEvent
from app.models.enums import InstitutionKind, Role
from app.models.institutions import Institution
from tests.conftest import (
    TEST_PASSWORD,
    InstitutionFactory,
    KeyFactory,
    UserFactory,
)
from tests.core.test_authorization_matrix import (
    SAMPLES,
    Caller,
    Sample,
    World,
    send,
    v1_routes,
)
from tests.domains import assert_problem
from tests.fixtures.etag import if_match

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _operations(methods: frozenset[str]) -> list[str]:
    """Operation ids of the /v1 route table whose method is one of these (read at collection
    time from the routers every app mounts; a test below checks it is the app's table)."""
    return sorted(
        route.name
        for router in ROUTERS
        for route in iter_api_routes(router)  # type: ignore[arg-type]
        if route.method in methods
    )


WRITES = _operations(WRITE_METHODS)
READS = _operations(frozenset({"GET"}))
# Writes that change no record of the programme, only a person's own reading state: marking
# one's notifications read is not in the trail.
NOT_AUDITED = frozenset({"mark_notification_read", "mark_all_notifications_read"})
AUDITED = [operation for operation in WRITES if operation not in NOT_AUDITED]

# What the trail calls each write: by method, unless the operation names its own action.
_ACTION_BY_METHOD = {"POST": "create", "PATCH": "update", "DELETE": "delete"}
_NAMED_ACTIONS = {
    "create_access_token": "login",
    "set_notification_preferences": "notification_preferences",
    "send_mailing": "send",
    "upload_document": "upload",
    "change_my_password": "password_change",
    "revoke_api_key": "revoke",
    "retry_job": "retry",
    "rotate_webhook_secret": "rotate_secret",
    "redeliver_webhook_delivery": "redeliver",
    "publish_innovation": "publish",
    "archive_innovation": "archive",
    "transition_hub": "commit",  # the sample commits a candidate hub
    "end_hub_membership": "leave",
    "transition_hub_activity": "publish",
    "transition_maturity_instrument": "publish",
    "put_hub_assessment_answers": "answer",
    "submit_hub_assessment": "submit",
    "review_hub_assessment": "verify",
    "transition_competition": "close_registration",  # the sample closes an open registration
    "transition_submission": "withdraw",
    "transition_replication": "discontinue",
    "create_assignment": "assign",
    "auto_assign_round": "auto_assign",
    "reassign_assignment": "reassign",
    "recuse_assignment": "recuse",
    "put_assignment_scores": "score",
    "close_round": "close",
    "create_announcement": "publish",
    "file_objection": "file",
    "review_objection": "review",
}
# Who makes each write when the policy's first choice is not the one the sample needs.
_CALLERS = {
    "transition_submission": "unit_operator",
    "push_unit_batch": "regional_system",
    "push_innovation_batch": "regional_system",
    "push_replication_batch": "regional_system",
    "push_hub_activity_batch": "regional_system",
    "push_mixed_batch": "regional_system",
    "recuse_assignment": "evaluator",
    "put_assignment_scores": "evaluator",
}
_SECRET_KEYS = frozenset({"password_hash", "secret_hash", "password", "secret"})


def _caller_for(world: World, operation: str, app: FastAPI) -> Caller:
    """An allowed, in-scope caller: the secretariat where allowed, else the hub admin (a hub's
    self-assessment), else anonymous (sign-in)."""
    policy = v1_routes(app)[operation].policy
    assert policy is not None
    if operation in _CALLERS:
        return world.callers[_CALLERS[operation]]
    if Role.secretariat_admin in policy.rules:
        return world.callers["secretariat_admin"]
    if Role.hub_admin in policy.rules:
        return world.callers["hub_admin"]
    if Role.local_admin in policy.rules:
        return world.callers["local_admin"]
    assert policy.anonymous, f"{operation}: pick an allowed caller for it here"
    return world.callers["anonymous"]


async def _events_of(session: AsyncSession, response: httpx.Response) -> list[AuditEvent]:
    """The audit events written by the request that gave this response, leaving out the
    entries that closing registration expires and those closing a round advances or eliminates
    (one event each, besides the edition's or the round's own: tests/domains/submissions and
    tests/domains/evaluation cover them)."""
    request_id = response.headers["x-request-id"]
    result = await session.scalars(
        select(AuditEvent).where(
            AuditEvent.request_id == request_id,
            ~(
                AuditEvent.action.in_(("expire", "advance", "eliminate"))
                & (AuditEvent.entity_type == "submission")
            ),
        )
    )
    return list(result)


def _expected_actor(sample: Sample, caller: Caller) -> tuple[str, uuid.UUID | None]:
    # The sign-in is anonymous; its event names the person who signed in.
    if sample.shape == "sign_in":
        assert sample.record is not None
        return "user", uuid.UUID(sample.record)
    return caller.kind, caller.id


def _expected_entity_id(sample: Sample, caller: Caller, response: httpx.Response) -> str:
    if sample.shape == "create":
        return str(response.json()[sample.id_field])
    if sample.shape == "own":
        return str(caller.id)
    if sample.shape == "batch":  # the one item's record
        return str(response.json()["items"][0]["id"])
    assert sample.record is not None
    return sample.record


def _secrets(sample: Sample, caller: Caller, response: httpx.Response) -> set[str]:
    """Every secret the request carried or the response revealed."""
    found = {TEST_PASSWORD}
    if caller.token is not None:
        found.add(caller.token)
    for body in (sample.json or {}, sample.form or {}):
        found |= {str(value) for key, value in body.items() if "password" in key}
    if response.content:
        shown = response.json()
        found |= {shown[key] for key in ("secret", "access_token") if key in shown}
    return found


def _keys(value: Any) -> set[str]:
    """Every dictionary key anywhere inside value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


# --- the route table -------------------------------------------------------------------------


def test_writes_and_reads_cover_the_v1_route_table(app: FastAPI) -> None:
    assert WRITES
    assert READS
    assert set(WRITES) | set(READS) == set(v1_routes(app))
    assert "create_access_token" in WRITES


# --- every write, one event ------------------------------------------------------------------


@pytest.mark.parametrize("operation", AUDITED)
async def test_write_leaves_exactly_one_audit_event(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, world: World, operation: str
) -> None:
    sample = SAMPLES[operation](world)
    caller = _caller_for(world, operation, app)
    response = await send(client, sample, caller)
    assert 200 <= response.status_code < 300, response.text

    events = await _events_of(session, response)
    assert len(events) == 1, [(e.action, e.entity_type) for e in events]
    event = events[0]
    assert (event.actor_kind, event.actor_id) == _expected_actor(sample, caller)
    assert event.action == _NAMED_ACTIONS.get(operation, _ACTION_BY_METHOD.get(sample.method))
    assert event.entity_type == sample.entity
    assert event.entity_id == _expected_entity_id(sample, caller, response)
    # The trail's filters offer what the trail holds.
    assert event.action in set(AuditAction)
    assert event.entity_type in set(AuditEntityType)


@pytest.mark.parametrize(
    "actions",
    [
        CompetitionAction,
        HubAction,
        HubActivityAction,
        MaturityInstrumentAction,
        ReplicationAction,
        ReviewAction,
        SubmissionAction,
    ],
)
def test_every_transition_action_is_an_audit_filter_value(actions: type[StrEnum]) -> None:
    """A transition is recorded under its action's name: `?action=` must accept each one."""
    assert {a.value for a in actions} <= {a.value for a in AuditAction}


@pytest.mark.parametrize("operation", AUDITED)
async def test_audit_event_holds_no_secret(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, world: World, operation: str
) -> None:
    sample = SAMPLES[operation](world)
    caller = _caller_for(world, operation, app)
    response = await send(client, sample, caller)
    assert 200 <= response.status_code < 300, response.text

    (event,) = await _events_of(session, response)
    assert _keys(event.changes) & _SECRET_KEYS == set()
    trail = json.dumps(event.changes)
    assert [s for s in _secrets(sample, caller, response) if s in trail] == []
    assert "$argon2" not in trail


@pytest.mark.parametrize("operation", READS)
async def test_read_leaves_no_audit_event(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, world: World, operation: str
) -> None:
    response = await send(client, SAMPLES[operation](world), _caller_for(world, operation, app))
    assert response.status_code == 200, response.text
    assert await _events_of(session, response) == []


# --- writes that do not happen ---------------------------------------------------------------


async def _institution_exists(session: AsyncSession, institution_id: uuid.UUID) -> bool:
    found = await session.scalar(select(Institution.id).where(Institution.id == institution_id))
    return found is not None


async def test_rolled_back_request_leaves_neither_its_write_nor_its_event(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, world: World
) -> None:
    created: list[uuid.UUID] = []

    async def create_then_fail(request: Request, session: SessionDep) -> None:
        data = InstitutionCreate(name="Kementerian Yang Batal", kind=InstitutionKind.kementerian)
        institution = await create_institution(session, request.state.principal, data)
        created.append(institution.id)
        raise Conflict("test.rolled_back", "Refused after the write, on purpose.")

    app.add_api_route(
        "/v1/test-rollback",
        create_then_fail,
        methods=["POST"],
        dependencies=[Access({Role.secretariat_admin: Scope.everything}).dep()],
    )
    response = await client.post(
        "/v1/test-rollback", headers=world.callers["secretariat_admin"].headers
    )

    assert_problem(response, 409, "test.rolled_back")
    assert len(created) == 1, "the service write ran before the failure"
    assert not await _institution_exists(session, created[0])
    assert await _events_of(session, response) == []


async def test_write_refused_by_a_rule_leaves_no_event(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    response = await client.delete(
        f"/v1/institutions/{world.institution_a.id}",
        headers=await if_match(
            client,
            f"/v1/institutions/{world.institution_a.id}",
            world.callers["secretariat_admin"].headers,
        ),
    )
    assert_problem(response, 409, "institution.has_units")
    assert await _institution_exists(session, world.institution_a.id)
    assert await _events_of(session, response) == []


async def test_write_refused_by_the_policy_leaves_no_event(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    response = await send(client, SAMPLES["create_unit"](world), world.callers["local_admin/B"])
    assert_problem(response, 403, "unit.out_of_scope")
    assert await _events_of(session, response) == []


async def test_failed_sign_in_leaves_no_login_event(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    response = await client.post(
        "/v1/auth/token",
        json={"email": world.operator_a.email, "password": "not-the-password"},
    )
    assert_problem(response, 401, "auth.invalid_credentials")
    assert [e.action for e in await _events_of(session, response)] == []


async def test_a_scoped_caller_without_an_institution_lists_nothing(
    session: AsyncSession,
    make_user: UserFactory,
    make_institution: InstitutionFactory,
    auth: KeyFactory,
) -> None:
    """A scoped caller with no institution gets an empty list, never an unfiltered one."""
    user = await make_user(Role.evaluator)
    await auth(Role.regional_system, institution_id=(await make_institution()).id)
    await audit.record(session, None, "create", "user", user.id, institution_id=None, after={})
    await session.flush()
    stray = Principal(kind="user", id=uuid.uuid4(), role=Role.local_admin, name="stray")
    page = PageRequest(limit=100, cursor=None, include_total=True, signer=CursorSigner(b"k" * 32))
    results = [
        await list_audit_events(
            session, stray, AuditEventFilter(), AuditEventSort.occurred_at_desc, page
        ),
        await list_users(session, stray, UserFilter(), UserSort.name, page),
        await list_api_keys(session, stray, ApiKeyFilter(), ApiKeySort.created_at_desc, page),
    ]
    assert [(r.items, r.total) for r in results] == [([], 0)] * 3
