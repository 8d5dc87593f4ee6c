"""The hubs' world (`w`: two provinces with their local governments, a ministry, and helpers),
shared with the tests of what a hub does."""

from tests.domains.hubs.conftest import w

__all__ = ["w"]
