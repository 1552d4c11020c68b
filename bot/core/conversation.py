"""What the bot is waiting for from one person: one typed state, read and written here only.

Two things can be open at once, and which happened last decides what free text means:

- a *question* the bot asked (an onboarding step, a confirmation). It takes only text that
  parses as its answer, and only while no practice was shown after it was asked;
- the *practice in focus*: the one whose Reply button was pressed or that `/today` showed.
  (A daily practice that arrives is in focus by its delivery time, see `replies.target`.)

Everything else a person writes is kept: as a reply to the practice in focus, or as a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from db.models import Person


class Question(StrEnum):
    CONSENT = "consent"
    TIME = "time"
    ZONE = "zone"
    DAYS = "days"
    THEMES = "themes"
    FORGET = "forget"
    DELETE = "delete"  # deleting one reply; `Conversation.about` is its number
    SHARE = "share"  # sharing a reply that got the safety note; `about` is its number


# Onboarding asks these in order; the last four are settings of the same names.
ONBOARDING: tuple[Question, ...] = (
    Question.CONSENT,
    Question.TIME,
    Question.ZONE,
    Question.DAYS,
    Question.THEMES,
)
SETTING_QUESTIONS = frozenset(ONBOARDING[1:])


class FocusKind(StrEnum):
    DELIVERY = "delivery"  # a daily practice (`deliveries` row)
    POST = "post"  # a workshop's practice (`workshop_posts` row)


class Option(BaseModel):
    """A choice offered with a question: its button's label, which a person may type
    instead, and the value it stands for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    value: str


class Conversation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    question: Question | None = None
    about: int | None = None
    asked_at: datetime | None = None
    # An onboarding step set aside to answer another setting first; asked again after it.
    resume: Question | None = None
    # The choices the open question offered, when it offered some ("Portland, Oregon or
    # Portland, Maine?"): part of the question, so they go when it is answered or replaced.
    options: tuple[Option, ...] | None = None
    focus: FocusKind | None = None
    focus_id: int | None = None
    focus_at: datetime | None = None


def of(person: Person) -> Conversation:
    return Conversation.model_validate(person.conversation or {})


def _save(person: Person, state: Conversation) -> None:
    person.conversation = state.model_dump(mode="json", exclude_none=True)


def ask(
    person: Person,
    question: Question,
    now: datetime,
    *,
    about: int | None = None,
    resume: Question | None = None,
    options: Sequence[Option] = (),
) -> None:
    """Ask one question; it replaces whatever question was open before."""
    update = {
        "question": question,
        "about": about,
        "asked_at": now,
        "resume": resume,
        "options": tuple(options) or None,
    }
    _save(person, of(person).model_copy(update=update))


def settle(person: Person) -> None:
    """The open question is answered, or no longer applies."""
    update = {"question": None, "about": None, "asked_at": None, "resume": None, "options": None}
    _save(person, of(person).model_copy(update=update))


def focus_on(person: Person, kind: FocusKind, row_id: int, now: datetime) -> None:
    """From now on free text replies to this practice, until another is shown."""
    _save(
        person, of(person).model_copy(update={"focus": kind, "focus_id": row_id, "focus_at": now})
    )


def onboarding_question(person: Person) -> Question | None:
    """The onboarding step in progress, for someone not set up yet: the one set aside for
    another setting, else the open question."""
    if person.onboarded_at is not None:
        return None
    state = of(person)
    step = state.resume or state.question
    return step if step in ONBOARDING else None
