"""`Core`: the one entry point adapters call, for typed lines, button presses and ticks.

The rules below are synchronous SQLAlchemy code; the async methods run them in a worker
thread (`asyncio.to_thread`) so the chat libraries' event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import (
    conversation,
    couples,
    deliveries,
    outbox,
    people,
    privacy,
    questions,
    replies,
    workshops,
)
from bot.core.cleaning import INPUT_LIMIT, clean_incoming
from bot.core.context import Context, Incoming
from bot.core.conversation import SETTING_QUESTIONS, Question
from bot.core.messages import Button, Outcome, Text
from bot.core.outbox import Failure, Send
from bot.core.parsing import InputError
from bot.core.texts import COMMANDS_BY_NAME, SAFETY, UNREACHABLE_NOTE, WELCOME, help_text
from db.models import Person
from db.session import Database

Handler = Callable[[Session, Context, Person, str], Outcome]

_HANDLERS: dict[str, Handler] = {
    "today": lambda s, c, p, a: deliveries.today(s, c, p),
    "settings": lambda s, c, p, a: _settings(c, p, a),
    "pause": lambda s, c, p, a: people.pause(p, c, a),
    "resume": lambda s, c, p, a: people.resume(p, c),
    "stop": lambda s, c, p, a: people.stop(p, c),
    "pair": lambda s, c, p, a: couples.make_invite(s, c, p),
    "join": lambda s, c, p, a: couples.join(s, c, p, a),
    "unpair": lambda s, c, p, a: couples.unpair(s, c, p),
    "journal": replies.journal,
    "share": replies.share,
    "undo": replies.undo,
    "delete": replies.delete_reply,
    "export": lambda s, c, p, a: privacy.export(s, c, p),
    "forget": privacy.handle_forget,
    "skip": deliveries.skip,
    "snooze": deliveries.snooze,
    "more": lambda s, c, p, a: deliveries.steer(s, c, p, a, more=True),
    "less": lambda s, c, p, a: deliveries.steer(s, c, p, a, more=False),
}
# People (or workshops) planned per transaction (about 0.1 s of work, so a claim or a
# command never waits long for SQLite's write lock), and transactions per planning call.
PLAN_BATCH = 25
PLAN_BATCHES_PER_TICK = 1000
_COMMAND = re.compile(r"/(\S*)\s*(.*)", re.DOTALL)
# Commands that take no words, or only the practice a button names (`/skip #12`): what is
# written after them is somebody's words, kept by the free-text rules once the command ran.
_TAKES_NOTHING = frozenset({"today", "resume", "stop", "pair", "unpair", "export"})
_TAKES_A_PRACTICE = frozenset({"skip", "snooze", "more", "less"})


def _words_after(name: str, args: str) -> tuple[str, str]:
    """(what the command takes, the words after it that are somebody's to keep)."""
    if name in _TAKES_NOTHING:
        return "", args
    if name in _TAKES_A_PRACTICE:
        token, rest = replies.split_reference(args)
        return (token, rest) if token.startswith("#") else ("", args)
    return args, ""


def _settings(ctx: Context, person: Person, args: str) -> Outcome:
    field, _, value = args.strip().partition(" ")
    if not field:
        return Outcome().say(people.settings_summary(person), people.SETTINGS_BUTTONS)
    return people.apply_setting(person, ctx, field.lower(), value.strip())


def split_command(text: str) -> tuple[str, str] | None:
    """`/settings@MyBot time 7pm` → ("settings", "time 7pm"); None when not a command.

    The arguments start after any whitespace, a line break included, and keep their own
    line breaks, so `/reply` with the text on the next line is a reply.
    """
    match = _COMMAND.fullmatch(text.strip())
    if match is None:
        return None
    name = match.group(1).split("@", 1)[0].lower().replace("_", "-")
    return name, match.group(2).strip()


def unknown_command(name: str) -> str:
    close = difflib.get_close_matches(name, list(COMMANDS_BY_NAME), n=1)
    hint = f" Did you mean /{close[0]}?" if close else ""
    return f"I don't know /{name[:40]}.{hint} Type /help to see everything I understand."


class Core:
    """The whole bot, minus any platform."""

    def __init__(self, database: Database, ctx: Context) -> None:
        self.db = database
        self.ctx = ctx

    # --- people talking -----------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> Outcome:
        return await asyncio.to_thread(self.handle_sync, await self._vouched(incoming))

    async def _vouched(self, incoming: Incoming) -> Incoming:
        """A reply to a workshop post counts only from a member of the post's chat. The
        platform is asked here, before the transaction, so no transaction waits on it; a
        platform that cannot answer vouches for nobody."""
        post_id = replies.post_named(incoming.text)
        if post_id is None or incoming.chat_id is not None:
            return incoming
        chat = await asyncio.to_thread(self.post_chat_sync, post_id)
        is_member = self.ctx.memberships.get(incoming.platform)
        if chat is None or chat[0] != incoming.platform or is_member is None:
            return incoming
        if not await is_member(chat[1], incoming.user_id):
            return incoming
        return dataclasses.replace(incoming, member_of=chat[1])

    def post_chat_sync(self, post_id: int) -> tuple[str, str] | None:
        """(platform, chat id) of the workshop a post belongs to."""
        with self.db.read() as session:
            return workshops.chat_of_post(session, post_id)

    def handle_sync(self, incoming: Incoming) -> Outcome:
        if len(incoming.text) > INPUT_LIMIT:
            return Outcome().say(
                f"That message is {len(incoming.text):,} characters, more than I take in one "
                f"go ({INPUT_LIMIT:,}). Nothing was saved: please send it in a few pieces."
            )
        try:
            with self.db.transaction() as session:
                return self._dispatch(session, clean_incoming(incoming))
        except InputError as error:
            return Outcome().say(str(error))

    def _dispatch(self, session: Session, incoming: Incoming) -> Outcome:
        command = split_command(incoming.text)
        if incoming.chat_id is not None:
            return self._in_group(session, incoming, command)
        person = people.find_person(session, incoming.platform, incoming.user_id)
        if person is None or not person.unreachable:
            return self._private(session, person, incoming, command)
        self._refresh_reach(person)
        outcome = self._private(session, person, incoming, command)
        if incoming.in_channel:
            outcome.replies.insert(0, Text(UNREACHABLE_NOTE))
        return outcome

    def _private(
        self,
        session: Session,
        person: Person | None,
        incoming: Incoming,
        command: tuple[str, str] | None,
    ) -> Outcome:
        if person is not None and incoming.display_name:
            person.display_name = incoming.display_name  # their name as it is now
        if command is None:
            if person is None:
                return Outcome().say(
                    "Hello! I'm Wholehearted. Type /start to begin: it also says how your "
                    "words are kept private. (I haven't kept what you wrote.)",
                    ((Button("Start", "/start"),),),
                )
            return self._free_text(session, person, incoming)
        name, args = command
        if name == "help":
            return self._help(args)
        if name == "safety":
            return Outcome().say(SAFETY)
        if name == "start":
            return self._start(session, person, incoming, args)
        if name not in _HANDLERS and name != "reply":
            return Outcome().say(unknown_command(name))
        if person is None:
            workshop_reply = name == "reply" and replies.POST_REFERENCE.match(args) is not None
            if name == "today" or workshop_reply:
                # A workshop member may reply without ever setting up daily practices.
                person = people.create_person(session, self.ctx, incoming)
            else:
                return Outcome().say(
                    "Type /start first: it takes a minute and sets up your daily practice.",
                    ((Button("Start", "/start"),),),
                )
        return self._command(session, person, name, args, incoming.member_of)

    def _command(
        self, session: Session, person: Person, name: str, args: str, member_of: str | None
    ) -> Outcome:
        args, words = _words_after(name, args)
        outcome = Outcome()
        if name == "today" and person.consented_at is None:
            conversation.ask(person, Question.CONSENT, self.ctx.clock.now())
            outcome.say(
                WELCOME + "\n\nOnce you agree, /today brings today's practice.",
                people.CONSENT_BUTTONS,
            )
        else:
            if name != "settings":
                people.finish_onboarding(person, self.ctx, outcome)
            # A question is answered right after it is asked: another command moves on.
            if not (name == "settings" and conversation.of(person).question in SETTING_QUESTIONS):
                conversation.settle(person)
            result = (
                # The one command that needs what the platform vouched for.
                replies.start_reply(session, self.ctx, person, args, member_of)
                if name == "reply"
                else _HANDLERS[name](session, self.ctx, person, args)
            )
            outcome.replies += result.replies
            outcome.sends_queued = outcome.sends_queued or result.sends_queued
        if words:
            found = replies.target(session, self.ctx, person)
            outcome.replies += replies.keep(session, self.ctx, person, words, found).replies
        return outcome

    def _in_group(
        self, session: Session, incoming: Incoming, command: tuple[str, str] | None
    ) -> Outcome:
        """In a group only workshops are handled; personal things belong in private."""
        if command is None:
            return Outcome()  # the group's own conversation is none of the bot's business
        name, args = command
        if name == "workshop":
            return workshops.handle(session, self.ctx, incoming, args)
        if name in {"help", "start"}:
            return Outcome().say(
                "Hello! In a group I run workshops:\n\n"
                + workshops.WORKSHOP_HELP
                + "\n\nFor your own daily practice, talk to me in a private chat."
            )
        if name == "safety":
            return Outcome().say(SAFETY)
        if name in COMMANDS_BY_NAME:
            return Outcome().say(
                f"/{name} works in a private chat with me, so nothing personal is seen here."
            )
        return Outcome().say(unknown_command(name))

    def _refresh_reach(self, person: Person) -> None:
        """Someone who writes again can be reached again: the next send tries, and a
        failure marks them again."""
        person.unreachable = False
        people.reschedule(person, self.ctx.clock.now())

    def _help(self, args: str) -> Outcome:
        topic = args.strip().lstrip("/").lower()
        if not topic:
            return Outcome().say(help_text())
        spec = COMMANDS_BY_NAME.get(topic)
        if spec is None:
            return Outcome().say(unknown_command(topic))
        return Outcome().say(f"{spec.usage}\n{spec.summary}.\n\n{spec.details}")

    def _start(
        self, session: Session, person: Person | None, incoming: Incoming, args: str
    ) -> Outcome:
        payload = args.strip()
        if payload.startswith("ws-"):
            if replies.POST_REFERENCE.fullmatch(payload) is None:
                raise InputError(
                    "That link doesn't lead to a workshop practice I know; it may have been "
                    "cut short. Tap “Reply privately” under the practice again."
                )
            person = person or people.create_person(session, self.ctx, incoming)
            return self._command(session, person, "reply", payload, incoming.member_of)
        if person is None:
            person = people.create_person(session, self.ctx, incoming)
        outcome = Outcome()
        if payload.lower() == "agree":
            return self._agree(person)
        if payload.startswith(couples.DEEP_LINK_PREFIX):
            code = payload[len(couples.DEEP_LINK_PREFIX) :]
            try:
                outcome = couples.join(session, self.ctx, person, code)
            except InputError as error:
                outcome.say(str(error))
        if person.onboarded_at is None:
            conversation.ask(person, Question.CONSENT, self.ctx.clock.now())
            return outcome.say(WELCOME, people.CONSENT_BUTTONS)
        if person.stopped or person.paused_until is not None:
            outcome.replies += people.resume(person, self.ctx).replies
            return outcome
        return outcome.say(
            "You're already set up. "
            + people.describe_next(person)
            + " /settings changes it; /help lists everything."
        )

    def _agree(self, person: Person) -> Outcome:
        """The consent button, also when it is pressed again on an old message."""
        step = conversation.onboarding_question(person)
        if person.consented_at is None or step is Question.CONSENT:
            conversation.ask(person, Question.CONSENT, self.ctx.clock.now())
            return people.advance_onboarding(person, self.ctx, Question.CONSENT, Outcome())
        if person.onboarded_at is None:
            return people.ask_next(
                person,
                self.ctx,
                step or Question.TIME,
                Outcome().say("You've already agreed; thank you."),
            )
        return Outcome().say(
            "You've already agreed and you're set up. " + people.describe_next(person)
        )

    def _free_text(self, session: Session, person: Person, incoming: Incoming) -> Outcome:
        """A line that is not a command: the open question's answer, or words to keep."""
        state = conversation.of(person)
        found = replies.target(session, self.ctx, person, incoming.reply_to_message_id)
        asked_last = (
            state.question is not None
            and state.asked_at is not None
            and (found is None or state.asked_at >= found.shown_at)
        )
        if asked_last:
            answered = questions.answer(session, self.ctx, person, state, incoming.text, found)
            if answered is not None:
                return answered
        elif state.question is not None:
            conversation.settle(person)  # a practice was shown since: the question lapsed
        outcome = replies.keep(session, self.ctx, person, incoming.text, found)
        if asked_last:
            questions.remind(person, state, outcome)
        return outcome

    # --- the scheduler's side -----------------------------------------------------------

    def plan_due_sync(
        self, platforms: Sequence[str], after_batch: Callable[[int], bool] | None = None
    ) -> int:
        """Write the outbox rows of everything due by now, one short transaction per
        batch, so commands and the sender never wait long behind the planner.

        `after_batch(rows written)` runs after each batch's commit (the sender can start
        on them at once); it returns False to stop planning (a shutdown).
        """
        written = 0
        for platform in platforms:
            for plan in (deliveries.plan_due, workshops.plan_posts):
                # A batch that is not full was the last; the cap bounds one call, and the
                # next tick goes on where it stopped.
                for _ in range(PLAN_BATCHES_PER_TICK):
                    with self.db.transaction() as session:
                        looked_at, wrote = plan(session, self.ctx, platform, PLAN_BATCH)
                    written += wrote
                    if after_batch is not None and not after_batch(wrote):
                        return written
                    if looked_at < PLAN_BATCH:
                        break
        return written

    def due_sync(self, platforms: Sequence[str]) -> tuple[bool, bool]:
        """(someone to plan, a row to send): the idle check, a read that locks nothing."""
        with self.db.read() as session:
            return outbox.due(session, platforms, self.ctx.clock.now())

    def claim_sync(self, platform: str) -> Send | None:
        with self.db.transaction() as session:
            return outbox.claim(session, self.ctx, platform)

    def release_sync(self, send: Send) -> None:
        with self.db.transaction() as session:
            outbox.release(session, send.kind, send.row_id)

    def take_over_orphans_sync(self, platforms: Sequence[str]) -> int:
        with self.db.transaction() as session:
            return outbox.take_over_orphans(session, self.ctx, platforms)

    def record_part_sync(self, send: Send, parts_sent: int) -> None:
        with self.db.transaction() as session:
            outbox.record_part(session, send.kind, send.row_id, parts_sent)

    def record_sent_sync(self, send: Send, message_id: str | None) -> None:
        with self.db.transaction() as session:
            outbox.record_sent(session, self.ctx, send.kind, send.row_id, message_id)

    def record_failure_sync(
        self, send: Send, failure: Failure, *, retry_after: float | None = None
    ) -> None:
        with self.db.transaction() as session:
            outbox.record_failure(
                session, self.ctx, send.kind, send.row_id, failure, retry_after=retry_after
            )

    def next_wakeup_sync(self, platforms: Sequence[str]) -> datetime | None:
        with self.db.transaction() as session:
            return outbox.next_wakeup(session, platforms)
