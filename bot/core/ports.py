"""The adapter boundary: what the core needs from a platform to reach people.

An adapter implements `Messenger` for its platform; the core never learns how a message
is drawn or sent. A failed send is reported as one of four exceptions, because what the
core must decide depends only on what the failure proves:

- `NotDelivered`: the platform said, or the network showed, that nothing arrived
  (connection refused, a 429, an error the platform answered before acting). Safe to retry.
- `OutcomeUnknown`: the request went out and no answer tells whether it arrived (a
  timeout while waiting, a 5xx, a dropped connection). Retried once at most.
- `Rejected`: the platform refused this message for good (a malformed request). Not retried.
- `RecipientGone`: the person blocked the bot, left, or closed their messages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.core.messages import Message, Outcome, Recipient


class SendError(Exception):
    """A send that did not go as asked; the subclass says what the failure proves."""


class NotDelivered(SendError):
    """Nothing arrived; `retry_after` is the platform's hint in seconds (a 429)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class OutcomeUnknown(SendError):
    """The request went out, and whether the message arrived is not known."""


class Rejected(SendError):
    """The platform will never accept this message as it is."""


class RecipientGone(SendError):
    """The person blocked the bot, left, or closed their messages: stop sending to them."""


# Called by a messenger after each part of a long message, except the last, is out: the
# sender records it, so a retry starts after the parts already sent.
PartSent = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class Attempt:
    """A send of an outbox row's message: `key` is the same on every attempt at that row
    (a platform that can deduplicate retries by it, Discord's nonce, uses it), and the
    parts before `first_part` are out already."""

    key: str
    first_part: int = 0
    part_sent: PartSent | None = None

    def parts(self, total: int) -> range:
        return range(self.first_part, total)

    async def sent(self, index: int, total: int) -> None:
        """Part `index` of `total` is out (the last is recorded with the whole send)."""
        if index < total - 1 and self.part_sent is not None:
            await self.part_sent(index)


ANSWER = Attempt(key="")  # a direct answer: every part, nothing to record


class Messenger(Protocol):
    platform: str
    # The platform's limit for messages the bot sends, per second, all chats together.
    rate_per_second: float

    async def send(self, to: Recipient, message: Message, attempt: Attempt = ANSWER) -> str | None:
        """Deliver a message (from `attempt.first_part` on); the platform's message id."""
        ...

    async def probe(self) -> None:
        """A call that sends nothing to anyone (who am I?): raises while the platform is down."""
        ...


class Telemetry(Protocol):
    """What the sending side reports for whoever watches the bot (`bot.metrics`, for
    Prometheus), so the core counts without importing a metrics library. Every report
    names a platform and at most an outcome, never a person or a chat."""

    def sent(self, platform: str, *, late_by: float | None) -> None:
        """A message reached the platform; `late_by` is how many seconds after its due
        time a practice arrived (None for a notice)."""
        ...

    def failed(self, platform: str, outcome: str) -> None:
        """A send failed; `outcome` is what the failure proves (`outbox.Failure`)."""
        ...

    def retried(self, platform: str) -> None:
        """A send of a row that had been tried before is starting."""
        ...

    def gave_up(self, platform: str) -> None:
        """A row's outcome was unknown twice: it is never sent again (uncertain)."""
        ...

    def ticked(self, seconds: float) -> None:
        """The planner ran, taking `seconds`."""
        ...

    def sending(self, active: bool) -> None:
        """This process started (True) or stopped (False) being the one that sends."""
        ...


class NoTelemetry:
    """Nobody is watching: the terminal, the tests, a bot without METRICS_PORT."""

    def sent(self, platform: str, *, late_by: float | None) -> None:
        pass

    def failed(self, platform: str, outcome: str) -> None:
        pass

    def retried(self, platform: str) -> None:
        pass

    def gave_up(self, platform: str) -> None:
        pass

    def ticked(self, seconds: float) -> None:
        pass

    def sending(self, active: bool) -> None:
        pass


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
