"""Settings, read from the environment (and an optional `.env` file).

Every setting is documented in the README's configuration table; keep the two in step.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
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
    # Where the embedded PostgreSQL keeps its data when DATABASE_URL is not set.
    embedded_pg_dir: Path = PROJECT_ROOT / ".data" / "postgres"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)
    # Signs list cursors. Must be a long random value outside development and test.
    secret_key: str = DEV_SECRET_KEY
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    log_level: str = "INFO"
    # "json" (one JSON object a line) or "console" (human-readable, development).
    log_format: str = "json"
    readyz_timeout_seconds: float = Field(default=1.0, gt=0)
    api_key_last_used_resolution_seconds: int = Field(default=60, ge=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("log_format")
    @classmethod
    def _check_log_format(cls, value: str) -> str:
        if value not in ("json", "console"):
            raise ValueError("LOG_FORMAT must be 'json' or 'console'")
        return value

    @field_validator("database_url")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment is Environment.production and (
            self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "SECRET_KEY must be set to at least 32 random characters in production"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
