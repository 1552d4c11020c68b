"""End to end on Discord: the real discord.py client against a fake Discord server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.core.catalog import Catalog
from bot.core.commands import COMMANDS
from bot.core.crypto import ReplyCipher
from tests.discord_world import (
    ANA,
    BEN,
    EPHEMERAL,
    FAY,
    MIA,
    World,
    custom_ids,
    menus,
    open_world,
    text_of,
)

SECRET = "a private thought for nobody in the channel"


@pytest.fixture
async def world(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async with open_world(tmp_path, catalog, cipher, monkeypatch) as opened:
        yield opened


async def test_commands_are_synced_with_descriptions_and_permissions(world: World) -> None:
    names = {c["name"]: c for c in world.fake.synced_commands}
    for name in [spec.name for spec in COMMANDS]:
        assert name in names and names[name]["description"]
    workshop = names["workshop"]
    assert (
        int(workshop["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    )
    assert {o["name"] for o in workshop["options"]} == {
        "start",
        "status",
        "pause",
        "resume",
        "skip",
        "stop",
    }
    zone = next(o for o in names["settings"]["options"] if o["name"] == "zone")
    assert zone["autocomplete"] is True


async def test_onboarding_by_slash_commands_and_buttons(world: World) -> None:
    welcome = await world.slash(ANA, "start")
    assert "Shall we begin" in text_of(welcome)
    assert "wh:/start agree" in custom_ids(welcome["message"])
    pressed = await world.fake.press(ANA, "wh:/start agree", message=welcome["message"])
    question = await world.answer_with(pressed, "What time")
    pressed = await world.fake.press(ANA, "wh:/settings time 07:00", message=question["message"])
    zone_question = await world.answer_with(pressed, "Which time zone")
    (menu,) = menus(zone_question["message"]).values()
    assert {"/settings zone Europe", "/settings zone UTC"} <= set(menu)
    asked = await world.fake.autocomplete(ANA, "settings", "zone", "berl")
    (choices,) = await world.answers(asked)
    assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in choices["data"]["choices"]
    used = await world.fake.slash(
        ANA, "settings", {"zone": "Europe/Berlin", "days": "mon-fri", "themes": "core"}
    )
    await world.answer_with(used, "all set")
    texts = [text_of(a) for a in world.fake.responses(used)]
    assert "Days set" in "\n".join(texts)
    assert not any("Which days" in t for t in texts), "answered questions are not asked again"
    settings = await world.slash(ANA, "settings")
    assert "Europe/Berlin" in text_of(settings) and "weekdays" in text_of(settings)


async def test_personal_commands_in_a_server_are_ephemeral(world: World) -> None:
    answer = await world.slash(ANA, "start", in_guild=True)
    assert answer["data"]["flags"] & EPHEMERAL
    assert world.fake.channel_messages(world.fake.channel_id) == []


async def test_pairing_and_share_reach_the_partner_by_dm(world: World) -> None:
    await world.onboard(ANA)
    await world.onboard(BEN)
    invite = text_of(await world.slash(ANA, "pair"))
    code = re.search(r"code is ([A-Z0-9\\-]+)\.", invite.replace("\\-", "-"))
    assert code is not None
    joined = await world.slash(BEN, "join", {"code": code.group(1).replace("\\", "")})
    assert "paired with Ana" in text_of(joined)
    await world.fake.wait_for(
        lambda: any("Ben joined you" in m["content"] for m in world.fake.dms(ANA))
    )
    await world.slash(ANA, "today")
    await world.fake.dm(ANA, SECRET)
    await world.fake.wait_for(
        lambda: any("Saved privately" in m["content"] for m in world.fake.dms(ANA))
    )
    shared = await world.slash(ANA, "share")
    assert "Shared reply #1 with Ben" in text_of(shared)
    await world.fake.wait_for(lambda: any(SECRET in m["content"] for m in world.fake.dms(BEN)))
    assert any("No answer is expected" in m["content"] for m in world.fake.dms(BEN))


async def _daily_practice(world: World, user: int) -> dict[str, Any]:
    await world.onboard(user)
    soon = (world.clock.now() + timedelta(minutes=1)).strftime("%H:%M")
    await world.slash(user, "settings", {"time": soon})
    world.clock.advance(timedelta(seconds=61))
    await world.tick()
    practice = world.fake.dms(user)[-1]
    assert practice["content"].startswith("Today's practice")
    return practice


async def test_a_daily_practice_arrives_by_dm_and_a_modal_reply_is_private(
    world: World,
) -> None:
    practice = await _daily_practice(world, ANA)
    ids = custom_ids(practice)
    assert [i.split(" ")[0] for i in ids] == [
        "wh:/reply",
        "wh:/skip",
        "wh:/snooze",
        "wh:/more",
        "wh:/less",
    ]
    pressed = await world.fake.press(ANA, ids[0], message=practice)
    (modal,) = await world.answers(pressed)
    assert modal["type"] == 9
    submitted = await world.fake.submit_modal(
        ANA, modal["data"]["custom_id"], {"reply-text": SECRET}
    )
    await world.answer_with(submitted, "Saved privately")
    await world.fake.dm(ANA, "and a plain second thought")
    await world.fake.wait_for(lambda: any("reply #2" in m["content"] for m in world.fake.dms(ANA)))
    journal = text_of(await world.slash(ANA, "journal"))
    assert SECRET in journal and "plain second thought" in journal


async def test_a_workshop_channel_never_sees_a_reply(world: World) -> None:
    with pytest.raises(PermissionError):
        await world.fake.slash(
            MIA, "workshop", {"program": "lighten-up"}, subcommand="start", in_guild=True
        )
    started = await world.slash(
        FAY,
        "workshop",
        {"program": "lighten-up", "time": "06:01", "zone": "UTC"},
        subcommand="start",
        in_guild=True,
    )
    assert "is on" in text_of(started) and started["data"]["flags"] & EPHEMERAL
    world.clock.advance(timedelta(minutes=2))
    await world.tick()
    (post,) = world.fake.channel_messages(world.fake.channel_id)
    assert "Lighten up · day 1 of 5" in post["content"]
    (button,) = custom_ids(post)
    pressed = await world.fake.press(MIA, button, message=post, in_guild=True)
    (modal,) = await world.answers(pressed)
    submitted = await world.fake.submit_modal(
        MIA, modal["data"]["custom_id"], {"reply-text": SECRET}, in_guild=True
    )
    (saved,) = await world.answers(submitted)
    assert "Saved privately" in text_of(saved) and saved["data"]["flags"] & EPHEMERAL
    status = await world.slash(FAY, "workshop", subcommand="status", in_guild=True)
    assert "fewer than 3 people replied" in text_of(status)
    assert status["data"]["flags"] & EPHEMERAL
    channel = "\n".join(m["content"] for m in world.fake.channel_messages(world.fake.channel_id))
    assert SECRET not in channel


async def test_closed_dms_are_explained_only_to_the_person_at_their_next_command(
    world: World,
) -> None:
    await world.onboard(ANA, time="06:01")
    await world.slash(ANA, "today", in_guild=True)
    world.fake.fail_dm(ANA)
    world.clock.advance(timedelta(days=1, minutes=2))
    await world.tick()
    attempts = len([r for r in world.fake.requests if r[0] == "POST" and "/messages" in r[1]])
    for _ in range(2):
        world.clock.advance(timedelta(days=1))
        await world.tick()
    assert (
        len([r for r in world.fake.requests if r[0] == "POST" and "/messages" in r[1]]) == attempts
    )
    # The channel learns nothing: no mention, no note, nothing about what the bot is for.
    assert world.fake.channel_messages(world.fake.channel_id) == []
    answer = await world.slash(ANA, "journal", in_guild=True)
    assert text_of(answer).startswith("I couldn't reach you by direct message")
    assert answer["data"]["flags"] & EPHEMERAL
    assert world.fake.channel_messages(world.fake.channel_id) == []


async def test_a_429_is_waited_out_and_the_practice_arrives_once(world: World) -> None:
    await world.onboard(ANA, time="06:01")
    world.fake.rate_limit_next("/messages", 0.5)
    world.clock.advance(timedelta(minutes=2))
    await world.tick()
    sends = [r for r in world.fake.requests if r[0] == "POST" and "/messages" in r[1]]
    assert len(sends) == 2 and sends[1][2] - sends[0][2] >= 0.5
    assert sum(m["content"].startswith("Today's practice") for m in world.fake.dms(ANA)) == 1


async def test_a_gateway_disconnect_loses_and_doubles_nothing(world: World) -> None:
    await world.onboard(ANA, time="06:01")
    await world.fake.disconnect()
    world.clock.advance(timedelta(minutes=2))
    await world.tick()
    await world.fake.wait_for(lambda: world.fake.resumes == 1)
    await world.tick()
    await world.fake.dm(ANA, SECRET)
    await world.fake.wait_for(
        lambda: any("Saved privately" in m["content"] for m in world.fake.dms(ANA))
    )
    practices = [m for m in world.fake.dms(ANA) if m["content"].startswith("Today's practice")]
    assert len(practices) == 1
    assert world.fake.identifies == 1
