"""Messages joined into one `detail`: one joiner (`app.core.errors.join_messages`) for every
place that reports several problems at once, so no message ends in `.;` or `..` or runs into
the next. The test client checks every problem it receives (tests/response_checks.py)."""

from __future__ import annotations

import pytest

from app.core.errors import join_messages, sentence
from tests.response_checks import badly_joined


@pytest.mark.parametrize(
    ("message", "written"),
    [
        ("No innovation has the id 1.", "No innovation has the id 1."),
        ("No innovation has the id 1", "No innovation has the id 1."),
        ("  Field required  ", "Field required."),
        ("Ends twice..", "Ends twice."),
        ("Ends with a separator.;", "Ends with a separator."),
        ("Ends with a comma,", "Ends with a comma."),
        ("Is it?", "Is it?"),
    ],
)
def test_a_message_is_written_as_one_sentence(message: str, written: str) -> None:
    assert sentence(message) == written


def test_messages_are_joined_as_sentences_separated_by_a_space() -> None:
    joined = join_messages(["No innovation has the id 1.", "Innovation 2 is draft", ""])
    assert joined == "No innovation has the id 1. Innovation 2 is draft."
    assert badly_joined({"detail": joined}) == []


def test_a_lead_comes_first() -> None:
    joined = join_messages(["The round has no criteria.", "No group."], "Registration cannot open:")
    assert joined == "Registration cannot open: The round has no criteria. No group."
    assert join_messages(["One."], "  The results cannot be decreed:  ") == (
        "The results cannot be decreed: One."
    )


@pytest.mark.parametrize(
    "detail", ["No innovation has the id 1.; Innovation 2 is draft.", "Done..", "Done;."]
)
def test_the_client_check_finds_badly_joined_messages(detail: str) -> None:
    assert badly_joined({"detail": detail}) == [detail]
    assert badly_joined({"detail": "ok.", "errors": [{"message": detail}]}) == [detail]


def test_the_client_check_lets_an_ellipsis_through() -> None:
    assert badly_joined({"detail": "Holds an award of any tier (top_45, ...)."}) == []
