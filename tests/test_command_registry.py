"""One command registry: help, Telegram's menus, Discord's command tree and the dispatch all
say what `bot.core.commands` says, and Discord never loses a button a question offers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.core import people
from bot.core.catalog import Catalog
from bot.core.command_help import Style, usage
from bot.core.command_types import Argument, Command, Kind, Where, Who
from bot.core.commands import COMMANDS
from bot.core.crypto import ReplyCipher
from bot.core.messages import Button, Recipient, Text
from tests.discord_world import ANA, World, menus, open_world, text_of
from tests.harness import Harness
from tests.telegram_world import running_world

GROUP = "-100"
PRIVATE_NAMES = [c.name for c in COMMANDS if c.where.in_private]
GROUP_NAMES = [c.name for c in COMMANDS if c.where.in_group]
# What Discord's slash commands cannot take: a confirmation typed after the command, or a
# reply's words typed on the command line.
TYPED_ONLY = re.compile(r"/forget yes|/delete \d+ yes|type yes|/reply followed by|/join [A-Z]")


@pytest.fixture
async def discord_world(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async with open_world(tmp_path, catalog, cipher, monkeypatch) as opened:
        yield opened


def _options(arguments: tuple[Argument, ...]) -> list[Argument]:
    return [a for a in arguments if not a.long]  # a long text is written in a form


# --- the registry itself ----------------------------------------------------------------


def test_every_command_fits_every_platform() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names)) and len(names) <= 100  # Telegram's menu limit
    for command in COMMANDS:
        assert re.fullmatch(r"[a-z]{1,32}", command.name), command.name
        assert 1 <= len(command.summary) <= 100, command.name  # Discord's description limit
        everything = [*command.arguments, *(a for s in command.subcommands for a in s.arguments)]
        for argument in everything:
            assert re.fullmatch(r"[a-z]{1,32}", argument.name)
            assert 1 <= len(argument.description) <= 100, (command.name, argument.name)
        # Typed, `/settings time 7pm` takes one argument a line; others take them in order.
        assert len({a.keyword for a in command.arguments}) <= 1, command.name


# --- help and dispatch ------------------------------------------------------------------


def test_help_lists_what_works_here_and_names_what_works_in_a_group(bot: Harness) -> None:
    listing = bot.say("ana", "/help")
    private_part, _, group_part = listing.partition("Only in a group chat:")
    for name in PRIVATE_NAMES:
        assert f"\n/{name} — " in private_part, name
    assert "/workshop — " in group_part and "(administrators only)" in group_part
    in_group = bot.say_in_group("mia", GROUP, "/help")
    listed = set(re.findall(r"^/(\w+) — ", in_group, re.MULTILINE))
    assert set(GROUP_NAMES) <= listed and "journal" not in listed
    assert "/workshop start [program] [HH:MM] [time zone]" in in_group


def test_help_for_a_group_command_in_private_explains_it(bot: Harness) -> None:
    answer = bot.say("ana", "/help workshop")
    assert "I don't know" not in answer
    assert answer.startswith("/workshop start|status|pause|resume|skip|stop")
    assert "/workshop start [program] [HH:MM] [time zone]" in answer
    assert "works in a group chat" in answer and "administrators" in answer
    typed = bot.say("ana", "/workshop start")
    assert "works in a group chat" in typed and "/help workshop" in typed
    assert "works in a private chat" in bot.say_in_group("mia", GROUP, "/help journal")


def test_every_command_is_dispatched_where_it_works(bot: Harness) -> None:
    bot.onboard("ana")
    for command in COMMANDS:
        answer = bot.say_in_group("fay", GROUP, f"/{command.name}", admin=True)
        assert "I don't know" not in answer, command.name
        assert ("works in a private chat" in answer) != command.where.in_group, command.name
    for command in COMMANDS:
        answer = bot.say("ana", f"/{command.name}")
        assert "I don't know" not in answer, command.name
        assert ("works in a group chat" in answer) != command.where.in_private, command.name
    assert "Only this chat's administrators" in bot.say_in_group("mia", GROUP, "/workshop")
    assert "I don't know /fly" in bot.say("ana", "/fly")


# --- Telegram's menus -------------------------------------------------------------------


async def test_telegram_menus_are_the_registry(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher
) -> None:
    async with running_world(tmp_path, catalog, cipher) as world:
        menus = world.fake.command_menus

    def menu(commands: list[Command]) -> list[tuple[str, str]]:
        return [(c.name, c.summary) for c in commands]

    assert menus["all_private_chats"] == menu([c for c in COMMANDS if c.where.in_private])
    group = [c for c in COMMANDS if c.where.in_group]
    assert menus["all_chat_administrators"] == menu(group)
    assert menus["all_group_chats"] == menu([c for c in group if c.who is Who.EVERYONE])
    # Group-only commands appear only in group menus; administrators' only in theirs.
    assert "workshop" not in dict(menus["all_private_chats"])
    assert "workshop" not in dict(menus["all_group_chats"])
    assert "workshop" in dict(menus["all_chat_administrators"])


# --- Discord's command tree -------------------------------------------------------------


def _check_options(
    synced: list[dict[str, Any]], arguments: tuple[Argument, ...], world: World
) -> None:
    expected = _options(arguments)
    assert sorted(o["name"] for o in synced) == sorted(a.name for a in expected)
    for argument in expected:
        option = next(o for o in synced if o["name"] == argument.name)
        assert option["description"] == argument.description
        assert bool(option.get("required")) == argument.required, argument.name
        assert option["type"] == (4 if argument.kind is Kind.NUMBER else 3), argument.name
        if argument.kind is Kind.NUMBER:
            assert (option["min_value"], option["max_value"]) == (
                argument.minimum,
                argument.maximum,
            )
        if argument.choices is not None:
            choices = argument.choices(world.core.ctx)
            assert [(c["value"], c["name"]) for c in option["choices"]] == [
                (c.value, c.label) for c in choices
            ]
        assert bool(option.get("autocomplete")) == (argument.suggest is not None), argument.name


async def test_the_discord_command_tree_is_the_registry(discord_world: World) -> None:
    synced = {c["name"]: c for c in discord_world.fake.synced_commands}
    assert sorted(synced) == sorted(c.name for c in COMMANDS)
    for command in COMMANDS:
        tree = synced[command.name]
        assert tree["description"] == command.summary
        administrators = discord.Permissions(manage_guild=True).value
        permissions = tree["default_member_permissions"]
        assert (permissions is not None and int(permissions) == administrators) == (
            command.who is Who.ADMINS
        ), command.name
        server_only = tree["contexts"] == [0] or tree["dm_permission"] is False
        assert server_only == (command.where is Where.GROUP), command.name
        if not command.subcommands:
            _check_options(tree["options"], command.arguments, discord_world)
            continue
        assert [o["name"] for o in tree["options"]] == [s.name for s in command.subcommands]
        for option, subcommand in zip(tree["options"], command.subcommands, strict=True):
            assert option["type"] == 1 and option["description"] == subcommand.summary
            _check_options(option.get("options") or [], subcommand.arguments, discord_world)


async def test_discord_help_names_options_and_buttons_never_typed_forms(
    discord_world: World,
) -> None:
    listing = text_of(await discord_world.slash(ANA, "help"))
    assert "/help command: settings" in listing and "Only in a server channel:" in listing
    for command in COMMANDS:
        answer = text_of(await discord_world.slash(ANA, "help", {"command": command.name}))
        shown = answer.replace("\\", "")  # Discord's markdown escapes
        assert shown.startswith(usage(command, None, Style.SLASH)), (command.name, shown)
        assert not TYPED_ONLY.search(shown), (command.name, shown)
        for argument in _options(command.arguments):
            assert f"{argument.name} — {argument.description}" in shown
    forget = text_of(await discord_world.slash(ANA, "help", {"command": "forget"}))
    assert "Yes, delete everything" in forget
    reply = text_of(await discord_world.slash(ANA, "help", {"command": "reply"}))
    assert "opens a form" in reply
    workshop = text_of(await discord_world.slash(ANA, "help", {"command": "workshop"}))
    assert "works in a channel of a server" in workshop and "manage the server" in workshop


# --- Discord: questions with more buttons than a message holds ---------------------------


async def _choose(
    world: World, message: dict[str, Any], action: str, expect: str
) -> dict[str, Any]:
    """Pick `action` in whichever of the message's menus offers it; the answer saying `expect`."""
    (custom_id,) = [i for i, values in menus(message).items() if action in values]
    picked = await world.fake.press(ANA, custom_id, message=message, values=[action])
    return await world.answer_with(picked, expect)


def _actions(buttons: tuple[tuple[Button, ...], ...]) -> list[str]:
    return [button.action for row in buttons for button in row]


async def test_long_questions_become_menus_that_keep_every_option(discord_world: World) -> None:
    world = discord_world
    welcome = await world.slash(ANA, "start")
    agreed = await world.fake.press(ANA, "wh:/start agree", message=welcome["message"])
    time_question = await world.answer_with(agreed, "What time")
    pressed = await world.fake.press(
        ANA, "wh:/settings time 07:00", message=time_question["message"]
    )
    zone_question = await world.answer_with(pressed, "Which time zone")
    offered = [v for values in menus(zone_question["message"]).values() for v in values]
    assert offered == _actions(people.zone_prompt()[1]) and "/settings zone UTC" in offered
    days_question = await _choose(
        world, zone_question["message"], "/settings zone UTC", "Which days"
    )
    pressed = await world.fake.press(
        ANA, "wh:/settings days daily", message=days_question["message"]
    )
    themes_question = await world.answer_with(pressed, "Which themes")
    offered = [v for values in menus(themes_question["message"]).values() for v in values]
    rows = len(themes_question["message"]["components"])
    assert len(offered) >= 7 and rows == 1, "seven or more rows of buttons became one menu"
    assert all(f"themes +{t}" in " ".join(offered) for t in ("courage", "conflict", "resilience"))
    added = await _choose(world, themes_question["message"], "/settings themes +courage", "Themes")
    labels = [
        o["label"]
        for row in added["message"]["components"]
        for o in row["components"][0]["options"]
    ]
    assert "✓ Courage and vulnerability" in labels
    await _choose(world, added["message"], "/settings themes done", "all set")
    assert "Courage" in text_of(await world.slash(ANA, "settings"))


async def test_more_than_25_options_come_as_pages_and_each_works(discord_world: World) -> None:
    world = discord_world
    await world.onboard(ANA)
    times = [f"{hour:02d}:{minute:02d}" for hour in range(6, 21) for minute in (0, 30)]
    buttons = tuple((Button(at, f"/settings time {at}"),) for at in times)
    await world.adapter.messenger.send(Recipient("discord", str(ANA)), Text("When?", buttons))
    message = world.fake.dms(ANA)[-1]
    pages = menus(message)
    assert len(pages) == 2 and [v for page in pages.values() for v in page] == _actions(buttons)
    chosen = await _choose(world, message, "/settings time 20:30", "20:30")
    assert "Time set" in text_of(chosen)
