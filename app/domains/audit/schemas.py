from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import ReadModel

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def _rfc3339_only(value: object) -> object:
    """Refuse what pydantic would otherwise coerce (Unix timestamps, dates without a time)."""
    if isinstance(value, str) and not _RFC3339.match(value):
        raise ValueError(
            "must be an RFC 3339 timestamp with a time zone, e.g. 2026-01-31T00:00:00Z"
        )
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only)]


class AuditAction(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"
    revoke = "revoke"
    login = "login"
    password_change = "password_change"  # noqa: S105 - an action name
    publish = "publish"
    archive = "archive"
    commit = "commit"
    designate = "designate"
    activate = "activate"
    deactivate = "deactivate"
    leave = "leave"
    unpublish = "unpublish"
    retire = "retire"
    answer = "answer"
    submit = "submit"
    verify = "verify"
    return_ = "return"
    open_registration = "open_registration"
    close_registration = "close_registration"
    start_evaluation = "start_evaluation"
    publish_results = "publish_results"
    close = "close"
    cancel = "cancel"
    approve = "approve"
    withdraw = "withdraw"
    screen = "screen"
    expire = "expire"
    reject = "reject"
    sign_agreement = "sign_agreement"
    start_implementation = "start_implementation"
    complete_implementation = "complete_implementation"
    evaluate = "evaluate"
    discontinue = "discontinue"
    # evaluation and results
    assign = "assign"
    auto_assign = "auto_assign"
    reassign = "reassign"
    recuse = "recuse"
    score = "score"
    advance = "advance"
    eliminate = "eliminate"
    promote = "promote"
    disqualify = "disqualify"
    file = "file"
    review = "review"
    # background jobs
    retry = "retry"
    send = "send"
    upload = "upload"
    notification_preferences = "notification_preferences"
    # webhooks
    disable = "disable"
    rotate_secret = "rotate_secret"  # noqa: S105 - an action name
    redeliver = "redeliver"


class AuditEntityType(StrEnum):
    institution = "institution"
    unit = "unit"
    user = "user"
    api_key = "api_key"
    innovation = "innovation"
    innovation_category = "innovation_category"
    hub = "hub"
    hub_member = "hub_member"
    hub_activity = "hub_activity"
    maturity_instrument = "maturity_instrument"
    maturity_assessment = "maturity_assessment"
    competition = "competition"
    competition_group = "competition_group"
    competition_category = "competition_category"
    competition_round = "competition_round"
    round_criterion = "round_criterion"
    submission = "submission"
    assignment = "assignment"
    announcement = "announcement"
    objection = "objection"
    award = "award"
    replication = "replication"
    job = "job"
    mailing = "mailing"
    document = "document"
    webhook = "webhook"
    webhook_delivery = "webhook_delivery"


class AuditEventRead(ReadModel):
    """One recorded write."""

    id: int
    occurred_at: UtcDateTime
    actor_kind: str = Field(description="`user`, `api_key`, or `system` (the operator's CLI).")
    actor_id: uuid.UUID | None
    actor_role: str | None
    actor_name: str = Field(
        description="Who acted, as people read it: the person's name, the API key's name, or "
        "`system` (the operator's command line, seeding)."
    )
    actor_email: str | None = Field(
        description="The person's email when a person acted; null for API keys and `system`."
    )
    action: str
    entity_type: str
    entity_id: str
    institution_id: uuid.UUID | None
    request_id: str | None
    changes: dict[str, Any] = Field(
        description='What changed: `{"field": {"before": old, "after": new}}`; secrets never.'
    )


class AuditEventPage(Page[AuditEventRead]):
    pass


class AuditEventSort(StrEnum):
    occurred_at = "occurred_at"
    occurred_at_desc = "-occurred_at"


class AuditEventFilter(BaseModel):
    entity_type: AuditEntityType | None = None
    entity_id: str | None = None
    actor_id: uuid.UUID | None = None
    action: list[AuditAction] = Field(default_factory=list)
    request_id: str | None = None
    occurred_from: Timestamp | None = None
    occurred_to: Timestamp | None = None
    institution_id: uuid.UUID | None = None
