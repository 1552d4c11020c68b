"""Core messages as Telegram draws them: HTML with every string escaped, inline keyboards.

A button's `callback_data` is its core action (a command line), which Telegram limits to
64 bytes. In a group, a `/reply` button instead becomes a deep link that opens a private
chat with the bot on that practice, because nothing written in reply may land in the group.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.messages import Keyboard, PracticeCard, Text
from bot.core.rendering import render_html

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


def text_html(message: Text | PracticeCard) -> str:
    if isinstance(message, PracticeCard):
        return render_html(message)
    return html.escape(message.body, quote=False)
