"""Help, written for the platform it is shown on, from the commands in `bot.core.commands`.

Telegram and the terminal take typed commands (`/settings time 7pm`, `/forget` and then
`yes`). Discord takes slash commands, whose options are filled in and whose confirmations
are buttons; a typed form such as `/forget yes` cannot be sent there, so help on Discord names
options and buttons and never a typed form.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from enum import Enum

from bot.core.command_types import Argument, Command, Subcommand, Where, Who

# Platforms whose commands are slash commands with options; every other one types them.
SLASH_PLATFORMS = frozenset({"discord"})
ADMINS_ONLY = " (administrators only)"


class Style(Enum):
    TYPED = "typed"
    SLASH = "slash"


def style_for(platform: str) -> Style:
    return Style.SLASH if platform in SLASH_PLATFORMS else Style.TYPED


def _group_place(style: Style) -> str:
    return "a server channel" if style is Style.SLASH else "a group chat"


def _arguments_shown(arguments: Sequence[Argument], style: Style) -> list[Argument]:
    """On Discord a long text is written in a form, not given as an option."""
    return [a for a in arguments if not (style is Style.SLASH and a.long)]


def usage(command: Command, subcommand: Subcommand | None, style: Style) -> str:
    """`/settings [time|zone|days|themes] [value]` typed; `/join code:` on Discord."""
    head = f"/{command.name} {subcommand.name}" if subcommand else f"/{command.name}"
    if subcommand is None and command.subcommands:
        return f"{head} " + "|".join(s.name for s in command.subcommands)
    arguments = _arguments_shown(subcommand.arguments if subcommand else command.arguments, style)
    if style is Style.SLASH:
        options = [f"{a.name}:" if a.required else f"[{a.name}:]" for a in arguments]
        return " ".join([head, *options])
    if any(a.keyword for a in arguments):
        return f"{head} [{'|'.join(a.name for a in arguments)}] [value]"
    return " ".join([head, *(a.shown_as for a in arguments)])


def _line(command: Command) -> str:
    marker = ADMINS_ONLY if command.who is Who.ADMINS else ""
    return f"/{command.name} — {command.summary}{marker}"


def overview(commands: Sequence[Command], style: Style, *, in_group: bool) -> str:
    """`/help`: what works here, then what works elsewhere."""
    if style is Style.SLASH:
        tail = "/help with its command option explains one, for example /help command: settings."
    else:
        tail = "Type /help followed by a command for details, for example /help settings."
    if in_group:
        lines = ["Hello! In a group I run workshops. Here is what I understand here:"]
        lines += [_line(c) for c in commands if c.where.in_group]
        for command in commands:
            if command.where is Where.GROUP:
                lines += ["", _details(command, style)]
        lines += ["", "For your own daily practice, talk to me in a private chat.", tail]
        return "\n".join(lines)
    lines = ["Here is what I understand:"]
    lines += [_line(c) for c in commands if c.where.in_private]
    elsewhere = [c for c in commands if not c.where.in_private]
    if elsewhere:
        lines += ["", f"Only in {_group_place(style)}:"]
        lines += [_line(c) for c in elsewhere]
    lines += ["", tail]
    return "\n".join(lines)


def _details(command: Command, style: Style) -> str:
    extra = command.slash if style is Style.SLASH else command.typed
    paragraphs = ["\n".join([command.details, extra] if extra else [command.details])]
    shown = _arguments_shown(command.arguments, style)
    if style is Style.SLASH and shown:
        paragraphs.append("\n".join(["Options:", *(f"{a.name} — {a.description}" for a in shown)]))
    if command.subcommands:
        lines = []
        for sub in command.subcommands:
            lines.append(f"{usage(command, sub, style)} — {sub.summary}")
            if style is Style.SLASH:
                lines += [f"    {a.name} — {a.description}" for a in sub.arguments]
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def elsewhere(command: Command, style: Style, *, in_group: bool) -> str:
    """Where a command works, when it is not here; empty when it works here."""
    if in_group and not command.where.in_group:
        return f"/{command.name} works in a private chat with me, so nothing personal is seen here."
    if not in_group and not command.where.in_private:
        if style is Style.SLASH:
            return f"/{command.name} works in a channel of a server I'm in, not in direct messages."
        return f"/{command.name} works in a group chat: add me to a group and use it there."
    return ""


def explain(command: Command, style: Style, *, in_group: bool) -> str:
    """`/help NAME`: how to use it here, what it does, and where and by whom."""
    lines = [usage(command, None, style), f"{command.summary}.", "", _details(command, style)]
    notes = [elsewhere(command, style, in_group=in_group)]
    if command.who is Who.ADMINS:
        notes.append(
            "Only members who can manage the server can use it."
            if style is Style.SLASH
            else "Only the group's administrators can use it."
        )
    if any(notes):
        lines += ["", " ".join(n for n in notes if n)]
    return "\n".join(lines)


def unknown(name: str, commands: Sequence[Command]) -> str:
    close = difflib.get_close_matches(name, [c.name for c in commands], n=1)
    hint = f" Did you mean /{close[0]}?" if close else ""
    return f"I don't know /{name[:40]}.{hint} Type /help to see everything I understand."
