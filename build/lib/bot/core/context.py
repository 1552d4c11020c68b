"""What every core rule needs at hand, and the shape of an event an adapter hands in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core.catalog import Catalog
from bot.core.clock import Clock
from bot.core.crypto import ReplyCipher

MAX_REPLY_CHARS = 4000
INVITE_LIFETIME = timedelta(hours=48)
SNOOZE = timedelta(hours=1)


@dataclass(frozen=True)
class Context:
    catalog: Catalog
    cipher: ReplyCipher
    clock: Clock


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed a line or pressed a button (whose action is a line).

    `reply_to_message_id` is the platform id of the bot message they replied to, if any,
    so a reply to an old practice attaches to that practice.
    """

    platform: str
    user_id: str
    display_name: str
    text: str
    reply_to_message_id: str | None = None
