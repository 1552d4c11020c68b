"""What the core says, in platform-free form; adapters decide how each looks on screen.

A button carries an `action`: a command line the core understands, exactly as a person
could type it. So every button can be typed too, and an old button still works after a
restart because nothing about it lives in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.core.catalog import Practice, Source


@dataclass(frozen=True)
class Button:
    label: str
    action: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class LocationRequest:
    """An offer to share one's location in one tap, shown after a message where the
    platform has such a button (Telegram's request_location); `note` is the line it sits
    under. Other platforms leave it out, and the person types a place instead."""

    label: str
    note: str


@dataclass(frozen=True)
class Text:
    body: str
    buttons: Keyboard = ()
    location_request: LocationRequest | None = None
    # The question a location was requested for is answered: a platform that still shows
    # the request takes it away.
    location_request_done: bool = False


@dataclass(frozen=True)
class PracticeCard:
    """A practice as a person receives it, with the buttons for that delivery."""

    practice: Practice
    source: Source
    practice_date: date
    delivery_id: int | None
    intro: str = ""
    buttons: Keyboard = ()


@dataclass(frozen=True)
class Document:
    filename: str
    data: bytes
    caption: str


Message = Text | PracticeCard | Document


@dataclass(frozen=True)
class Recipient:
    """A person (or, with `is_chat`, a group chat or channel) on a platform."""

    platform: str
    user_id: str
    is_chat: bool = False


@dataclass
class Outcome:
    """The core's answer to one event: messages for the person who acted.

    What the event means for other people (a partner told about a share) is not here: it
    is written to the notices outbox in the same transaction, and `sends_queued` tells the
    adapter to have the outbox sent now rather than at the next tick.
    """

    replies: list[Message] = field(default_factory=list)
    sends_queued: bool = False
    # For the person who acted only, never the group chat it came from: an adapter that
    # cannot answer privately there says how to open a private chat instead.
    private: bool = False
    # For everyone in the chat it came from (a workshop paused): an adapter that answers
    # only its asker there by default (Discord's ephemeral answers) answers openly.
    for_everyone: bool = False

    def say(self, body: str, buttons: Keyboard = ()) -> Outcome:
        self.replies.append(Text(body, buttons))
        return self
