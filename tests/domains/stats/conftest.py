"""The evaluation's world (`ew`: an edition in evaluation, its panel and entries), shared with
the tests of what an evaluation leads to."""

from tests.domains.evaluation.conftest import ew

__all__ = ["ew"]
