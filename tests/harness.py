"""A person's-eye view of the core for tests: say a line, read the answer, let time pass."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.clock import ManualClock
from bot.core.context import Incoming
from bot.core.messages import (
    Document,
    Message,
    Outcome,
    PracticeCard,
    Recipient,
    Text,
)
from bot.core.ports import ANSWER, Attempt, Switchboard
from bot.core.rendering import render_text
from bot.core.service import Core
from bot.core.ticker import Ticker, TickReport

PLATFORM = "test"


def as_text(message: Message) -> str:
    if isinstance(message, Text):
        return message.body
    if isinstance(message, PracticeCard):
        return render_text(message)
    assert isinstance(message, Document)
    return message.caption


@dataclass
class FakeMessenger:
    """Records what would reach each person; can be told to fail for someone, or to be
    down altogether (`outage`, which its probe reports too)."""

    platform: str = PLATFORM
    rate_per_second: float = 10_000.0
    sent: list[tuple[str, Message]] = field(default_factory=list)
    failures: dict[str, Exception] = field(default_factory=dict)
    outage: Exception | None = None
    probes: int = 0

    async def send(self, to: Recipient, message: Message, attempt: Attempt = ANSWER) -> str | None:
        failure = self.outage or self.failures.get(to.user_id)
        if failure is not None:
            raise failure
        self.sent.append((to.user_id, message))
        return f"m{len(self.sent)}"

    async def probe(self) -> None:
        self.probes += 1
        if self.outage is not None:
            raise self.outage

    def cards_for(self, who: str) -> list[PracticeCard]:
        return [m for to, m in self.sent if to == who and isinstance(m, PracticeCard)]

    def texts_for(self, who: str) -> list[str]:
        return [as_text(m) for to, m in self.sent if to == who]


class Harness:
    def __init__(self, core: Core, clock: ManualClock) -> None:
        self.core = core
        self.clock = clock
        self.messenger = FakeMessenger()
        self.switchboard = Switchboard([self.messenger])
        self.last_replies: list[Message] = []
        self.last_outcome = Outcome()
        self.loop = asyncio.new_event_loop()
        self.ticker = Ticker(core, self.switchboard)
        # (group chat, person) pairs the "platform" counts as members; see `join_group`.
        self.members: set[tuple[str, str]] = set()
        core.ctx.memberships[PLATFORM] = self._is_member

    async def _is_member(self, chat_id: str, user_id: str) -> bool:
        return (chat_id, user_id) in self.members

    def join_group(self, who: str, chat: str) -> None:
        self.members.add((chat, who))

    def say(
        self, who: str, text: str, reply_to: str | None = None, *, in_channel: bool = False
    ) -> str:
        """One line through `Core.handle`, as an adapter hands it in."""
        outcome = self.loop.run_until_complete(
            self.core.handle(
                Incoming(
                    PLATFORM,
                    who,
                    who.title(),
                    text,
                    reply_to_message_id=reply_to,
                    in_channel=in_channel,
                )
            )
        )
        self.last_replies, self.last_outcome = outcome.replies, outcome
        if outcome.sends_queued:
            self.loop.run_until_complete(self.ticker.flush())
        return "\n".join(as_text(m) for m in outcome.replies)

    def say_in_group(self, who: str, chat: str, text: str, *, admin: bool = False) -> str:
        outcome = self.core.handle_sync(
            Incoming(PLATFORM, who, who.title(), text, chat_id=chat, is_admin=admin)
        )
        self.last_replies, self.last_outcome = outcome.replies, outcome
        return "\n".join(as_text(m) for m in outcome.replies)

    def onboard(
        self,
        who: str,
        *,
        time: str = "07:00",
        zone: str = "UTC",
        days: str = "daily",
        themes: str = "core",
    ) -> None:
        self.say(who, "/start")
        self.say(who, "/start agree")
        self.say(who, f"/settings time {time}")
        self.say(who, f"/settings zone {zone}")
        self.say(who, f"/settings days {days}")
        answer = self.say(who, f"/settings themes {themes}")
        assert "all set" in answer, answer

    def pair(self, first: str, second: str) -> None:
        answer = self.say(first, "/pair")
        code = answer.split("code is ", 1)[1].split(".", 1)[0]
        assert "paired with" in self.say(second, f"/join {code}")

    def tick(self) -> TickReport:
        return self.loop.run_until_complete(self.ticker.tick())

    def run_until(self, end: datetime, step: timedelta = timedelta(minutes=5)) -> None:
        """Tick every `step` until `end`; 20 seconds is what production does."""
        while self.clock.now() < end:
            self.clock.advance(step)
            self.tick()

    def close(self) -> None:
        self.loop.close()

    def fail_for(self, who: str, error: Exception) -> None:
        self.messenger.failures[who] = error

    def heal(self, who: str) -> None:
        self.messenger.failures.pop(who, None)
