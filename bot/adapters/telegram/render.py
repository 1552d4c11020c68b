"""Core messages as Telegram draws them: HTML with every string escaped, inline keyboards.

A button's `callback_data` is its core action (a command line), which Telegram limits to
64 bytes. In a group, a `/reply` button instead becomes a deep link that opens a private
chat with the bot on that practice, because nothing written in reply may land in the group.

A request for the person's location is a reply-keyboard button (`request_location`),
which Telegram allows in private chats only and never on a message with inline buttons:
it comes as a short message of its own after the question, and the answer to the question
takes it away.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.core.messages import Keyboard, PracticeCard, Text
from bot.core.rendering import render_html, split_for_limit

CALLBACK_LIMIT = 64

DeepLink = Callable[[str], str]


def keyboard(
    buttons: Keyboard, *, in_group: bool, deep_link: DeepLink
) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = []
    for row in buttons:
        cells = []
        for button in row:
            if in_group and button.action.startswith("/reply "):
                url = deep_link(button.action.removeprefix("/reply "))
                cells.append(InlineKeyboardButton(button.label, url=url))
                continue
            if len(button.action.encode()) > CALLBACK_LIMIT:
                raise ValueError(f"button action over {CALLBACK_LIMIT} bytes: {button.label}")
            cells.append(InlineKeyboardButton(button.label, callback_data=button.action))
        rows.append(cells)
    return InlineKeyboardMarkup(rows)


def markup_for(
    message: Text | PracticeCard, *, in_group: bool, deep_link: DeepLink
) -> InlineKeyboardMarkup | ReplyKeyboardRemove | None:
    """The markup of a message's last piece: its buttons, or, on an answer to a question
    that asked for a location, taking the location button away."""
    inline = keyboard(message.buttons, in_group=in_group, deep_link=deep_link)
    answered = isinstance(message, Text) and message.location_request_done
    if inline is None and answered and not in_group:
        return ReplyKeyboardRemove()
    return inline


def location_request(message: Text | PracticeCard) -> tuple[str, ReplyKeyboardMarkup] | None:
    """The message (HTML, markup) that offers a location button after `message`, if any."""
    if not isinstance(message, Text) or message.location_request is None:
        return None
    request = message.location_request
    button = KeyboardButton(request.label, request_location=True)
    markup = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    return _escaped(request.note), markup


TEXT_LIMIT = 4096


def _escaped(text: str) -> str:
    return html.escape(text, quote=False)


def html_pieces(message: Text | PracticeCard) -> list[str]:
    """The message as one or more HTML texts, each within Telegram's 4,096 characters."""
    if isinstance(message, PracticeCard):
        return [render_html(message)]  # the content checker keeps every card within limits
    return [_escaped(piece) for piece in split_for_limit(message.body, TEXT_LIMIT, _measure)]


def _measure(text: str) -> int:
    return len(_escaped(text))
