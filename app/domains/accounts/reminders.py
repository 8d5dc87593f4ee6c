"""The `reminders.api-keys` job (daily at 08:00 WIB, README "Background jobs"): an API key
about to expire is announced 14 days before and again 3 days before (docs/notifications.md) to
whoever may see it and issue its successor: its institution's local admins for the unit
operator and regional system keys they issue, the secretariat for every other key; each
reminder once per key and window."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.domains.accounts.repository import ApiKeyRepository
from app.domains.accounts.service import LOCAL_ADMIN_ISSUABLE
from app.domains.notifications import audience, events
from app.models.accounts import ApiKey

LEAD_TIMES = (timedelta(days=14), timedelta(days=3))


def keepers(key: ApiKey) -> list[dict[str, str]]:
    """Who reaches the key (`service._key_in_scope`) and may issue another like it."""
    if key.role in LOCAL_ADMIN_ISSUABLE and key.institution_id is not None:
        return [audience.local_admins(key.institution_id)]
    return [audience.secretariat()]


async def remind_expiring_keys(session: AsyncSession) -> int:
    """Emit the reminders due now; how many were emitted (already sent ones are not)."""
    now = dates.now()
    emitted = 0
    for key in await ApiKeyRepository(session).expiring(now, now + max(LEAD_TIMES)):
        assert key.expires_at is not None
        lead = events.window(key.expires_at - now, LEAD_TIMES)
        assert lead is not None
        if await events.emit(
            session,
            "api_key.expiring",
            "api_key",
            key.id,
            audience=keepers(key),
            institution_id=key.institution_id,
            data={
                "key_name": key.name,
                "prefix": key.prefix,
                "expires_at": events.wib(key.expires_at),
            },
            dedupe=f"api_key.expiring:{key.id}:{lead.days}d:{key.expires_at.isoformat()}",
        ):
            emitted += 1
    return emitted
