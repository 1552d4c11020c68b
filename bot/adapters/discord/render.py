"""Core messages as Discord draws them: escaped markdown, and persistent buttons or menus.

Every button's `custom_id` is `wh:` followed by its core action, and one `DynamicItem`
class answers all of them, so a button keeps working after a restart with nothing kept in
memory. A Reply button (a `/reply` that names only its practice) opens a form (modal)
instead, because replies are written there.

A message holds at most five rows of five buttons. A question with more (the time zone
regions, the six themes) becomes a select menu instead, every button an option whose value
is its action: nothing is cut, and nothing is kept in memory either. A menu lists up to 25
options, so a longer list becomes several menus, each a page named by its first and last
option; five menus fill a message, and further pages follow in messages of their own.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.core.messages import Button, Document, Keyboard, Message, PracticeCard
from bot.core.rendering import escape_markdown, render_markdown, split_for_limit

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter

TEXT_LIMIT = 2000
CUSTOM_ID = re.compile(r"wh:(?P<action>/.+)")
MENU_ID = re.compile(r"wh:menu:(?P<index>[0-9]+)")
MAX_ROWS = 5
ROW_WIDTH = 5
MENU_OPTIONS = 25


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID):
    """Any core button; pressing it runs its action as if the person had typed it."""

    def __init__(self, label: str, action: str, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                custom_id=f"wh:{action}"[:100],
                row=row,
                style=discord.ButtonStyle.primary
                if action.startswith("/reply")
                else discord.ButtonStyle.secondary,
            )
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        label = item.label if isinstance(item, discord.ui.Button) else ""
        return cls(label or "", match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        adapter: DiscordAdapter = interaction.client.adapter
        try:
            await adapter.on_button(interaction, self.action)
        except Exception as error:  # into the adapter's one failure boundary
            await adapter.report_failure(interaction, error)


class ActionMenu(discord.ui.DynamicItem[discord.ui.Select[Any]], template=MENU_ID):
    """A question with more buttons than a message holds, as a menu: choosing an option
    runs its action as if the person had pressed that button."""

    def __init__(self, menu: discord.ui.Select[Any]) -> None:
        super().__init__(menu)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionMenu:
        if not isinstance(item, discord.ui.Select):
            raise TypeError(f"{match.string} is not a select menu")
        return cls(item)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        adapter: DiscordAdapter = interaction.client.adapter
        try:
            for action in self.item.values:
                await adapter.on_button(interaction, action)
        except Exception as error:  # into the adapter's one failure boundary
            await adapter.report_failure(interaction, error)


def _menu(index: int, page: Sequence[Button], pages: int) -> ActionMenu:
    placeholder = "Choose one…"
    if pages > 1:
        placeholder = f"Choose one: {page[0].label[:60]} … {page[-1].label[:60]}"
    menu: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=f"wh:menu:{index}",
        placeholder=placeholder,
        options=[discord.SelectOption(label=b.label[:100], value=b.action[:100]) for b in page],
        row=index % MAX_ROWS,
    )
    return ActionMenu(menu)


def views_for(buttons: Keyboard) -> list[discord.ui.View]:
    """The buttons as rows of buttons when they fit in a message, else as menus (one view
    per message, for a list longer than five menus)."""
    rows = [row[i : i + ROW_WIDTH] for row in buttons for i in range(0, len(row), ROW_WIDTH)]
    if not rows:
        return []
    if len(rows) <= MAX_ROWS:
        view = discord.ui.View(timeout=None)
        for row_index, row in enumerate(rows):
            for button in row:
                view.add_item(ActionButton(button.label, button.action, row=row_index))
        return [view]
    options = [button for row in rows for button in row]
    pages = [options[i : i + MENU_OPTIONS] for i in range(0, len(options), MENU_OPTIONS)]
    views: list[discord.ui.View] = []
    for index, page in enumerate(pages):
        if index % MAX_ROWS == 0:
            views.append(discord.ui.View(timeout=None))
        views[-1].add_item(_menu(index, page, len(pages)))
    return views


def _measure(text: str) -> int:
    return len(escape_markdown(text))


def send_kwargs(message: Message) -> list[dict[str, Any]]:
    """Keyword arguments for one or more `send` calls; buttons go on the last one."""
    if isinstance(message, Document):
        file = discord.File(io.BytesIO(message.data), filename=message.filename)
        return [{"content": escape_markdown(message.caption), "file": file}]
    views = views_for(message.buttons)
    if isinstance(message, PracticeCard):
        pieces = [render_markdown(message)]
    else:
        pieces = [escape_markdown(p) for p in split_for_limit(message.body, TEXT_LIMIT, _measure)]
    calls: list[dict[str, Any]] = [{"content": piece} for piece in pieces]
    if views:
        calls[-1]["view"] = views[0]
        calls += [{"view": view} for view in views[1:]]
    return calls
