"""End to end on Telegram: the real python-telegram-bot against a fake Bot API server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.telegram import TelegramAdapter
from bot.core.catalog import Catalog
from bot.core.clock import ManualClock
from bot.core.crypto import ReplyCipher
from bot.core.ports import Switchboard
from bot.settings import Settings
from db.models import Person
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.telegram_world import (
    ANA,
    BEN,
    GROUP,
    MIA,
    ZOE,
    World,
    running_world,
    serve_fake,
    sqlite_core,
)

SECRET = "a private thought that must stay between me and the bot"
STICKER = {
    "file_id": "s",
    "file_unique_id": "s",
    "type": "regular",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
}


@pytest.fixture
async def world(tmp_path: Path, catalog: Catalog, cipher: ReplyCipher) -> AsyncIterator[World]:
    async with running_world(tmp_path, catalog, cipher) as running:
        yield running


async def test_onboarding_by_buttons(world: World) -> None:
    await world.say(ANA, "Ana", "/start", expect="Shall we begin")
    welcome = world.fake.sent(ANA)[-1]
    assert {b["callback_data"] for b in world.fake.buttons(welcome)} >= {"/start agree"}
    await world.press(ANA, "Ana", "/start agree", expect="What time")
    await world.press(ANA, "Ana", "/settings time 07:00", expect="Which time zone")
    await world.press(ANA, "Ana", "/settings zone Europe", expect="pick a city")
    cities = world.fake.buttons(world.fake.sent(ANA)[-1])
    assert {"text": "Berlin", "callback_data": "/settings zone Europe/Berlin"} in cities
    await world.press(ANA, "Ana", "/settings zone Europe/Berlin", expect="Which days")
    await world.press(ANA, "Ana", "/settings days mon-fri", expect="Which themes")
    done = await world.press(ANA, "Ana", "/settings themes core", expect="all set")
    assert "Europe/Berlin" in done


async def test_onboarding_by_typing_and_mistakes(world: World) -> None:
    await world.say(ANA, "Ana", "/start", expect="Shall we begin")
    await world.say(ANA, "Ana", "ok", expect="What time")
    refusal = await world.say(ANA, "Ana", "25:00", expect="isn't a time of day")
    assert "What time" in refusal
    await world.say(ANA, "Ana", "7:30 am", expect="Which time zone")
    await world.say(ANA, "Ana", "Berln", expect="Did you mean")
    await world.say(ANA, "Ana", "Berlin", expect="Which days")
    await world.say(ANA, "Ana", "weekends", expect="Which themes")
    await world.say(ANA, "Ana", "playfulness, individuality", expect="all set")
    await world.say(ANA, "Ana", "/fly", expect="/help")


async def test_pairing_by_code_and_by_deep_link(world: World) -> None:
    for user, name in ((ANA, "Ana"), (BEN, "Ben"), (MIA, "Mia")):
        await world.onboard(user, name)
    answer = await world.say(ANA, "Ana", "/pair", expect="invite code")
    link = re.search(r"https://t\.me/WholeheartedBot\?start=(join-[A-Z0-9]+)", answer)
    assert link is not None
    await world.say(BEN, "Ben", f"/start {link.group(1)}", expect="You're paired with Ana")
    await world.fake.wait_for(lambda: "Ben joined you" in world.last_text(ANA))
    await world.say(ANA, "Ana", "/unpair", expect="pairing has ended")
    code = re.search(
        r"code is ([A-Z0-9-]+)\.", await world.say(MIA, "Mia", "/pair", expect="invite code")
    )
    assert code is not None
    await world.say(ANA, "Ana", f"/join {code.group(1)}", expect="You're paired with Mia")


async def test_a_daily_practice_arrives_at_a_time_set_a_minute_ahead(world: World) -> None:
    await world.onboard(ANA, "Ana")
    soon = (world.clock.now() + timedelta(minutes=1)).strftime("%H:%M")
    await world.say(ANA, "Ana", f"/settings time {soon}", expect="Time set")
    await world.tick()
    assert "Today's practice" not in "\n".join(world.fake.texts(ANA))
    world.clock.advance(timedelta(seconds=61))
    await world.tick()
    card = world.fake.sent(ANA)[-1]
    assert card["text"].startswith("Today's practice") and "<b>" in card["text"]
    assert card["parse_mode"] == "HTML"
    labels = [b["text"] for b in world.fake.buttons(card)]
    assert labels == ["Reply privately", "Skip", "Snooze 1 h", "More like this", "Less like this"]


async def _practice(world: World, user: int, name: str) -> dict[str, object]:
    await world.onboard(user, name)
    await world.say(user, name, "/today", expect="Today's practice")
    return world.fake.sent(user)[-1]


async def test_private_replies_by_button_and_by_plain_message_and_share(world: World) -> None:
    await world.onboard(BEN, "Ben")
    card = await _practice(world, ANA, "Ana")
    reply_button = world.fake.buttons(card)[0]["callback_data"]
    await world.press(ANA, "Ana", reply_button, expect="next message")
    await world.say(ANA, "Ana", SECRET, expect="Saved privately")
    await world.say(
        ANA,
        "Ana",
        "<b>not bold</b> & more",
        expect="Saved privately",
        reply_to=int(str(card["message_id"])),
    )
    journal = await world.say(ANA, "Ana", "/journal", expect="Your journal")
    assert SECRET in journal and "&lt;b&gt;not bold&lt;/b&gt; &amp; more" in journal
    code = re.search(
        r"code is ([A-Z0-9-]+)\.", await world.say(ANA, "Ana", "/pair", expect="invite code")
    )
    assert code is not None
    await world.say(BEN, "Ben", f"/join {code.group(1)}", expect="paired")
    await world.say(ANA, "Ana", "/share 1", expect="Shared reply #1")
    await world.fake.wait_for(lambda: SECRET in world.last_text(BEN))
    assert "No answer is expected" in world.last_text(BEN)


async def test_export_arrives_as_a_file(world: World) -> None:
    await _practice(world, ANA, "Ana")
    await world.say(ANA, "Ana", SECRET, expect="Saved privately")
    await world.say(ANA, "Ana", "/export", expect="Everything the bot holds")
    document = world.fake.sent(ANA)[-1]["document"]
    assert document["filename"].startswith("wholehearted-export-")
    assert SECRET.encode() in document["data"]


async def test_a_workshop_in_a_group_keeps_replies_out_of_the_group(world: World) -> None:
    refused = await world.say(
        MIA, "Mia", "/workshop start lighten-up 06:01 UTC", chat=GROUP, expect="administrators"
    )
    assert "Only this chat's administrators" in refused
    world.fake.admins.add((GROUP, ANA))
    await world.say(ANA, "Ana", "/workshop start lighten-up 06:01 UTC", chat=GROUP, expect="is on")
    world.clock.advance(timedelta(minutes=1, seconds=5))
    await world.tick()
    post = world.fake.sent(GROUP)[-1]
    assert "Lighten up · day 1 of 5" in post["text"]
    (button,) = world.fake.buttons(post)
    assert button["text"] == "Reply privately"
    payload = button["url"].split("?start=")[1]
    assert button["url"].startswith("https://t.me/WholeheartedBot?start=ws-")

    # Mia wrote in the group, so Telegram counts her as a member; Zoe never did.
    await world.say(ZOE, "Zoe", f"/start {payload}", expect="couldn't confirm")
    await world.say(MIA, "Mia", f"/start {payload}", expect="next message")
    await world.say(MIA, "Mia", SECRET, expect="Nobody in the group sees it")
    refused = await world.say(MIA, "Mia", "/workshop status", chat=GROUP, expect="administrators")
    assert "people replied" not in refused
    # Counts go to the administrator privately; she has to open that chat first.
    opened = await world.say(ANA, "Ana", "/workshop status", chat=GROUP, expect="press Start")
    assert "https://t.me/WholeheartedBot" in opened and "people replied" not in opened
    await world.say(ANA, "Ana", "/safety", expect="safe")
    await world.say(ANA, "Ana", "/workshop status", chat=GROUP, expect="answered you")
    status = world.last_text(ANA)
    assert "Day 1" in status and "fewer than 3 people replied" in status
    group_transcript = "\n".join(world.fake.texts(GROUP))
    assert SECRET not in group_transcript
    assert await world.say(MIA, "Mia", "/journal", chat=GROUP, expect="private chat")


async def test_a_user_who_blocked_the_bot_is_not_sent_to_again(world: World) -> None:
    await world.onboard(ANA, "Ana", time="06:01")
    world.fake.failures[ANA] = [(403, "Forbidden: bot was blocked by the user", None)]
    world.clock.advance(timedelta(minutes=2))
    await world.tick()
    attempts = [
        c for c in world.fake.calls if c.method == "sendMessage" and int(c.params["chat_id"]) == ANA
    ]
    for _ in range(3):
        world.clock.advance(timedelta(days=1))
        await world.tick()
    again = [
        c for c in world.fake.calls if c.method == "sendMessage" and int(c.params["chat_id"]) == ANA
    ]
    assert len(again) == len(attempts)
    with world.core.db.transaction() as session:
        person = session.scalar(select(Person).where(Person.platform_user_id == str(ANA)))
        assert person is not None and person.unreachable


async def test_a_429_is_waited_out_and_the_practice_arrives_once(world: World) -> None:
    await world.onboard(ANA, "Ana", time="06:01")
    world.fake.failures[ANA] = [(429, "Too Many Requests: retry after 1", 1)]
    world.clock.advance(timedelta(minutes=2))
    await world.tick()
    sends = [
        c
        for c in world.fake.calls
        if c.method == "sendMessage"
        and int(c.params["chat_id"]) == ANA
        and "Today's practice" in c.params.get("text", "")
    ]
    assert len(sends) == 2 and sends[1].at - sends[0].at >= 1.0
    assert sum("Today's practice" in t for t in world.fake.texts(ANA)) == 1


async def test_the_bot_survives_malformed_and_unexpected_updates(world: World) -> None:
    world.fake.raw(
        {
            "edited_message": {
                "message_id": 5,
                "date": 0,
                "text": "x",
                "chat": {"id": ANA, "type": "private"},
            }
        }
    )
    world.fake.raw({"something_new": {"from": "the future"}})
    world.fake.raw(
        {
            "message": {
                "message_id": 6,
                "date": 0,
                "chat": {"id": ANA, "type": "private"},
                "from": {"id": ANA, "is_bot": False, "first_name": "Ana"},
                "sticker": STICKER,
            }
        }
    )
    world.fake.press(ANA, "Ana", "not-a-command")
    world.fake.message(ANA, "Ana", "/")
    world.fake.message(ANA, "Ana", "/settings time " + "9" * 5000)
    await world.say(ANA, "Ana", "/help", expect="Here is what I understand")
    texts = "\n".join(world.fake.texts(ANA))
    assert "only keep written replies" in texts and "older version" in texts
    assert "Traceback" not in texts


async def test_commands_for_other_bots_in_a_group_are_ignored(world: World) -> None:
    world.fake.message(MIA, "Mia", "/help@SomeOtherBot", chat_id=GROUP)
    await world.say(MIA, "Mia", "/help@WholeheartedBot", chat=GROUP, expect="workshops")
    assert len(world.fake.texts(GROUP)) == 1


async def test_an_old_button_for_a_deleted_practice_says_why(world: World) -> None:
    await world.onboard(ANA, "Ana")
    await world.press(ANA, "Ana", "/skip #4040", expect="no longer in your history")


async def test_webhook_mode(tmp_path: Path, catalog: Catalog, cipher: ReplyCipher) -> None:
    import socket

    import aiohttp

    fake = FakeTelegram()
    runner, base_url = await serve_fake(fake)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = ManualClock(datetime(2026, 11, 23, tzinfo=UTC))
    core = sqlite_core(tmp_path / "wh.sqlite3", catalog, cipher, clock)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=base_url,
        telegram_webhook_url="https://bot.example.org/telegram",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
        telegram_webhook_secret="s3cret-value",
    )
    adapter = TelegramAdapter(settings, core, Switchboard())
    await adapter.start()
    try:
        assert fake.webhook["url"] == "https://bot.example.org/telegram"
        assert fake.webhook["secret_token"] == "s3cret-value"
        update = fake.build_message(ANA, "Ana", "/start")
        async with aiohttp.ClientSession() as http:
            wrong = await http.post(
                f"http://127.0.0.1:{port}/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "nope"},
            )
            assert wrong.status == 403
            right = await http.post(
                f"http://127.0.0.1:{port}/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"},
            )
            assert right.status == 200
        await fake.wait_for(lambda: any("Shall we begin" in t for t in fake.texts(ANA)))
        assert not any(c.method == "getUpdates" for c in fake.calls)
    finally:
        await adapter.stop()
        await runner.cleanup()
        core.db.dispose()


async def test_a_long_journal_arrives_in_pieces_within_telegrams_limit(world: World) -> None:
    await _practice(world, ANA, "Ana")
    for n in range(3):
        await world.say(ANA, "Ana", f"{n}" + "é&<" * 1300, expect=f"reply #{n + 1}")
    before = len(world.fake.sent(ANA))
    await world.say(ANA, "Ana", "/journal", expect="share")
    pieces = world.fake.texts(ANA)[before:]
    assert len(pieces) >= 3 and all(len(p) <= 4096 for p in pieces)
