"""Sending to Telegram, and telling the core which failures are for now and which for good."""

from __future__ import annotations

import datetime as dtm
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from telegram import Bot, InputFile, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.adapters.telegram.render import DeepLink, html_pieces, keyboard
from bot.core.messages import Document, Message, Recipient
from bot.core.ports import RecipientGone, TransientSendError

PLATFORM = "telegram"
T = TypeVar("T")


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def translate_errors(call: Callable[[], Awaitable[T]]) -> T:
    """Run a Bot API call, turning Telegram's errors into the core's two kinds."""
    try:
        return await call()
    except Forbidden as error:  # blocked by the user, kicked from the group
        raise RecipientGone(error.message) from None
    except BadRequest as error:
        if "chat not found" in error.message.lower() or "user is deactivated" in (
            error.message.lower()
        ):
            raise RecipientGone(error.message) from None
        raise TransientSendError(error.message) from None
    except RetryAfter as error:
        raise TransientSendError("flood control", _seconds(error.retry_after)) from None
    except NetworkError as error:  # includes TimedOut
        raise TransientSendError(error.message) from None
    except TelegramError as error:
        raise TransientSendError(error.message) from None


class TelegramMessenger:
    platform = PLATFORM

    def __init__(self, bot: Bot, deep_link: DeepLink) -> None:
        self.bot = bot
        self.deep_link = deep_link

    async def send(self, to: Recipient, message: Message) -> str | None:
        chat_id = int(to.user_id)
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
        markup = keyboard(message.buttons, in_group=to.is_chat, deep_link=self.deep_link)
        pieces = html_pieces(message)
        message_id = ""
        for index, text in enumerate(pieces):
            last = index == len(pieces) - 1
            sent = await translate_errors(
                partial(
                    self.bot.send_message,
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if last else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            )
            message_id = str(sent.message_id)
        return message_id
