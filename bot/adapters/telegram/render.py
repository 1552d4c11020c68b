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
