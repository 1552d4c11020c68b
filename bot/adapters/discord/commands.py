"""Slash commands: each one only builds the line a person would type and hands it to the core.

Options are typed (numbers, an autocompleted time zone, program choices) so Discord helps
people get them right; the core still checks everything, as it does for typed lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.parsing import zone_choices
from bot.core.texts import COMMANDS_BY_NAME

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter

Interaction = discord.Interaction[Any]


def about(name: str) -> str:
    return COMMANDS_BY_NAME[name].summary[:100]


async def zone_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=zone, value=zone) for zone in zone_choices(current)]


async def command_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    names = [name for name in COMMANDS_BY_NAME if current.lower().lstrip("/") in name]
    return [app_commands.Choice(name=f"/{name}", value=name) for name in names[:25]]


class PersonalCommands(commands.Cog):
    """Everything a person does for themselves; answers are ephemeral in servers."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter

    async def run(self, interaction: Interaction, line: str) -> None:
        await self.adapter.on_command(interaction, line)

    @app_commands.command(name="start", description=about("start"))
    async def start(self, interaction: Interaction) -> None:
        await self.run(interaction, "/start")

    @app_commands.command(name="today", description=about("today"))
    async def today(self, interaction: Interaction) -> None:
        await self.run(interaction, "/today")

    @app_commands.command(name="settings", description=about("settings"))
    @app_commands.describe(
        time="Time of day, such as 7:30, 19:00 or 7pm",
        zone="Your time zone, such as Europe/Berlin",
        days="Days, such as daily, mon-fri or sat,sun",
        themes="Themes, such as playfulness,individuality (or all, core)",
    )
    @app_commands.autocomplete(zone=zone_autocomplete)
    async def settings(
        self,
        interaction: Interaction,
        time: str | None = None,
        zone: str | None = None,
        days: str | None = None,
        themes: str | None = None,
    ) -> None:
        given = {"time": time, "zone": zone, "days": days, "themes": themes}
        lines = [f"/settings {field} {value}" for field, value in given.items() if value]
        await self.adapter.on_commands(interaction, lines or ["/settings"])

    @app_commands.command(name="pause", description=about("pause"))
    @app_commands.describe(days="How many days; leave empty to pause until /resume")
    async def pause(
        self, interaction: Interaction, days: app_commands.Range[int, 1, 365] | None = None
    ) -> None:
        await self.run(interaction, f"/pause {days}" if days else "/pause")

    @app_commands.command(name="resume", description=about("resume"))
    async def resume(self, interaction: Interaction) -> None:
        await self.run(interaction, "/resume")

    @app_commands.command(name="stop", description=about("stop"))
    async def stop(self, interaction: Interaction) -> None:
        await self.run(interaction, "/stop")

    @app_commands.command(name="pair", description=about("pair"))
    async def pair(self, interaction: Interaction) -> None:
        await self.run(interaction, "/pair")

    @app_commands.command(name="join", description=about("join"))
    @app_commands.describe(code="The code your partner got from /pair, such as K7P-3QX")
    async def join(self, interaction: Interaction, code: str) -> None:
        await self.run(interaction, f"/join {code}")

    @app_commands.command(name="unpair", description=about("unpair"))
    async def unpair(self, interaction: Interaction) -> None:
        await self.run(interaction, "/unpair")

    @app_commands.command(name="journal", description=about("journal"))
    @app_commands.describe(page="1 for the newest replies, 2 for older ones, and so on")
    async def journal(
        self, interaction: Interaction, page: app_commands.Range[int, 1, 10_000] | None = None
    ) -> None:
        await self.run(interaction, f"/journal {page}" if page else "/journal")

    @app_commands.command(name="share", description=about("share"))
    @app_commands.describe(number="The reply's number in /journal; empty for the latest")
    async def share(
        self, interaction: Interaction, number: app_commands.Range[int, 1] | None = None
    ) -> None:
        await self.run(interaction, f"/share {number}" if number else "/share")

    @app_commands.command(name="undo", description=about("undo"))
    async def undo(self, interaction: Interaction) -> None:
        await self.run(interaction, "/undo")

    @app_commands.command(name="delete", description=about("delete"))
    @app_commands.describe(number="The reply's number in /journal")
    async def delete(
        self, interaction: Interaction, number: app_commands.Range[int, 1, 999_999_999]
    ) -> None:
        await self.run(interaction, f"/delete {number}")

    @app_commands.command(name="reply", description=about("reply"))
    async def reply(self, interaction: Interaction) -> None:
        await self.adapter.open_reply_form(interaction, "/reply")

    @app_commands.command(name="skip", description=about("skip"))
    async def skip(self, interaction: Interaction) -> None:
        await self.run(interaction, "/skip")

    @app_commands.command(name="snooze", description=about("snooze"))
    async def snooze(self, interaction: Interaction) -> None:
        await self.run(interaction, "/snooze")

    @app_commands.command(name="more", description=about("more"))
    async def more(self, interaction: Interaction) -> None:
        await self.run(interaction, "/more")

    @app_commands.command(name="less", description=about("less"))
    async def less(self, interaction: Interaction) -> None:
        await self.run(interaction, "/less")

    @app_commands.command(name="export", description=about("export"))
    async def export(self, interaction: Interaction) -> None:
        await self.run(interaction, "/export")

    @app_commands.command(name="forget", description=about("forget"))
    async def forget(self, interaction: Interaction) -> None:
        await self.run(interaction, "/forget")

    @app_commands.command(name="safety", description=about("safety"))
    async def safety(self, interaction: Interaction) -> None:
        await self.run(interaction, "/safety")

    @app_commands.command(name="help", description=about("help"))
    @app_commands.describe(command="A command to explain")
    @app_commands.autocomplete(command=command_autocomplete)
    async def help(self, interaction: Interaction, command: str | None = None) -> None:
        await self.run(interaction, f"/help {command}" if command else "/help")


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class WorkshopCommands(
    commands.GroupCog,
    group_name="workshop",
    group_description="Run a multi-day workshop in this channel",
):
    """Workshops in server channels, for members who can manage the server."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter
        super().__init__()

    @app_commands.command(name="start", description="Start a workshop in this channel")
    @app_commands.describe(
        program="Which program",
        time="Time of day to post, such as 19:00",
        zone="Time zone, such as Europe/Berlin",
    )
    @app_commands.autocomplete(zone=zone_autocomplete)
    async def start(
        self,
        interaction: Interaction,
        program: str | None = None,
        time: str | None = None,
        zone: str | None = None,
    ) -> None:
        parts = ["/workshop start", program or "", time or "", zone or ""]
        await self.adapter.on_workshop(interaction, " ".join(p for p in parts if p))

    @start.autocomplete("program")
    async def program_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        programs = self.adapter.core.ctx.catalog.programs.values()
        return [
            app_commands.Choice(name=f"{p.title} ({len(p.days)} days)", value=p.id)
            for p in programs
            if current.lower() in (p.id + p.title.lower())
        ][:25]

    @app_commands.command(name="status", description="How many people replied each day")
    async def status(self, interaction: Interaction) -> None:
        await self.adapter.on_workshop(interaction, "/workshop status")

    @app_commands.command(name="stop", description="Stop this channel's workshop")
    async def stop(self, interaction: Interaction) -> None:
        await self.adapter.on_workshop(interaction, "/workshop stop")
