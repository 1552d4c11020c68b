"""Core messages as Discord draws them: escaped markdown, and persistent buttons.

Every button's `custom_id` is `wh:` followed by its core action, and one `DynamicItem`
class answers all of them, so a button keeps working after a restart with nothing kept in
memory. A Reply button (a `/reply` that names only its practice) opens a form (modal)
instead, because replies are written there.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.core.messages import Document, Keyboard, Message, PracticeCard
from bot.core.rendering import escape_markdown, render_markdown, split_for_limit

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter

TEXT_LIMIT = 2000
CUSTOM_ID = re.compile(r"wh:(?P<action>/.+)")


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


def view_for(buttons: Keyboard) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for row_index, row in enumerate(buttons[:5]):
        for button in row[:5]:
            view.add_item(ActionButton(button.label, button.action, row=row_index))
    return view


def _measure(text: str) -> int:
    return len(escape_markdown(text))


def send_kwargs(message: Message) -> list[dict[str, Any]]:
    """Keyword arguments for one or more `send` calls; buttons go on the last one."""
    if isinstance(message, Document):
        file = discord.File(io.BytesIO(message.data), filename=message.filename)
        return [{"content": escape_markdown(message.caption), "file": file}]
    view = view_for(message.buttons)
    if isinstance(message, PracticeCard):
        pieces = [render_markdown(message)]
    else:
        pieces = [escape_markdown(p) for p in split_for_limit(message.body, TEXT_LIMIT, _measure)]
    calls: list[dict[str, Any]] = [{"content": piece} for piece in pieces]
    if view is not None:
        calls[-1]["view"] = view
    return calls
