"""`Core`: the one entry point adapters call, for typed lines, button presses and ticks.

The rules below are synchronous SQLAlchemy code; the async methods run them in a worker
thread (`asyncio.to_thread`) so the chat libraries' event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import (
    commands,
    conversation,
    deliveries,
    outbox,
    people,
    program_files,
    questions,
    replies,
    workshops,
    zones,
)
from bot.core.cleaning import INPUT_LIMIT, clean_incoming
from bot.core.command_help import elsewhere, style_for
from bot.core.command_types import Call, Command, General, Personal, Trailing, Who
from bot.core.context import Context, Incoming, Upload
from bot.core.conversation import SETTING_QUESTIONS, Question
from bot.core.messages import Button, Outcome, Text
from bot.core.outbox import Failure, Send
from bot.core.parsing import InputError
from bot.core.texts import UNREACHABLE_NOTE, WELCOME
from db.models import Person
from db.session import Database

# People (or workshops) planned per transaction (about 0.1 s of work, so a claim or a
# command never waits long for SQLite's write lock), and transactions per planning call.
PLAN_BATCH = 25
PLAN_BATCHES_PER_TICK = 1000
_COMMAND = re.compile(r"/(\S*)\s*(.*)", re.DOTALL)


def _words_after(command: Command, args: str) -> tuple[str, str]:
    """(what the command takes, the words after it that are somebody's to keep)."""
    if command.trailing is Trailing.WORDS:
        return "", args
    if command.trailing is Trailing.PRACTICE_THEN_WORDS:
        token, rest = replies.split_reference(args)
        return (token, rest) if token.startswith("#") else ("", args)
    return args, ""


def _workshop_link(payload: str) -> str:
    """`/start ws-7` is Telegram's deep link from a workshop post's Reply privately button."""
    if replies.POST_REFERENCE.fullmatch(payload) is None:
        raise InputError(
            "That link doesn't lead to a workshop practice I know; it may have been "
            "cut short. Tap “Reply privately” under the practice again."
        )
    return payload


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


class Core:
    """The whole bot, minus any platform."""

    def __init__(self, database: Database, ctx: Context) -> None:
        self.db = database
        self.ctx = ctx

    # --- people talking -----------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> Outcome:
        if incoming.location is not None:  # slow the first time: not inside a transaction
            await asyncio.to_thread(zones.load_location_lookup)
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
        if incoming.document is not None:
            return self._file(incoming, incoming.document)
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

    def _file(self, incoming: Incoming, upload: Upload) -> Outcome:
        """A file (a facilitator's program) is answered first; words sent with it (a
        caption) are a line like any other, kept by the usual rules."""
        try:
            with self.db.transaction() as session:
                outcome = program_files.receive(session, self.ctx, incoming, upload)
        except InputError as error:
            outcome = Outcome().say(str(error))
        if incoming.text.strip():
            words = self.handle_sync(dataclasses.replace(incoming, document=None))
            outcome.replies += words.replies
            outcome.sends_queued = outcome.sends_queued or words.sends_queued
        return outcome

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
        if incoming.location is not None:
            return people.zone_from_location(person, self.ctx, incoming.location)
        if command is None:
            if person is None:
                return Outcome().say(
                    "Hello! I'm Wholehearted. Type /start to begin: it also says how your "
                    "words are kept private. (I haven't kept what you wrote.)",
                    ((Button("Start", "/start"),),),
                )
            return self._free_text(session, person, incoming)
        name, args = command
        if name == "start" and args.startswith("ws-"):
            name, args = "reply", _workshop_link(args)
        spec = commands.find(name)
        if spec is None:
            return Outcome().say(commands.unknown_command(name))
        somewhere_else = elsewhere(spec, style_for(incoming.platform), in_group=False)
        if somewhere_else:
            return Outcome().say(f"{somewhere_else} /help {name} says what it does.")
        call = Call(session, self.ctx, incoming, args, person)
        if isinstance(spec.handler, General):
            return spec.handler.run(call)
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
        return self._command(call, person, spec, spec.handler)

    def _command(self, call: Call, person: Person, spec: Command, handler: Personal) -> Outcome:
        """A personal command, run after onboarding and any open question are settled."""
        args, words = _words_after(spec, call.args)
        outcome = Outcome()
        if spec.name == "today" and person.consented_at is None:
            conversation.ask(person, Question.CONSENT, self.ctx.clock.now())
            outcome.say(
                WELCOME + "\n\nOnce you agree, /today brings today's practice.",
                people.CONSENT_BUTTONS,
            )
        else:
            settings = spec.name == "settings"
            if not settings:
                people.finish_onboarding(person, self.ctx, outcome)
            # A question is answered right after it is asked: another command moves on.
            if not (settings and conversation.of(person).question in SETTING_QUESTIONS):
                conversation.settle(person)
            result = handler.run(dataclasses.replace(call, args=args, person=person), person)
            outcome.replies += result.replies
            outcome.sends_queued = outcome.sends_queued or result.sends_queued
        if words:
            found = replies.target(call.session, self.ctx, person)
            outcome.replies += replies.keep(call.session, self.ctx, person, words, found).replies
        return outcome

    def _in_group(
        self, session: Session, incoming: Incoming, command: tuple[str, str] | None
    ) -> Outcome:
        """In a group only what works in groups is handled; personal things belong in
        private."""
        if command is None:
            return Outcome()  # the group's own conversation is none of the bot's business
        name, args = command
        spec = commands.find(name)
        if spec is None:
            return Outcome().say(commands.unknown_command(name))
        if not isinstance(spec.handler, General) or not spec.where.in_group:
            here = elsewhere(spec, style_for(incoming.platform), in_group=True)
            return Outcome().say(f"{here} /help says what I do here.")
        if spec.who is Who.ADMINS and not incoming.is_admin:
            return Outcome().say(f"Only this chat's administrators can use /{name}.")
        return spec.handler.run(Call(session, self.ctx, incoming, args))

    def _refresh_reach(self, person: Person) -> None:
        """Someone who writes again can be reached again: the next send tries, and a
        failure marks them again."""
        person.unreachable = False
        people.reschedule(person, self.ctx.clock.now())

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
