"""Settings, read from the environment (and an optional `.env` file).

Every setting is documented in the README's configuration table; keep the two in step.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET_KEY = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused in production


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """Service configuration. Names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.development
    # PostgreSQL URL (postgresql://, postgresql+asyncpg://). Empty: embedded PostgreSQL.
    database_url: str | None = None
    # The service reaches PostgreSQL through PgBouncer in transaction pool mode (README "Behind
    # PgBouncer"): no prepared statement outlives a statement, and no setting goes in the
    # connection's startup packet but those PgBouncer keeps per client (application_name,
    # timezone); statement_timeout is then the role's (ALTER ROLE ... SET).
    database_pgbouncer: bool = False
    # A streaming replica for the anonymous public catalogue's reads (README "Read replicas").
    # Empty: every read goes to DATABASE_URL.
    database_read_url: str | None = None
    # After the replica failed to give a connection, reads go to DATABASE_URL this long.
    database_read_fallback_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Where the embedded PostgreSQL keeps its data when DATABASE_URL is not set.
    embedded_pg_dir: Path = PROJECT_ROOT / ".data" / "postgres"
    # A fixed pool: overflow connections are closed when returned and opened again under load
    # (a fork on the server each time); 10 + 10 overflow made get by id 1.5x slower at 64
    # connections (bench/README.md).
    db_pool_size: int = Field(default=20, ge=1, le=200)
    db_max_overflow: int = Field(default=0, ge=0, le=200)
    # A second pool for the reads by key (an innovation by id, API keys, access tokens), whose
    # statements keep PostgreSQL's cached plans (app/db/session.py). A process opens at most
    # DB_POOL_SIZE + DB_MAX_OVERFLOW + DB_READ_POOL_SIZE connections.
    db_read_pool_size: int = Field(default=10, ge=1, le=200)
    # The longest a statement may run (the server cancels it: 503 `database.timeout`). Must
    # be shorter than SHUTDOWN_GRACE_SECONDS, so a request in flight at SIGTERM can finish.
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)
    # Opening a connection gives up after this long (a database away answers 503 at once when
    # it refuses, after this when it does not answer at all).
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    # A request waits at most this long for a free pooled connection (then 503 `database.busy`).
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # `inovasi sync-compact` removes superseded sync changes and tombstones older than this; a
    # feed cursor from before them then gets a 410 (docs/sync.md).
    sync_retention_days: int = Field(default=30, ge=1, le=3650)
    # A sync batch (`POST /v1/sync/.../batch`) holds at most this many items (422 above), in a
    # body of at most SYNC_MAX_BODY_BYTES (413 above; other requests: MAX_BODY_BYTES).
    sync_batch_max_items: int = Field(default=1000, ge=1, le=10_000)
    sync_max_body_bytes: int = Field(default=16 * 1_048_576, ge=1024)
    # How long an `Idempotency-Key` and the response it got are kept (API.md: at least 24 h).
    idempotency_ttl_hours: int = Field(default=24, ge=24, le=24 * 30)
    # The public's facets (the same for every anonymous caller) are computed once for identical
    # concurrent requests and kept this many seconds; 0 keeps none (still computed once).
    public_facets_cache_seconds: float = Field(default=5.0, ge=0, le=3600)
    # Signs list cursors. Must be a long random value outside development and test.
    secret_key: str = DEV_SECRET_KEY
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    log_level: str = "INFO"
    # "json" (one JSON object a line) or "console" (human-readable, development).
    log_format: str = "json"
    # When set, `GET /metrics` answers only `Authorization: Bearer <it>` (401 otherwise).
    metrics_token: SecretStr = SecretStr("")
    readyz_timeout_seconds: float = Field(default=1.0, gt=0)
    api_key_last_used_resolution_seconds: int = Field(default=60, ge=0)
    # Access tokens (JWT, HS256). Signing keys as "kid:secret" pairs, comma-separated: the first
    # signs, every one verifies (rotate by putting a new key first and dropping the old one
    # once the tokens it signed have expired). Empty: one key derived from SECRET_KEY.
    jwt_signing_keys: Annotated[list[tuple[str, str]], NoDecode] = Field(default_factory=list)
    jwt_issuer: str = "inovasi"
    jwt_audience: str = "inovasi-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    # Login throttling: failures counted per account and per client address over a window.
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    # Requests a minute per principal, and per client address for anonymous callers; 0: off.
    rate_limit_per_minute: int = Field(default=600, ge=0)
    rate_limit_anonymous_per_minute: int = Field(default=120, ge=0)
    # Where rate-limit and login-failure counters live: "memory" (one process only),
    # "postgresql" (the service's database) or a redis:// URL. Empty: memory on the embedded
    # PostgreSQL, postgresql when DATABASE_URL is set.
    rate_limit_storage: str = ""
    # Processes `inovasi serve` runs (uvicorn workers), each with its own pools.
    web_concurrency: int = Field(default=1, ge=1, le=64)
    # Proxies whose X-Forwarded-For gives the client address, comma-separated ("*": any).
    # uvicorn alone reads it only from the environment; `inovasi serve` passes this one on.
    forwarded_allow_ips: str = "127.0.0.1"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # On SIGTERM `inovasi serve` takes no new connection and gives the requests in flight this
    # long to finish; one still running then gets a 503 `service.shutting_down`. Keep it
    # shorter than the container's stop grace (compose `stop_grace_period`, 30 s), and longer
    # than DB_STATEMENT_TIMEOUT_MS.
    shutdown_grace_seconds: int = Field(default=20, ge=1, le=3600)
    # Background jobs (`inovasi worker`, README "Background jobs").
    # How often an idle worker looks for due jobs (a commit that enqueues one wakes it sooner).
    jobs_poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    # How long a job is leased to the worker running it; the worker renews the lease every
    # third of it while the job runs, and a job whose lease lapsed (its worker died) is taken
    # again by another worker.
    jobs_lease_seconds: int = Field(default=60, ge=5, le=3600)
    # Attempts before a job is dead (a job kind may set its own), and the backoff between them:
    # base x 2^(attempt - 1), at most the cap, with up to 10% jitter.
    jobs_max_attempts: int = Field(default=5, ge=1, le=100)
    jobs_backoff_base_seconds: float = Field(default=10.0, ge=0, le=3600)
    jobs_backoff_max_seconds: float = Field(default=3600.0, ge=0, le=7 * 86_400)
    # On SIGTERM a worker takes no new job and waits this long for the current one to end
    # (then abandons it: its lease lapses and another worker runs it again).
    jobs_shutdown_grace_seconds: float = Field(default=20.0, ge=0, le=3600)
    # Documents (README "Documents"): where files live, and how large they may be.
    documents_dir: Path = PROJECT_ROOT / ".data" / "files"
    # The largest file a kind allows is its own cap, at most this (413 above).
    documents_max_bytes: int = Field(default=50 * 1_048_576, ge=1024, le=5 * 1024**3)
    # What one institution's documents may take in all (413 `document.quota_exceeded` above).
    documents_institution_quota_bytes: int = Field(default=5 * 1024**3, ge=1024)
    # Where the bytes are kept: filesystem (DOCUMENTS_DIR) or s3 (the S3_* bucket; uploads
    # still arrive in DOCUMENTS_DIR/tmp while they are checked).
    documents_store: Literal["filesystem", "s3"] = "filesystem"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    # Notifications (README "Notifications"). Links in emails and in-app notifications are
    # built from this address of the portal, never from a request's Host.
    public_base_url: str = "http://127.0.0.1:8000"
    # The language of messages to a person who chose none: id (Indonesian) or en.
    default_language: Literal["id", "en"] = "id"
    # How email leaves: smtp (SMTP_HOST...), or log (development: each message is written to
    # the log, not sent). Empty: smtp when SMTP_HOST is set, else log.
    email_backend: Literal["", "smtp", "log"] = ""
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # none (plain, a local relay), starttls (upgrade after connecting, port 587) or tls
    # (TLS from the first byte, port 465).
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    # The sender of every message: "Name <address>" or an address.
    mail_from: str = "Inovasi <no-reply@inovasi.example.go.id>"
    # A URL of PostgreSQL itself (not PgBouncer) for the worker's LISTEN connection. Empty: the
    # worker listens on DATABASE_URL, or, with DATABASE_PGBOUNCER, only polls.
    jobs_listen_url: str | None = None
    # Webhooks (README "Webhooks"). Whether a webhook may target an address that is not on
    # the public internet (loopback, private, link-local, multicast, reserved, cloud
    # metadata). Empty: refused in production, allowed in development and test. Production
    # on a government intranet whose receivers sit on private addresses sets it to true.
    webhooks_allow_private_targets: bool | None = None
    # One attempt's limit (connect, send, answer), per Standard Webhooks' recommendation.
    webhooks_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    # After POST /v1/webhooks/{id}/rotate-secret, the old secret still signs (both signatures
    # in `webhook-signature`) for this many hours, unless the request says otherwise.
    webhooks_rotation_overlap_hours: int = Field(default=24, ge=0, le=24 * 30)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("jwt_signing_keys", mode="before")
    @classmethod
    def _split_signing_keys(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            kid, sep, secret = item.partition(":")
            if not sep or not kid.strip() or not secret.strip():
                raise ValueError("JWT_SIGNING_KEYS entries must be 'kid:secret'")
            pairs.append((kid.strip(), secret.strip()))
        return pairs

    @field_validator("rate_limit_storage")
    @classmethod
    def _check_rate_limit_storage(cls, value: str) -> str:
        value = value.strip()
        if (
            value
            and value not in ("memory", "postgresql")
            and not value.startswith(("redis://", "rediss://"))
        ):
            raise ValueError("RATE_LIMIT_STORAGE must be memory, postgresql or a redis:// URL")
        return value

    @field_validator("log_format")
    @classmethod
    def _check_log_format(cls, value: str) -> str:
        if value not in ("json", "console"):
            raise ValueError("LOG_FORMAT must be 'json' or 'console'")
        return value

    @field_validator("database_url", "database_read_url", "jobs_listen_url")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("webhooks_allow_private_targets", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment is Environment.production and (
            self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "SECRET_KEY must be set to at least 32 random characters in production"
            )
        if self.environment is Environment.production and any(
            len(secret) < 32 for _, secret in self.jwt_signing_keys
        ):
            raise ValueError("every JWT_SIGNING_KEYS secret needs at least 32 characters")
        if not 0 < self.db_statement_timeout_ms < self.shutdown_grace_seconds * 1000:
            raise ValueError(
                f"DB_STATEMENT_TIMEOUT_MS ({self.db_statement_timeout_ms}; 0 is none) must be "
                "shorter than "
                f"SHUTDOWN_GRACE_SECONDS ({self.shutdown_grace_seconds} s = "
                f"{self.shutdown_grace_seconds * 1000} ms): a statement still running when the "
                "grace ends would be cut off; lower the one or raise the other"
            )
        kids = [kid for kid, _ in self.jwt_signing_keys]
        if len(kids) != len(set(kids)):
            raise ValueError("JWT_SIGNING_KEYS has two keys with the same kid")
        return self

    @cached_property
    def signing_keys(self) -> list[tuple[str, str]]:
        """The JWT keys, the signing one first; derived from SECRET_KEY when none are set."""
        if self.jwt_signing_keys:
            return self.jwt_signing_keys
        derived = hashlib.sha256(b"inovasi-jwt:" + self.secret_key.encode()).hexdigest()
        return [("default", derived)]

    @model_validator(mode="after")
    def _check_s3(self) -> Settings:
        if self.documents_store == "s3" and not (self.s3_endpoint and self.s3_bucket):
            raise ValueError("DOCUMENTS_STORE=s3 needs S3_ENDPOINT and S3_BUCKET")
        return self

    @property
    def webhooks_private_targets_allowed(self) -> bool:
        if self.webhooks_allow_private_targets is not None:
            return self.webhooks_allow_private_targets
        return self.environment is not Environment.production

    @property
    def resolved_email_backend(self) -> str:
        if self.email_backend:
            return self.email_backend
        return "smtp" if self.smtp_host else "log"

    @property
    def resolved_rate_limit_storage(self) -> str:
        if self.rate_limit_storage:
            return self.rate_limit_storage
        return "postgresql" if self.database_url else "memory"


@lru_cache
def get_settings() -> Settings:
    return Settings()
