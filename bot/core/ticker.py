"""The heartbeat: one APScheduler job that plans what is due, and the senders that send it.

There is deliberately a single interval job, not one job per person: the due instants
live in an indexed column, so a tick costs one index probe per platform however many
people there are. Planning writes outbox rows in short transactions; each platform's
`PlatformSender` sends them continuously at the platform's pace, so there is no idle gap
between ticks. Tests and the terminal call `tick()`, which plans and then sends what is
due now before returning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.ports import NoTelemetry, Switchboard, Telemetry
from bot.core.sending import PlatformSender
from bot.core.service import Core

log = logging.getLogger(__name__)

# How long a stopping bot waits for the sends already in flight.
DRAIN_SECONDS = 10.0


@dataclass(frozen=True)
class TickReport:
    planned: int
    sent: int
    failed: int


class Ticker:
    """`on_demand` (tests, the terminal): what an event queues is sent at once by this
    ticker. A running bot passes False: only the elected sender sends (`start`), and it
    finds what another process queued within `IDLE_LOOK` seconds. `telemetry` hears of
    every send and every planning run (`bot.metrics`)."""

    def __init__(
        self,
        core: Core,
        switchboard: Switchboard,
        *,
        on_demand: bool = True,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.core = core
        self.switchboard = switchboard
        self.on_demand = on_demand
        self.telemetry = telemetry or NoTelemetry()
        self._senders: dict[str, PlatformSender] = {}
        self._continuous = False
        self._took_over = False
        self._lock = asyncio.Lock()
        self._plan_lock = asyncio.Lock()
        self._planning = False
        self._flush_wanted = False
        self._flusher: asyncio.Task[None] | None = None
        switchboard.when_sends_queued(self.wake)

    # --- sending on demand (tests, the terminal) ------------------------------------------

    async def tick(self) -> TickReport:
        """Plan and send everything due now; overlapping calls wait for each other."""
        async with self._lock:
            began = time.monotonic()
            planned = await asyncio.to_thread(self.core.plan_due_sync, self.switchboard.platforms)
            self.telemetry.ticked(time.monotonic() - began)
            sent, failed = await self._send_due()
            return TickReport(planned=planned, sent=sent, failed=failed)

    async def flush(self) -> TickReport:
        """Send what is already in the outbox (a notice just queued), planning nothing."""
        async with self._lock:
            sent, failed = await self._send_due()
            return TickReport(planned=0, sent=sent, failed=failed)

    async def _send_due(self) -> tuple[int, int]:
        await self._take_over_orphans()
        senders = self._all_senders()
        before = [(s.sent, s.failed) for s in senders]
        await asyncio.gather(*(sender.send_due() for sender in senders))
        sent = sum(s.sent - b[0] for s, b in zip(senders, before, strict=True))
        failed = sum(s.failed - b[1] for s, b in zip(senders, before, strict=True))
        return sent, failed

    def wake(self) -> None:
        """Something was queued (a notice) or a platform came up: send it now."""
        if self._continuous:
            for sender in self._all_senders():
                sender.wake()
            return
        if not self.on_demand:
            return
        self._flush_wanted = True
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_while_wanted())

    async def _flush_while_wanted(self) -> None:
        while self._flush_wanted:
            self._flush_wanted = False
            await self.flush()

    # --- sending continuously (a running bot) ---------------------------------------------

    async def start(self, scheduler: AsyncIOScheduler, seconds: float) -> None:
        """Take over what a dead sender left, then send continuously and plan every
        `seconds`. Only the elected sender calls this (see `bot.leadership`)."""
        self._took_over = False
        await self._take_over_orphans()
        self._continuous = True
        self.telemetry.sending(True)
        for sender in self._all_senders():
            sender.start()
        self._planning = True
        scheduler.add_job(
            self.plan,
            "interval",
            seconds=seconds,
            id="wholehearted-plan",
            # A plan of a big minute can outlast the interval: the next run then finds
            # one under way and returns (see `plan`), rather than being skipped noisily.
            max_instances=2,
            coalesce=True,
            misfire_grace_time=None,
        )
        await self.plan()

    async def plan(self) -> None:
        """Plan what is due, waking the senders after each batch so sending starts with
        the first rows written. A run that finds one still under way returns at once, and
        does not count as a tick: a plan stuck that long is a stalled ticker."""
        if self._plan_lock.locked():
            return
        began = time.monotonic()
        to_plan, _ = await asyncio.to_thread(self.core.due_sync, self.switchboard.platforms)
        if not to_plan or not self._planning:
            self.telemetry.ticked(time.monotonic() - began)
            return
        loop = asyncio.get_running_loop()

        def after_batch(written: int) -> bool:
            if written:
                loop.call_soon_threadsafe(self.wake)
            return self._planning

        async with self._plan_lock:
            await asyncio.to_thread(
                self.core.plan_due_sync, self.switchboard.platforms, after_batch
            )
        self.telemetry.ticked(time.monotonic() - began)

    async def stop(self, scheduler: AsyncIOScheduler, timeout: float = DRAIN_SECONDS) -> None:
        """Plan nothing more, start no send, and let those in flight finish (bounded)."""
        self._planning = False  # a plan under way stops after its batch
        if scheduler.get_job("wholehearted-plan") is not None:
            scheduler.remove_job("wholehearted-plan")
        async with self._plan_lock:  # wait for that batch, so nothing is cut off
            pass
        self._continuous = False
        self.telemetry.sending(False)
        senders, self._senders = list(self._senders.values()), {}
        await asyncio.gather(*(sender.drain(timeout) for sender in senders))

    # --- helpers --------------------------------------------------------------------------

    async def _take_over_orphans(self) -> None:
        if not self._took_over:
            self._took_over = True
            orphans = await asyncio.to_thread(
                self.core.take_over_orphans_sync, self.switchboard.platforms
            )
            if orphans:
                log.warning("%s sends were cut off by a stop; each is tried once more", orphans)

    def _all_senders(self) -> list[PlatformSender]:
        """A sender for every platform that is up; one that came up late starts now."""
        for platform in self.switchboard.platforms:
            if platform not in self._senders:
                messenger = self.switchboard.messenger_for(platform)
                assert messenger is not None
                sender = PlatformSender(self.core, messenger, self.telemetry)
                self._senders[platform] = sender
                if self._continuous:
                    sender.start()
        return list(self._senders.values())
