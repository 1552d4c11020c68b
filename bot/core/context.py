"""What every core rule needs at hand, and the shape of an event an adapter hands in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.catalog import Catalog
from bot.core.clock import Clock
from bot.core.crypto import ReplyCipher

# One reply holds up to a whole Telegram message; longer text is kept in several parts.
MAX_REPLY_CHARS = 4096
INVITE_LIFETIME = timedelta(hours=48)
SNOOZE = timedelta(hours=1)
# The largest file the bot takes (a facilitator's program): a long program with its own
# practices is a few kilobytes, so adapters do not fetch anything bigger.
UPLOAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Context:
    catalog: Catalog
    cipher: ReplyCipher
    clock: Clock
    # Platform -> a function turning a start payload into a link that opens a private chat
    # with the bot (Telegram's t.me deep links); adapters register theirs at start-up.
    deep_links: dict[str, Callable[[str], str]] = field(default_factory=dict)
    # Platform -> `is_member(chat_id, user_id)`, asked of the platform when someone replies
    # to a workshop post: only members of the post's chat are counted there.
    memberships: dict[str, Callable[[str, str], Awaitable[bool]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Coordinates:
    """Where a person said they are, for looking up their time zone. It is used once and
    never kept, and left out of every representation a log could print."""

    latitude: float = field(repr=False)
    longitude: float = field(repr=False)


@dataclass(frozen=True)
class Upload:
    """A file a person sent. `content` is None when the adapter did not fetch it: bigger
    than `UPLOAD_LIMIT`, or sent in a group, where the bot keeps nothing."""

    name: str
    size: int
    content: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed a line or pressed a button (whose action is a line).

    `reply_to_message_id` is the platform id of the bot message they replied to, if any,
    so a reply to an old practice attaches to that practice. `chat_id` is set when the
    line was written in a group chat or channel, and `is_admin` says whether the platform
    counts its author as an administrator there (checked by the adapter at that moment).
    """

    platform: str
    user_id: str
    display_name: str
    text: str
    reply_to_message_id: str | None = None
    chat_id: str | None = None
    is_admin: bool = False
    # A personal command used in a shared channel, answered so that only its author sees
    # it (Discord's ephemeral answers).
    in_channel: bool = False
    # The group chat the platform confirmed the author is a member of, when the line
    # replies to a workshop post there (`Core.handle` asks before the transaction).
    member_of: str | None = None
    # A location the person shared (Telegram), with empty `text`: it sets their time zone.
    location: Coordinates | None = None
    # A file sent with the message (a facilitator's program); `text` is its caption.
    document: Upload | None = None
