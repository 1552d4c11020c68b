"""What `/start` does: the consent note for someone new, the consent button, joining a
partner through a Telegram deep link, and starting again after a pause or a stop.

A deep link from a workshop post (`/start ws-7`) is a private reply, not a start: the
dispatcher (`bot.core.service`) runs it as `/reply ws-7` before it gets here.
"""

from __future__ import annotations

from bot.core import conversation, couples, people
from bot.core.command_types import Call
from bot.core.conversation import Question
from bot.core.messages import Outcome
from bot.core.parsing import InputError
from bot.core.texts import WELCOME
from db.models import Person


def start(call: Call) -> Outcome:
    ctx, payload = call.ctx, call.args.strip()
    person = call.person or people.create_person(call.session, ctx, call.incoming)
    if payload.lower() == "agree":
        return _agree(call, person)
    outcome = Outcome()
    if payload.startswith(couples.DEEP_LINK_PREFIX):
        code = payload[len(couples.DEEP_LINK_PREFIX) :]
        try:
            outcome = couples.join(call.session, ctx, person, code)
        except InputError as error:
            outcome.say(str(error))
    if person.onboarded_at is None:
        conversation.ask(person, Question.CONSENT, ctx.clock.now())
        return outcome.say(WELCOME, people.CONSENT_BUTTONS)
    if person.stopped or person.paused_until is not None:
        outcome.replies += people.resume(person, ctx).replies
        return outcome
    return outcome.say(
        "You're already set up. "
        + people.describe_next(person)
        + " /settings changes it; /help lists everything."
    )


def _agree(call: Call, person: Person) -> Outcome:
    """The consent button, also when it is pressed again on an old message."""
    ctx = call.ctx
    step = conversation.onboarding_question(person)
    if person.consented_at is None or step is Question.CONSENT:
        conversation.ask(person, Question.CONSENT, ctx.clock.now())
        return people.advance_onboarding(person, ctx, Question.CONSENT, Outcome())
    if person.onboarded_at is None:
        return people.ask_next(
            person,
            ctx,
            step or Question.TIME,
            Outcome().say("You've already agreed; thank you."),
        )
    return Outcome().say("You've already agreed and you're set up. " + people.describe_next(person))
