"""Sending one email: over SMTP with aiosmtplib, or to the log in development.

`send` raises `TransientMailError` when trying again may work (the server answered 4xx, or
could not be reached, or the connection dropped): the job fails and is retried with backoff.
It raises `PermanentMailError` when it will not (5xx: no such mailbox, refused sender): the
message is marked failed and not retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid, parseaddr

import aiosmtplib

from app.core import dates
from app.core.config import Environment, Settings

logger = logging.getLogger(__name__)


class MailError(Exception):
    pass


class TransientMailError(MailError):
    pass


class PermanentMailError(MailError):
    pass


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    text: str
    html: str
    language: str
    message_id: str


def new_message_id(settings: Settings) -> str:
    """A Message-ID in the sender's domain; kept in the sent log, the same for every attempt
    (a receiving server that saw it already may drop the copy)."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "inovasi.localhost"
    return make_msgid(domain=domain)


def build(settings: Settings, outgoing: Outgoing) -> MimeMessage:
    message = MimeMessage()
    message["From"] = settings.mail_from
    message["To"] = outgoing.to
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(dates.now())
    message["Message-ID"] = outgoing.message_id
    # Automatic mail: out-of-office replies and the like are not sent back (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(outgoing.text)
    message.add_alternative(outgoing.html, subtype="html")
    # After the content: setting it clears the Content-* headers.
    message["Content-Language"] = outgoing.language
    return message


def _is_transient(code: int) -> bool:
    return 400 <= code < 500


async def send(settings: Settings, outgoing: Outgoing) -> str:
    """Send it; the server's answer to the message (its queue id, where it gives one)."""
    message = build(settings, outgoing)
    if settings.resolved_email_backend == "log":
        # Development: the message goes to the log instead (its text only outside
        # production, where a link in it may be a person's secret).
        logger.info(
            "email (EMAIL_BACKEND=log, not sent)",
            extra={
                "to": outgoing.to,
                "subject": outgoing.subject,
                "message_id": outgoing.message_id,
                "language": outgoing.language,
                **(
                    {"text": outgoing.text}
                    if settings.environment is not Environment.production
                    else {}
                ),
            },
        )
        return "logged"
    password = settings.smtp_password.get_secret_value()
    try:
        errors, response = await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=password or None,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        if codes and all(_is_transient(code) for code in codes):
            raise TransientMailError(f"recipient deferred: {detail}") from exc
        raise PermanentMailError(f"recipient refused: {detail}") from exc
    except aiosmtplib.SMTPResponseException as exc:
        if _is_transient(exc.code):
            raise TransientMailError(f"{exc.code} {exc.message}") from exc
        raise PermanentMailError(f"{exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        # Not reached, dropped, timed out, TLS failed: the server may be back later.
        raise TransientMailError(f"{type(exc).__name__}: {exc}") from exc
    if errors:  # one recipient per message: a refusal raised above; kept for completeness
        raise PermanentMailError(f"recipient refused: {errors}")
    return response[:500]
