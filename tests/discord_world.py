"""The Discord test world: the real discord.py client, the adapter and the core, against the
fake Discord server in `tests.fake_discord`; shared by the Discord end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.adapters.discord import DiscordAdapter
from bot.core.catalog import Catalog
from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.crypto import ReplyCipher
from bot.core.ports import Switchboard
from bot.core.service import Core
from bot.core.ticker import Ticker
from bot.settings import Settings
from db.session import Database
from tests.fake_discord import FakeDiscord

ANA, BEN, MIA, FAY = 700011, 700012, 700013, 700014  # FAY can manage the server
EPHEMERAL = 64


@dataclass
class World:
    fake: FakeDiscord
    core: Core
    clock: ManualClock
    ticker: Ticker
    adapter: DiscordAdapter
    switchboard: Switchboard

    async def answers(self, interaction_id: str, count: int = 1) -> list[dict[str, Any]]:
        await self.fake.wait_for(lambda: len(self.fake.responses(interaction_id)) >= count, 5)
        return self.fake.responses(interaction_id)

    async def answer_with(self, interaction_id: str, text: str) -> dict[str, Any]:
        """The response (first answer or follow-up) that contains `text`."""

        def found() -> list[dict[str, Any]]:
            return [a for a in self.fake.responses(interaction_id) if text in text_of(a)]

        await self.fake.wait_for(lambda: bool(found()), 5)
        return found()[0]

    async def slash(
        self,
        user: int,
        command: str,
        options: dict[str, object] | None = None,
        *,
        subcommand: str | None = None,
        in_guild: bool = False,
    ) -> dict[str, Any]:
        used = await self.fake.slash(
            user, command, options, subcommand=subcommand, in_guild=in_guild
        )
        return (await self.answers(used))[0]

    async def onboard(self, user: int, *, time: str = "07:00", zone: str = "UTC") -> None:
        welcome = await self.slash(user, "start")
        agreed = await self.fake.press(user, "wh:/start agree", message=welcome["message"])
        await self.answer_with(agreed, "What time")
        used = await self.fake.slash(
            user, "settings", {"time": time, "zone": zone, "days": "daily", "themes": "core"}
        )
        await self.answer_with(used, "all set")

    async def tick(self) -> None:
        await self.ticker.tick()


def text_of(answer: dict[str, Any]) -> str:
    return str((answer.get("data") or {}).get("content") or "")


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [
        c["custom_id"]
        for row in message.get("components") or []
        for c in row.get("components") or []
        if "custom_id" in c
    ]


def menus(message: dict[str, Any]) -> dict[str, list[str]]:
    """Each select menu's custom id, with its options' values in order."""
    return {
        c["custom_id"]: [o["value"] for o in c["options"]]
        for row in message.get("components") or []
        for c in row.get("components") or []
        if c.get("type") == 3
    }


@asynccontextmanager
async def open_world(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    """Everything running; a test module's `world` fixture is `async with open_world(...)`.

    On leaving, the fake must have seen no protocol error and no unknown route."""
    fake = FakeDiscord()
    for user, name in ((ANA, "Ana"), (BEN, "Ben"), (MIA, "Mia")):
        fake.add_member(user, name)
    fake.add_member(FAY, "Fay", manage_guild=True)
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    database = Database(f"sqlite:///{tmp_path / 'dc.sqlite3'}")
    database.upgrade()
    clock = ManualClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    core = Core(database, Context(catalog=catalog, cipher=cipher, clock=clock))
    settings = Settings(
        _env_file=None,
        discord_bot_token=fake.token,  # type: ignore[call-arg]
        discord_api_base_url=f"{fake.url}/api/v10",
    )
    switchboard = Switchboard()
    adapter = DiscordAdapter(settings, core, switchboard, guild_ready_timeout=0.05)
    await adapter.start()
    await adapter.lead()  # the one process: it takes the updates
    try:
        yield World(fake, core, clock, Ticker(core, switchboard), adapter, switchboard)
    finally:
        await adapter.stop()
        await fake.stop()
        database.dispose()
    assert fake.errors == [] and fake.unknown_routes == [], (fake.errors, fake.unknown_routes)
