from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import Field

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel

EVENT_TYPES_DESCRIPTION = (
    "Event types to receive: workflow event kinds (`submission.returned`, "
    "`replication.requested`, ... as docs/notifications.md lists them) and record changes of the "
    "sync feed's resources (`record.units`, `record.innovations`, `record.replications`, "
    "`record.hub-activities`)."
)


class WebhookStatus(StrEnum):
    active = "active"
    disabled = "disabled"


class DeliveryStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class WebhookSort(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"


class WebhookCreate(InputModel):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="Where deliveries are POSTed: https (http only outside production).",
        examples=["https://sipinter.medan.go.id/hooks/inovasi"],
    )
    event_types: list[str] = Field(
        min_length=1, max_length=100, description=EVENT_TYPES_DESCRIPTION
    )
    description: str | None = Field(default=None, max_length=500)
    institution_id: uuid.UUID | None = Field(
        default=None,
        description="The institution whose events it receives: the caller's own (the default "
        "for a local admin or regional system; another is a 403). The secretariat may name "
        "any, or none: every event.",
    )


class WebhookUpdate(InputModel):
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(
        default=None, min_length=1, max_length=100, description=EVENT_TYPES_DESCRIPTION
    )
    description: str | None = Field(default=None, max_length=500)
    status: WebhookStatus | None = Field(
        default=None,
        description="`disabled` stops deliveries (pending ones wait); `active` resumes them from "
        "the oldest pending one.",
    )


class WebhookRead(ReadModel):
    """A webhook endpoint (never its secret)."""

    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    institution_id: uuid.UUID | None = Field(
        description="The institution whose events it receives; null: every event."
    )
    owner_api_key_id: uuid.UUID | None
    owner_user_id: uuid.UUID | None
    owner_name: str
    status: WebhookStatus
    disabled_reason: str | None = Field(
        description="Why it stopped: `gone` (the receiver answered 410), `failing` (a delivery "
        "failed every attempt, about three days), `owner_revoked`, or `disabled by <name>`."
    )
    disabled_at: UtcDateTime | None
    secret_rotated_at: UtcDateTime | None
    previous_secret_expires_at: UtcDateTime | None = Field(
        description="Until then the secret before the last rotation signs too."
    )
    version: int
    created_at: UtcDateTime
    updated_at: UtcDateTime


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="The signing secret (`whsec_...`), shown in this response only: verify "
        'deliveries with it (README "Webhooks").'
    )


class SecretRotation(InputModel):
    previous_secret_valid_hours: int | None = Field(
        default=None,
        ge=0,
        le=24 * 30,
        description="How long the old secret still signs (both signatures are sent); default "
        "WEBHOOKS_ROTATION_OVERLAP_HOURS (24).",
    )


class WebhookPage(Page[WebhookRead]):
    pass


class AttemptRead(ReadModel):
    attempt: int
    attempted_at: UtcDateTime
    succeeded: bool
    status_code: int | None = Field(description="The receiver's HTTP status; null: no answer.")
    duration_ms: int
    response_body: str | None = Field(description="The answer's first 2 kB.")
    error: str | None = Field(
        description="Why it failed without a 2xx: a refused target, a timeout, a redirect..."
    )


class DeliveryRead(ReadModel):
    """One event for the endpoint: the body sent, the `webhook-id` it carries on every
    attempt, where it stands and each attempt."""

    id: uuid.UUID
    webhook_id: uuid.UUID
    message_id: str = Field(description="The `webhook-id` header: the same on every attempt.")
    event_type: str
    payload: dict[str, Any]
    status: DeliveryStatus = Field(
        description="`pending` (not yet delivered; `next_attempt_at` says when), `succeeded`, "
        "`failed` (every attempt failed, or the receiver answered 410)."
    )
    attempts: int
    next_attempt_at: UtcDateTime
    last_attempt_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    created_at: UtcDateTime
    attempt_log: list[AttemptRead] = Field(description="Every attempt, oldest first.")


class DeliveryPage(Page[DeliveryRead]):
    pass
