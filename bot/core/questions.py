"""Free text as the answer to the bot's open question, when it is one, and reminders of it.

A question takes only text that parses as its answer. A short line that does not parse
("25:00", "Berln") was meant as an answer: it gets the reason and the question again, with
a button that keeps it after all. Anything longer is somebody's words, and the caller keeps
it (as a reply or a note) and reminds them of the question still open.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.core import conversation, people, privacy, replies
from bot.core.context import Context
from bot.core.conversation import SETTING_QUESTIONS, Conversation, Question
from bot.core.messages import Outcome
from bot.core.parsing import InputError
from db.models import Person

CONSENT_WORDS = frozenset(
    {"yes", "y", "ok", "okay", "sure", "yep", "yeah", "agree", "i agree", "let's begin", "begin"}
)
ANSWER_WORDS = 3
ANSWER_BYTES = 40


def looks_like_an_answer(text: str) -> bool:
    """One short line: an attempt at answering, not something to keep."""
    return (
        "\n" not in text
        and len(text.split()) <= ANSWER_WORDS
        and len(text.encode()) <= ANSWER_BYTES
    )


def _fold(text: str) -> str:
    return " ".join(text.lower().split()).strip("!.")


def answer(
    session: Session,
    ctx: Context,
    person: Person,
    state: Conversation,
    text: str,
    found: replies.Target | None,
) -> Outcome | None:
    """The outcome of `text` as the answer, or None when it is not one (keep it instead)."""
    question, folded = state.question, _fold(text)
    if question is Question.CONSENT and folded in CONSENT_WORDS:
        return people.advance_onboarding(person, ctx, Question.CONSENT, Outcome())
    if question is Question.FORGET and folded in replies.YES | replies.NO:
        return privacy.handle_forget(session, ctx, person, folded)
    if question is Question.DELETE and folded in replies.YES | replies.NO:
        return replies.delete_reply(session, ctx, person, f"{state.about} {folded}")
    if question is Question.SHARE and folded in replies.YES | replies.NO:
        return replies.share(session, ctx, person, f"{state.about} {folded}")
    if question in SETTING_QUESTIONS:
        assert question is not None
        try:
            return people.apply_setting(person, ctx, question.value, text)
        except InputError as error:
            if not looks_like_an_answer(text):
                return None
            button = replies.keep_button(found, text.strip())
            outcome = Outcome().say(str(error), ((button,),) if button else ())
            return outcome.say(*people.setting_prompt(person, question))
    if not looks_like_an_answer(text):
        return None
    button = replies.keep_button(found, text.strip())
    outcome = Outcome().say(
        f"I didn't take “{text.strip()}” as an answer.", ((button,),) if button else ()
    )
    return remind(person, state, outcome)


def remind(person: Person, state: Conversation, outcome: Outcome) -> Outcome:
    """Say what the bot is still waiting for, with its buttons."""
    question = state.question
    if question is Question.CONSENT:
        return outcome.say(
            "To set up your daily practice, tap “I agree” to begin, or read /safety first.",
            people.CONSENT_BUTTONS,
        )
    if question is Question.FORGET:
        return outcome.say(
            "Nothing was deleted. Your /forget question is still open: type yes to delete "
            "everything, or no to keep it.",
            privacy.FORGET_BUTTONS,
        )
    if question is Question.DELETE and state.about is not None:
        return outcome.say(
            f"Reply #{state.about} is not deleted: type yes to delete it, or no to keep it.",
            replies.delete_buttons(state.about),
        )
    if question is Question.SHARE and state.about is not None:
        return outcome.say(
            f"Reply #{state.about} is not shared: type yes to share it, or no to keep it private.",
            replies.share_buttons(state.about),
        )
    if question in SETTING_QUESTIONS:
        assert question is not None
        body, keyboard = people.setting_prompt(person, question)
        return outcome.say("Still open: " + body[:1].lower() + body[1:], keyboard)
    conversation.settle(person)
    return outcome
