"""`Core`: the one entry point adapters call, for typed lines, button presses and ticks.

The rules below are synchronous SQLAlchemy code; the async methods run them in a worker
thread (`asyncio.to_thread`) so the chat libraries' event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import couples, deliveries, people, privacy, replies, workshops
from bot.core.context import Context, Incoming
from bot.core.deliveries import Send
from bot.core.messages import Button, Outcome
from bot.core.parsing import InputError
from bot.core.texts import COMMANDS_BY_NAME, SAFETY, WELCOME, help_text
from db.models import Delivery, Person
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
    "unpair": lambda s, c, p, a: couples.unpair(s, p),
    "journal": replies.journal,
    "share": replies.share,
    "reply": replies.start_reply,
    "export": lambda s, c, p, a: privacy.export(s, c, p),
    "skip": deliveries.skip,
    "snooze": deliveries.snooze,
    "more": lambda s, c, p, a: deliveries.steer(s, c, p, a, more=True),
    "less": lambda s, c, p, a: deliveries.steer(s, c, p, a, more=False),
}


def _settings(ctx: Context, person: Person, args: str) -> Outcome:
    field, _, value = args.strip().partition(" ")
    if not field:
        return Outcome().say(people.settings_summary(person), people.SETTINGS_BUTTONS)
    return people.apply_setting(person, ctx, field.lower(), value.strip())


def split_command(text: str) -> tuple[str, str] | None:
    """`/settings@MyBot time 7pm` → ("settings", "time 7pm"); None when not a command."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower().replace("_", "-")
    return name, rest.strip()


def unknown_command(name: str) -> str:
    close = difflib.get_close_matches(name, list(COMMANDS_BY_NAME), n=1)
    hint = f" Did you mean /{close[0]}?" if close else ""
    return f"I don't know /{name}.{hint} Type /help to see everything I understand."


class Core:
    """The whole bot, minus any platform."""

    def __init__(self, database: Database, ctx: Context) -> None:
        self.db = database
        self.ctx = ctx

    # --- people talking -----------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> Outcome:
        return await asyncio.to_thread(self.handle_sync, incoming)

    def handle_sync(self, incoming: Incoming) -> Outcome:
        try:
            with self.db.transaction() as session:
                return self._dispatch(session, incoming)
        except InputError as error:
            return Outcome().say(str(error))

    def _dispatch(self, session: Session, incoming: Incoming) -> Outcome:
        command = split_command(incoming.text)
        if incoming.chat_id is not None:
            return self._in_group(session, incoming, command)
        person = people.find_person(session, incoming.platform, incoming.user_id)
        if person is not None:
            self._refresh(person, incoming)
        if command is None:
            if person is None:
                return Outcome().say(
                    "Hello! I'm Wholehearted. Type /start to begin.",
                    ((Button("Start", "/start"),),),
                )
            return self._plain_text(session, person, incoming)
        name, args = command
        if name == "help":
            return self._help(args)
        if name == "safety":
            return Outcome().say(SAFETY)
        if name == "start":
            return self._start(session, person, incoming, args)
        if person is None and name == "reply" and args.startswith("ws-"):
            # A workshop member may reply without ever setting up daily practices.
            person = people.create_person(session, self.ctx, incoming)
        if person is None:
            if name not in COMMANDS_BY_NAME:
                return Outcome().say(unknown_command(name))
            return Outcome().say(
                "Type /start first: it takes a minute and sets up your daily practice.",
                ((Button("Start", "/start"),),),
            )
        if name == "forget":
            if args.strip().lower() in {"yes", "y", "confirm"}:
                return privacy.forget(session, person)
            if args.strip().lower() in {"no", "n", "cancel"}:
                person.awaiting = None
                return Outcome().say("Kept. Nothing was deleted.")
            return privacy.ask_to_forget(person)
        handler = _HANDLERS.get(name)
        if handler is None:
            return Outcome().say(unknown_command(name))
        if person.awaiting == "forget":
            person.awaiting = None
        return handler(session, self.ctx, person, args)

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

    def _refresh(self, person: Person, incoming: Incoming) -> None:
        """Someone who writes again can be reached again, under their current name."""
        if incoming.seen_in is not None:
            person.last_seen_in = incoming.seen_in
        if incoming.display_name and incoming.display_name != person.display_name:
            person.display_name = incoming.display_name[:128]
        if person.unreachable:
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
        if person is None:
            person = people.create_person(session, self.ctx, incoming)
        outcome = Outcome()
        if payload.lower() == "agree":
            return people.advance_onboarding(person, self.ctx, "consent", outcome)
        if payload.startswith("ws-"):
            return replies.start_reply(session, self.ctx, person, payload)
        if payload.startswith(couples.DEEP_LINK_PREFIX):
            code = payload[len(couples.DEEP_LINK_PREFIX) :]
            try:
                outcome = couples.join(session, self.ctx, person, code)
            except InputError as error:
                outcome.say(str(error))
        if person.onboarding_step is not None:
            person.onboarding_step = "consent"
            outcome.say(
                WELCOME,
                (
                    (
                        Button("I agree, let's begin", "/start agree"),
                        Button("Safety first", "/safety"),
                    ),
                ),
            )
            return outcome
        if person.stopped or person.paused_until is not None:
            return people.resume(person, self.ctx)
        return outcome.say(
            "You're already set up. "
            + people.describe_next(person)
            + " /settings changes it; /help lists everything."
        )

    def _plain_text(self, session: Session, person: Person, incoming: Incoming) -> Outcome:
        if person.awaiting == "forget":
            person.awaiting = None
            return Outcome().say("Kept. Nothing was deleted.")
        awaited = replies.awaited_reply(session, self.ctx, person, incoming.text)
        if awaited is not None:
            return awaited
        if person.onboarding_step is not None:
            return people.understand_onboarding_answer(person, self.ctx, incoming.text)
        delivery = None
        if incoming.reply_to_message_id is not None:
            delivery = session.scalar(
                select(Delivery).where(
                    Delivery.person_id == person.id,
                    Delivery.platform_message_id == incoming.reply_to_message_id,
                )
            )
        return replies.save_reply(session, self.ctx, person, incoming.text, delivery)

    # --- the scheduler's side -----------------------------------------------------------

    def plan_due_sync(self, platforms: Sequence[str]) -> int:
        with self.db.transaction() as session:
            planned = deliveries.plan_due(session, self.ctx, platforms)
            return planned + workshops.plan_posts(session, self.ctx, list(platforms))

    def claim_sends_sync(self, platforms: Sequence[str]) -> list[Send]:
        with self.db.transaction() as session:
            return deliveries.claim_sends(session, self.ctx, platforms)

    def record_sent_sync(self, send: Send, message_id: str | None) -> None:
        with self.db.transaction() as session:
            deliveries.record_sent(session, self.ctx, send.kind, send.row_id, message_id)

    def record_failure_sync(
        self, send: Send, *, permanent: bool, retry_after: float | None = None
    ) -> None:
        with self.db.transaction() as session:
            deliveries.record_failure(
                session,
                self.ctx,
                send.kind,
                send.row_id,
                permanent=permanent,
                retry_after=retry_after,
            )

    def last_seen_in_sync(self, platform: str, user_id: str) -> str | None:
        with self.db.transaction() as session:
            person = people.find_person(session, platform, user_id)
            return person.last_seen_in if person else None

    def next_wakeup_sync(self) -> datetime | None:
        with self.db.transaction() as session:
            return deliveries.next_wakeup(session)
