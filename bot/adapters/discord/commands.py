"""Discord's slash commands, built from the command registry (`bot.core.commands`).

Nothing here is written per command. Each argument becomes an option typed as the registry
says: text (autocompleted where the core suggests values, such as time zones), a whole number
within its bounds, or a choice from its choices (Discord lists up to 25; more are
autocompleted). Commands for administrators need the Manage Server permission, and group
commands are for server channels only; a long text (a reply's words) is written in a form
(modal) instead of an option. Using a command only builds the line(s) a person would type and
hands them to the adapter: the core checks everything, as it does for typed lines.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.core.command_types import (
    Argument,
    Choice,
    Command,
    Kind,
    Subcommand,
    Where,
    Who,
    typed_lines,
)
from bot.core.commands import COMMANDS
from bot.core.context import Context

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter

Interaction = discord.Interaction[Any]
# Discord shows at most 25 choices for an option, and 25 autocomplete suggestions.
MOST_CHOICES = 25
# Discord's permission for "administrators": those who can manage the server.
ADMINISTRATORS = discord.Permissions(manage_guild=True)
Completer = Callable[[Interaction, str], Any]


def slash_commands(
    adapter: DiscordAdapter,
) -> list[app_commands.Command[Any, ..., Any] | app_commands.Group]:
    """Every registry command as Discord's command tree holds it."""
    built: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = []
    for command in COMMANDS:
        if not command.subcommands:
            built.append(_slash(adapter, command, None))
            continue
        group = app_commands.Group(
            name=command.name,
            description=command.summary,
            guild_only=command.where is Where.GROUP,
            default_permissions=ADMINISTRATORS if command.who is Who.ADMINS else None,
        )
        for subcommand in command.subcommands:
            group.add_command(_slash(adapter, command, subcommand))
        built.append(group)
    return built


def _slash(
    adapter: DiscordAdapter, command: Command, subcommand: Subcommand | None
) -> app_commands.Command[Any, ..., Any]:
    ctx = adapter.core.ctx
    arguments = subcommand.arguments if subcommand else command.arguments
    in_a_form = any(a.long for a in arguments)
    options = [a for a in arguments if not a.long]

    async def use(interaction: Interaction, **values: Any) -> None:
        lines = typed_lines(command, subcommand, values)
        if in_a_form:
            await adapter.open_reply_form(interaction, lines[0])
        else:
            await adapter.on_commands(interaction, lines, group=command.where is Where.GROUP)

    interaction = inspect.Parameter(
        "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
    )
    use.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [interaction, *(_parameter(a) for a in options)]
    )
    if options:
        app_commands.describe(**{a.name: a.description for a in options})(use)
    listed = {a.name: choices for a in options if (choices := _listed(ctx, a))}
    if listed:
        app_commands.choices(**listed)(use)
    completed = {a.name: _completer(found) for a in options if (found := _matching(ctx, a))}
    if completed:
        app_commands.autocomplete(**completed)(use)
    if subcommand is None and command.where is Where.GROUP:
        app_commands.guild_only()(use)
    if subcommand is None and command.who is Who.ADMINS:
        app_commands.default_permissions(ADMINISTRATORS)(use)
    described = subcommand or command
    return app_commands.Command(name=described.name, description=described.summary, callback=use)


def _parameter(argument: Argument) -> inspect.Parameter:
    kind: Any = (
        app_commands.Range[int, argument.minimum, argument.maximum]
        if argument.kind is Kind.NUMBER
        else str
    )
    return inspect.Parameter(
        argument.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=kind if argument.required else kind | None,
        default=inspect.Parameter.empty if argument.required else None,
    )


def _discord_choices(choices: Sequence[Choice]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=c.label[:100], value=c.value) for c in choices]


def _listed(ctx: Context, argument: Argument) -> list[app_commands.Choice[str]]:
    """A choice's choices, when Discord can list them all."""
    choices = argument.choices(ctx) if argument.choices is not None else ()
    return _discord_choices(choices) if len(choices) <= MOST_CHOICES else []


def _matching(ctx: Context, argument: Argument) -> Callable[[str], Sequence[Choice]] | None:
    """What to suggest as a person types: the core's suggestions for a text, or the choices
    that match, for a choice with more than Discord lists."""
    suggest, choices = argument.suggest, argument.choices(ctx) if argument.choices else ()
    if suggest is not None:
        return lambda typed: suggest(ctx, typed)
    if len(choices) > MOST_CHOICES:
        return lambda typed: [c for c in choices if typed.lower() in f"{c.value} {c.label}".lower()]
    return None


def _completer(matching: Callable[[str], Sequence[Choice]]) -> Completer:
    async def complete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return _discord_choices(matching(current.strip()))[:MOST_CHOICES]

    return complete
