"""What reading a time zone answers: one zone (`Found`) or a short question (`Ask`).

Every way of writing a zone (a city, an abbreviation, an offset) ends in one of these, so
the conversation asks its question the same way whatever was typed, and a command, which
cannot ask, refuses with the question's `sentence` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    """One answer to a zone question: its button's label, and the zone it sets ("" for
    none of these: the zone question is asked again)."""

    label: str
    zone: str


@dataclass(frozen=True)
class Found:
    """A zone read with certainty. `place` is what the text was read as ("Mumbai, India",
    "UTC+5:30"), and `other` a smaller namesake elsewhere that the person may have meant."""

    zone: str
    place: str = ""
    other: str = ""


@dataclass(frozen=True)
class Ask:
    """What was typed has more than one likely meaning: `question` is asked with a button
    per choice; `sentence` names the choices where no question can be asked."""

    question: str
    choices: tuple[Choice, ...]
    sentence: str


Reading = Found | Ask

NONE_OF_THESE = "No, another zone"
MOST_CHOICES = 4  # a question's buttons, with "all year" or "another zone", fit five rows


def join_or(items: Sequence[str]) -> str:
    """ "A", "A or B", "A, B or C": choices named in a sentence."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
