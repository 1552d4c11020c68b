"""The adapter boundary: what the core needs from a platform to reach people.

An adapter implements `Messenger` for its platform; the core never learns how a message
is drawn or sent. Send failures are reported as one of two exceptions, because the only
thing the core must decide is "try again later" or "stop sending to this person".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from bot.core.messages import Message, Outcome, Recipient


class TransientSendError(Exception):
    """The platform is busy or unreachable for now; `retry_after` is its hint in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class RecipientGone(Exception):
    """The person blocked the bot, left, or closed their messages: stop sending to them."""


class Messenger(Protocol):
    platform: str

    async def send(self, to: Recipient, message: Message) -> str | None:
        """Deliver one message; return the platform's message id when it has one."""
        ...


class Switchboard:
    """Routes messages to the messenger of each recipient's platform, and lets adapters
    ask for the outbox to be sent when an event queued something for other people."""

    def __init__(self, messengers: Iterable[Messenger] = ()) -> None:
        self._messengers: dict[str, Messenger] = {}
        self._sends_queued: Callable[[], None] | None = None
        for messenger in messengers:
            self.register(messenger)

    def register(self, messenger: Messenger) -> None:
        """A platform is up: from now on its outbox rows are sent, those waiting first."""
        self._messengers[messenger.platform] = messenger
        self.send_soon()

    def when_sends_queued(self, callback: Callable[[], None]) -> None:
        self._sends_queued = callback

    def send_soon(self) -> None:
        if self._sends_queued is not None:
            self._sends_queued()

    def after(self, outcome: Outcome) -> None:
        """What an adapter calls once it has answered an event."""
        if outcome.sends_queued:
            self.send_soon()

    @property
    def platforms(self) -> list[str]:
        return sorted(self._messengers)

    def messenger_for(self, platform: str) -> Messenger | None:
        return self._messengers.get(platform)
