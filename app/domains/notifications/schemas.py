from __future__ import annotations

import uuid
from typing import Literal

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
