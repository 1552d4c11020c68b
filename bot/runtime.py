"""Running the bot for real: the platform adapters and the ticker in one event loop."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.ports import Switchboard
from bot.core.service import Core
from bot.core.ticker import Ticker
from bot.settings import Settings

log = logging.getLogger(__name__)


class Adapter(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def adapters_for(settings: Settings, core: Core, switchboard: Switchboard) -> list[Adapter]:
    found: list[Adapter] = []
    if settings.telegram_bot_token is not None:
        from bot.adapters.telegram import TelegramAdapter

        found.append(TelegramAdapter(settings, core, switchboard))
    if settings.discord_bot_token is not None:
        from bot.adapters.discord import DiscordAdapter

        found.append(DiscordAdapter(settings, core, switchboard))
    return found


async def serve(settings: Settings, core: Core, stop: asyncio.Event | None = None) -> None:
    """Start every configured adapter and the ticker; run until `stop` is set or a signal."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    switchboard = Switchboard()
    # Made first, so what is queued while an adapter starts is sent as soon as it is up.
    ticker = Ticker(core, switchboard)
    started: list[Adapter] = []
    scheduler = AsyncIOScheduler()
    try:
        for adapter in adapters_for(settings, core, switchboard):
            await adapter.start()
            started.append(adapter)
        ticker.schedule(scheduler, settings.tick_seconds)
        scheduler.start()
        await stop.wait()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        for adapter in reversed(started):
            await adapter.stop()
        log.info("stopped")
