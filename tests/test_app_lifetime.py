"""An app that is dropped is collected: nothing module-wide keeps the apps a process built."""

from __future__ import annotations

import gc
import weakref

from app.core.config import Settings
from app.main import create_app


def test_apps_built_and_dropped_are_collected(settings: Settings) -> None:
    # FastAPI keeps the callables of API routes in module-level caches: a route whose endpoint
    # is a closure over its app kept every app alive (about 21k objects each).
    refs = [weakref.ref(create_app(settings)) for _ in range(3)]
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]
