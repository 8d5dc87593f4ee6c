"""Settings that must agree with each other are refused together, with a message that says
what to change."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.config import Settings


def test_a_statement_timeout_as_long_as_the_shutdown_grace_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(db_statement_timeout_ms=20_000, shutdown_grace_seconds=20, _env_file=None)
    message = str(refused.value)
    assert "DB_STATEMENT_TIMEOUT_MS (20000" in message
    assert "shorter than SHUTDOWN_GRACE_SECONDS (20 s = 20000 ms)" in message


def test_no_statement_timeout_is_refused_too() -> None:
    with pytest.raises(ValidationError, match="0 is none"):
        Settings(db_statement_timeout_ms=0, _env_file=None)


def test_a_statement_timeout_shorter_than_the_grace_is_accepted() -> None:
    settings = Settings(db_statement_timeout_ms=19_999, shutdown_grace_seconds=20, _env_file=None)
    assert settings.db_statement_timeout_ms == 19_999
    defaults = Settings(_env_file=None)
    assert defaults.db_statement_timeout_ms < defaults.shutdown_grace_seconds * 1000
