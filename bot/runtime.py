"""Running the bot for real: the platform adapters and the ticker in one event loop.

Every process answers the events that reach it. Only the elected one (`bot.leadership`)
plans and sends the outbox and, on Telegram without a webhook, polls for updates; when
it stops or dies, a standby takes over within seconds. On SIGTERM the bot drains: it
stops taking work, lets the sends in flight finish (`DRAIN_SECONDS`), and leaves every
unsent row pending for the next process. With METRICS_PORT set, the same loop serves
/metrics and /healthz (`bot.metrics`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.ports import Switchboard
from bot.core.service import Core
from bot.core.ticker import Ticker
from bot.leadership import Leadership, leadership_for
from bot.metrics import Metrics, MetricsServer
from bot.settings import Settings

log = logging.getLogger(__name__)


class Adapter(Protocol):
    async def start(self) -> None:
        """Log in and be able to send; take events unless only the leader may."""
        ...

    async def lead(self) -> None:
        """This process was elected: take what only the leader takes (Telegram polling)."""
        ...

    async def step_down(self) -> None: ...

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
    leadership = leadership_for(core.db)
    switchboard = Switchboard()
    metrics = None
    if settings.metrics_port is not None:
        metrics = Metrics(core, switchboard, settings.tick_seconds)
    server = MetricsServer(metrics) if metrics is not None else None
    # Made first, so what is queued while an adapter starts is sent as soon as it is up.
    ticker = Ticker(core, switchboard, on_demand=False, telemetry=metrics)
    started: list[Adapter] = []
    scheduler = AsyncIOScheduler()
    leading: asyncio.Task[None] | None = None
    try:
        if server is not None and settings.metrics_port is not None:
            await server.start(settings.metrics_listen, settings.metrics_port)
        for adapter in adapters_for(settings, core, switchboard):
            await adapter.start()
            started.append(adapter)
        scheduler.start()
        leading = asyncio.create_task(_lead(leadership, started, ticker, scheduler, settings))
        await stop.wait()
    finally:
        log.info("stopping: finishing the sends in flight")
        if leading is not None:
            leading.cancel()
            with suppress(asyncio.CancelledError):
                await leading
        await _step_down(started, ticker, scheduler)
        await leadership.resign()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        for adapter in reversed(started):
            await adapter.stop()
        if server is not None:
            await server.stop()
        log.info("stopped")


async def _lead(
    leadership: Leadership,
    adapters: list[Adapter],
    ticker: Ticker,
    scheduler: AsyncIOScheduler,
    settings: Settings,
) -> None:
    """Wait to be elected, lead until the lead is lost, and stand by again."""
    while True:
        await leadership.elected()
        for adapter in adapters:
            await adapter.lead()
        await ticker.start(scheduler, settings.tick_seconds)
        await leadership.lost()
        await _step_down(adapters, ticker, scheduler)


async def _step_down(adapters: list[Adapter], ticker: Ticker, scheduler: AsyncIOScheduler) -> None:
    for adapter in adapters:
        await adapter.step_down()
    await ticker.stop(scheduler)
