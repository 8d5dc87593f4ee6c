from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.domains.webhooks.receiver import Receiver, running


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver on 127.0.0.1 (each test uses paths of its own)."""
    yield from running()
