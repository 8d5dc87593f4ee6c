"""Webhook secrets: made (`whsec_` + 32 random bytes, base64, as Standard Webhooks 1.0 has
them), kept encrypted at rest (Fernet, under a key derived from SECRET_KEY: signing needs the
secret back, so a digest would not do), and used to sign with the `standardwebhooks` package.

Changing SECRET_KEY makes the stored secrets unreadable: a delivery then fails with
`webhook.secret_unreadable` until the owner rotates the secret (README "Webhooks").
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from standardwebhooks import Webhook as Signer

PREFIX = "whsec_"


class SecretUnreadable(Exception):
    """A stored secret does not decrypt under this SECRET_KEY."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"inovasi-webhook-secrets:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret_key: str, secret: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def decrypt(secret_key: str, stored: str) -> str:
    try:
        return _fernet(secret_key).decrypt(stored.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable from None


def signature(secrets_: Sequence[str], message_id: str, timestamp: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, space-separated (during a
    rotation the new and the old secret both sign, so a receiver holding either verifies)."""
    return " ".join(Signer(secret).sign(message_id, timestamp, body) for secret in secrets_)
