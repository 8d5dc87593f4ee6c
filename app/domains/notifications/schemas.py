from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import ReadModel

Language = Literal["id", "en"]


class NotificationRead(ReadModel):
    """One of your in-app notifications: what happened (`kind`), about which record, in your
    language."""

    id: uuid.UUID
    kind: str = Field(description="The event: `submission.returned`, ... (docs/notifications.md).")
    subject_type: str = Field(description="The kind of record it is about: `submission`, ...")
    subject_id: uuid.UUID
    title: str
    body: str
    link: str | None = Field(description="The record's page in the portal (`PUBLIC_BASE_URL`).")
    language: Language
    created_at: UtcDateTime
    read_at: UtcDateTime | None = Field(description="When you marked it read; null: unread.")


class NotificationPage(Page[NotificationRead]):
    unread_count: int = Field(description="Your unread notifications, whatever the filter.")


class ReadAllResult(BaseModel):
    marked: int = Field(description="Notifications marked read by this call.")


class KindPreference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=60, description="An event kind.")
    email: bool = Field(description="Send it by email.")
    in_app: bool = Field(description="Show it in the app (`GET /v1/notifications`).")


class KindPreferenceRead(KindPreference):
    description: str
    essential: bool = Field(
        description="A security message: always sent both ways; cannot be turned off."
    )


class NotificationPreferences(BaseModel):
    """Your language and, for each kind of event, whether you get it by email and in the app."""

    language: Language = Field(description="The language of your messages.")
    kinds: list[KindPreferenceRead]


class NotificationPreferencesUpdate(BaseModel):
    """Replace your choices: kinds not listed go back to their default (both on)."""

    model_config = ConfigDict(extra="forbid")

    language: Language | None = Field(
        default=None, description="The language of your messages; null: the service's default."
    )
    kinds: list[KindPreference] = Field(default_factory=list, max_length=100)


# --- organiser mail --------------------------------------------------------------------------


class EditionEntrants(BaseModel):
    """The entrants of an edition (or of one of its groups): the local admins and unit
    operators of every entry that was submitted to the organiser."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["edition_entrants"]
    competition_id: uuid.UUID
    group_id: uuid.UUID | None = None


class RoundEvaluators(BaseModel):
    """The evaluators of a round: everyone with an assignment in it that still counts."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["round_evaluators"]
    round_id: uuid.UUID


class HubMembers(BaseModel):
    """The members of a hub: the local admins of its current member institutions."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["hub_members"]
    hub_id: uuid.UUID


MailingAudience = Annotated[
    EditionEntrants | RoundEvaluators | HubMembers, Field(discriminator="kind")
]


class MailingCreate(BaseModel):
    """A message to an audience. `{{ name }}` in the subject or body is replaced by each
    recipient's name; no other placeholder exists (422)."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)
    audience: MailingAudience


class MailingRead(ReadModel):
    id: uuid.UUID
    subject: str
    body: str
    audience: MailingAudience
    recipients: int = Field(
        description="People the audience names now (before sending), or who were sent it."
    )
    created_by_name: str
    created_at: UtcDateTime
    sent_at: UtcDateTime | None = Field(description="When it was sent; null: a draft.")


class MailingPage(Page[MailingRead]):
    pass


class MailingPreview(BaseModel):
    """The message as one recipient will read it, in their language."""

    recipient_id: uuid.UUID
    recipient_name: str
    recipient_email: str
    language: Language
    subject: str
    text: str
    html: str


class EmailMessageRead(ReadModel):
    """One email of the sent log."""

    id: uuid.UUID
    event_id: uuid.UUID | None = Field(description="The event it tells of; null: a mailing's.")
    mailing_id: uuid.UUID | None
    user_id: uuid.UUID | None
    recipient: str
    kind: str = Field(description="The event kind, or `mailing`.")
    language: Language
    subject: str | None = Field(description="As sent; null until the first attempt.")
    status: Literal["pending", "sent", "failed", "skipped"] = Field(
        description="`pending` (queued or being retried), `sent`, `failed` (the server refused "
        "it for good: `last_error`)."
    )
    attempts: int
    message_id: str = Field(description="The Message-ID header it carries.")
    provider_response: str | None = Field(description="The SMTP server's answer to the message.")
    last_error: str | None
    created_at: UtcDateTime
    sent_at: UtcDateTime | None


class EmailMessagePage(Page[EmailMessageRead]):
    pass
