"""Sending to Telegram when Telegram misbehaves: what each fault proves, and what people get.

The real python-telegram-bot against the strict fake Bot API (`tests/fake_telegram.py`),
which stores a message and then answers 5xx, holds answers past the client's timeout,
refuses connections, or refuses a message for good, as the real one does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.messenger import TelegramMessenger
from bot.core.catalog import Catalog
from bot.core.clock import ManualClock
from bot.core.crypto import ReplyCipher
from bot.core.messages import Recipient, Text
from bot.core.outbox import backoff
from bot.core.ports import (
    Attempt,
    NotDelivered,
    OutcomeUnknown,
    RecipientGone,
    Rejected,
    SendError,
    Switchboard,
)
from bot.settings import Settings
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.telegram_world import ANA, BEN, World, running_world, sqlite_core

PRACTICE = "Today's practice"


@pytest.fixture
async def world(tmp_path: Path, catalog: Catalog, cipher: ReplyCipher) -> AsyncIterator[World]:
    async with running_world(tmp_path, catalog, cipher) as running:
        yield running


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


async def _send_one(fake: FakeTelegram, fault: str | None = None) -> None:
    """One message through the bot's messenger (short timeouts), `fault` starting once the
    bot has logged in."""
    bot = Bot(
        TOKEN,
        base_url=fake.url,
        request=HTTPXRequest(read_timeout=0.5, connect_timeout=0.5),
    )
    async with bot:
        if fault is not None:
            fake.fault(fault, seconds=1.0, hold=2.0)
        messenger = TelegramMessenger(bot, lambda payload: payload, rate=30)
        await messenger.send(Recipient("telegram", str(ANA)), Text("hello"), Attempt("d1"))


@pytest.mark.parametrize(
    ("mode", "proves", "stored"),
    [
        ("5xx_before", OutcomeUnknown, 0),  # a 502 cannot tell before from after
        ("5xx_after", OutcomeUnknown, 1),
        ("500_json_after", OutcomeUnknown, 1),
        ("timeout_after", OutcomeUnknown, 1),
        ("refuse", NotDelivered, 0),
    ],
)
async def test_each_fault_is_judged_by_what_it_proves(
    fake: FakeTelegram, mode: str, proves: type[SendError], stored: int
) -> None:
    with pytest.raises(proves):
        await _send_one(fake, mode)
    assert fake.deliveries_per_chat()[ANA] == stored


async def test_flood_control_proves_nothing_arrived_and_says_how_long_to_wait(
    fake: FakeTelegram,
) -> None:
    fake.rate_limit = 1.0
    await _send_one(fake)
    with pytest.raises(NotDelivered) as error:
        await _send_one(fake)
    assert error.value.retry_after is not None and error.value.retry_after >= 1


async def test_a_refused_message_and_a_blocked_person_are_told_apart(fake: FakeTelegram) -> None:
    fake.reject_always(ANA)
    with pytest.raises(Rejected):
        await _send_one(fake)
    fake.reject_always(ANA, "Forbidden: bot was blocked by the user", status=403)
    with pytest.raises(RecipientGone):
        await _send_one(fake)


async def test_a_practice_whose_answer_is_lost_after_telegram_stored_it_comes_twice_at_most(
    world: World,
) -> None:
    await world.onboard(ANA, "Ana", time="06:01")
    world.fake.fault("5xx_after", calls=5, methods=("sendMessage",))
    for _ in range(6):
        world.clock.advance(timedelta(minutes=1))
        await world.tick()
    copies = sum(PRACTICE in text for text in world.fake.texts(ANA))
    assert copies == 2, "the first copy, and one extra at most"


async def test_a_practice_that_failed_before_telegram_stored_it_arrives_once(
    world: World,
) -> None:
    await world.onboard(ANA, "Ana", time="06:01")
    world.fake.fault("5xx_before", calls=1, methods=("sendMessage",))
    world.clock.advance(timedelta(minutes=2))
    await world.tick()
    assert sum(PRACTICE in text for text in world.fake.texts(ANA)) == 0
    world.clock.advance(backoff(1) + timedelta(seconds=1))
    await world.tick()
    assert sum(PRACTICE in text for text in world.fake.texts(ANA)) == 1


async def test_a_message_telegram_refuses_for_good_is_tried_once(world: World) -> None:
    await world.onboard(ANA, "Ana", time="06:01")
    await world.onboard(BEN, "Ben", time="06:01")
    world.fake.reject_always(ANA)
    for _ in range(30):
        world.clock.advance(timedelta(minutes=2))
        await world.tick()
    attempts = [
        c
        for c in world.fake.calls
        if c.method == "sendMessage"
        and int(c.params["chat_id"]) == ANA
        and PRACTICE in c.params.get("text", "")
    ]
    assert len(attempts) == 1
    assert sum(PRACTICE in text for text in world.fake.texts(BEN)) == 1


async def test_two_processes_on_one_token_poll_once_and_answer_once(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher
) -> None:
    """Only the elected process polls: no 409 Conflict, and every message answered once."""
    fake = FakeTelegram()
    url = await fake.start()
    core = sqlite_core(tmp_path / "two.sqlite3", catalog, cipher, _clock())
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,  # type: ignore[call-arg]
        telegram_api_base_url=url,
    )
    leader = TelegramAdapter(settings, core, Switchboard())
    standby = TelegramAdapter(settings, core, Switchboard())
    for adapter in (leader, standby):
        await adapter.start()
    await leader.lead()
    try:
        fake.message(ANA, "Ana", "/help")
        await fake.wait_for(lambda: fake.texts(ANA) != [])
        await asyncio.sleep(1.0)  # long enough for a second poller to have clashed
        assert fake.conflicts == 0
        assert len(fake.texts(ANA)) == 1
    finally:
        for adapter in (leader, standby):
            await adapter.stop()
        await fake.stop()
        core.db.dispose()


def _clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
