"""The adapter boundary: what the core needs from a platform to reach people.

An adapter implements `Messenger` for its platform; the core never learns how a message
is drawn or sent. Send failures are reported as one of two exceptions, because the only
thing the core must decide is "try again later" or "stop sending to this person".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from bot.core.messages import Message, Notice, Recipient

log = logging.getLogger(__name__)


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
    """Routes messages to the messenger of each recipient's platform."""

    def __init__(self, messengers: Iterable[Messenger] = ()) -> None:
        self._messengers: dict[str, Messenger] = {}
        for messenger in messengers:
            self.register(messenger)

    def register(self, messenger: Messenger) -> None:
        self._messengers[messenger.platform] = messenger

    @property
    def platforms(self) -> list[str]:
        return sorted(self._messengers)

    def messenger_for(self, platform: str) -> Messenger | None:
        return self._messengers.get(platform)

    async def deliver(self, notices: Iterable[Notice]) -> None:
        """Send notices to other people; one that cannot be sent is logged, not raised."""
        for notice in notices:
            messenger = self._messengers.get(notice.to.platform)
            if messenger is None:
                log.warning("no %s adapter running; a notice was not sent", notice.to.platform)
                continue
            try:
                await messenger.send(notice.to, notice.message)
            except (TransientSendError, RecipientGone) as error:
                log.warning(
                    "a notice to a %s user was not sent: %s",
                    notice.to.platform,
                    type(error).__name__,
                )
