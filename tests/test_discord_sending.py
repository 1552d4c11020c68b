"""Sending to Discord when Discord misbehaves: the daily DM arrives once, whatever the fault.

The real discord.py against the strict fake (`tests/fake_discord.py`), which honours
`enforce_nonce` as Discord does: a send repeated with the same nonce within minutes gets
the message already made instead of a second one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import sending
from bot.core.catalog import Catalog
from bot.core.crypto import ReplyCipher
from bot.core.outbox import backoff
from tests.discord_world import ANA, World, open_world

PRACTICE = "Today's practice"


@pytest.fixture
async def world(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async with open_world(tmp_path, catalog, cipher, monkeypatch) as running:
        yield running


def practices(world: World) -> int:
    return sum(PRACTICE in m["content"] for m in world.fake.dms(ANA))


async def due_now(world: World) -> None:
    await world.onboard(ANA, time="06:01")
    world.clock.advance(timedelta(minutes=2))


async def test_a_5xx_after_discord_made_the_message_leaves_one_message(world: World) -> None:
    await due_now(world)
    world.fake.fault("5xx_after", calls=2, paths="/messages")
    await world.tick()
    for _ in range(3):
        world.clock.advance(backoff(3))
        await world.tick()
    assert practices(world) == 1


async def test_an_answer_that_never_comes_is_retried_with_the_same_nonce(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sending, "SEND_TIMEOUT", 0.5)
    await due_now(world)
    world.fake.fault("timeout_after", calls=1, paths="/messages", hold=5.0)
    await world.tick()  # made, but the answer never came: it may have arrived
    assert practices(world) == 1
    world.clock.advance(backoff(1) + timedelta(seconds=1))
    await world.tick()  # the retry carries the same nonce: Discord returns the same message
    assert practices(world) == 1
    posts = [r for r in world.fake.requests if r[0] == "POST" and "/messages" in r[1]]
    assert len(posts) >= 2


async def test_a_refused_connection_is_retried_and_arrives_once(world: World) -> None:
    await due_now(world)
    world.fake.fault("refuse", seconds=0.5)
    await world.tick()
    assert practices(world) == 0
    await world.fake.wait_for(lambda: world.fake.listening, 5)
    world.clock.advance(timedelta(minutes=1))
    await world.tick()
    assert practices(world) == 1
