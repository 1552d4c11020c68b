"""Sending to Telegram, and telling the core what each failure proves.

Telegram has no idempotency key, so a request that went out and got no clear answer (a
read timeout, a 5xx) may or may not have delivered its message: `OutcomeUnknown`. Only
failures that prove nothing arrived are `NotDelivered`: no connection was made, the pool
had no room, or Telegram answered with its JSON error (a 429, a 4xx).
"""

from __future__ import annotations

import datetime as dtm
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

import httpx
from telegram import Bot, InputFile, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.adapters.telegram.render import DeepLink, html_pieces, location_request, markup_for
from bot.core.messages import Document, Message, Recipient
from bot.core.ports import (
    ANSWER,
    Attempt,
    NotDelivered,
    OutcomeUnknown,
    RecipientGone,
    Rejected,
)
from bot.settings import Settings

PLATFORM = "telegram"
# Telegram's limit for messages to different chats (its FAQ: about 30 a second), and the
# limit with paid broadcasts (`allow_paid_broadcast`, up to 1,000 a second).
RATE = 30.0
PAID_RATE = 1000.0


def rate_for(settings: Settings) -> float:
    """TELEGRAM_MESSAGES_PER_SECOND when set (a Bot API server of your own, or a test),
    else Telegram's limit, with or without paid broadcasts."""
    if settings.telegram_messages_per_second is not None:
        return settings.telegram_messages_per_second
    return PAID_RATE if settings.telegram_paid_broadcast else RATE


GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send")
# httpx errors raised before a request left this machine.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
T = TypeVar("T")


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def translate_errors(call: Callable[[], Awaitable[T]]) -> T:
    """Run a Bot API call, turning Telegram's errors into what they prove."""
    try:
        return await call()
    except Forbidden as error:  # blocked by the user, kicked from the group
        raise RecipientGone(error.message) from None
    except BadRequest as error:
        if any(reason in error.message.lower() for reason in GONE):
            raise RecipientGone(error.message) from None
        raise Rejected(error.message) from None
    except RetryAfter as error:
        raise NotDelivered("flood control", _seconds(error.retry_after)) from None
    except ChatMigrated:
        raise RecipientGone("the group became a supergroup") from None
    except (Conflict, InvalidToken) as error:  # answered before acting
        raise NotDelivered(error.message) from None
    except TimedOut as error:
        if isinstance(error.__cause__, _NEVER_SENT):
            raise NotDelivered("no connection") from None
        raise OutcomeUnknown("timed out waiting for Telegram") from None
    except NetworkError as error:
        if isinstance(error.__cause__, _NEVER_SENT):
            raise NotDelivered("no connection") from None
        raise OutcomeUnknown(error.message) from None  # a 5xx, or a dropped connection
    except TelegramError as error:  # an answer that could not be read
        raise OutcomeUnknown(error.message) from None


class TelegramMessenger:
    platform = PLATFORM

    def __init__(
        self, bot: Bot, deep_link: DeepLink, *, rate: float, paid_broadcast: bool = False
    ) -> None:
        self.bot = bot
        self.deep_link = deep_link
        self.paid_broadcast = paid_broadcast
        self.rate_per_second = rate

    async def probe(self) -> None:
        await translate_errors(self.bot.get_me)

    async def send(self, to: Recipient, message: Message, attempt: Attempt = ANSWER) -> str | None:
        """Telegram cannot deduplicate by the attempt's key; parts already out are skipped."""
        chat_id = int(to.user_id)
        # Paid broadcasts are for the daily sends (they carry a key), not for answers.
        paid = True if self.paid_broadcast and attempt.key else None
        if isinstance(message, Document):
            document = message
            sent = await translate_errors(
                lambda: self.bot.send_document(
                    chat_id,
                    InputFile(document.data, filename=document.filename),
                    caption=document.caption,
                )
            )
            return str(sent.message_id)
        markup = markup_for(message, in_group=to.is_chat, deep_link=self.deep_link)
        pieces = html_pieces(message)
        message_id = ""
        for index in attempt.parts(len(pieces)):
            last = index == len(pieces) - 1
            sent = await translate_errors(
                partial(
                    self.bot.send_message,
                    chat_id,
                    pieces[index],
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if last else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    allow_paid_broadcast=paid,
                )
            )
            message_id = str(sent.message_id)
            await attempt.sent(index, len(pieces))
        request = None if to.is_chat else location_request(message)
        if request is not None:
            note, keys = request
            await translate_errors(
                partial(
                    self.bot.send_message,
                    chat_id,
                    note,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keys,
                )
            )
        return message_id
