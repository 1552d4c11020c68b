"""The heartbeat: one APScheduler job that plans what is due and sends the outbox.

There is deliberately a single interval job, not one job per person: the due instants
live in an indexed column, so a tick costs one indexed query however many people there
are, and several processes can tick against one PostgreSQL database safely.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.deliveries import Send
from bot.core.ports import RecipientGone, Switchboard, TransientSendError
from bot.core.service import Core

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickReport:
    planned: int
    sent: int
    failed: int


class Ticker:
    def __init__(self, core: Core, switchboard: Switchboard, concurrency: int = 8) -> None:
        self.core = core
        self.switchboard = switchboard
        self._slots = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()
        self._flush_wanted = False
        self._flusher: asyncio.Task[None] | None = None
        switchboard.when_sends_queued(self.flush_soon)

    async def tick(self) -> TickReport:
        """Plan and send everything due now; overlapping calls wait for each other."""
        async with self._lock:
            platforms = self.switchboard.platforms
            planned = await asyncio.to_thread(self.core.plan_due_sync, platforms)
            sent, failed = await self._send_due(platforms)
            return TickReport(planned=planned, sent=sent, failed=failed)

    async def flush(self) -> TickReport:
        """Send what is already in the outbox (a notice just queued), planning nothing."""
        async with self._lock:
            sent, failed = await self._send_due(self.switchboard.platforms)
            return TickReport(planned=0, sent=sent, failed=failed)

    def flush_soon(self) -> None:
        """Have the outbox sent now, in the background; calls made meanwhile coalesce."""
        self._flush_wanted = True
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_while_wanted())

    async def _flush_while_wanted(self) -> None:
        while self._flush_wanted:
            self._flush_wanted = False
            await self.flush()

    async def _send_due(self, platforms: list[str]) -> tuple[int, int]:
        sent = failed = 0
        while True:
            batch = await asyncio.to_thread(self.core.claim_sends_sync, platforms)
            if not batch:
                return sent, failed
            results = await asyncio.gather(*(self._send(item) for item in batch))
            sent += sum(results)
            failed += len(results) - sum(results)

    async def _send(self, item: Send) -> bool:
        messenger = self.switchboard.messenger_for(item.to.platform)
        assert messenger is not None, "claimed only for running platforms"
        async with self._slots:
            try:
                message_id = await messenger.send(item.to, item.message)
            except RecipientGone:
                await asyncio.to_thread(self.core.record_failure_sync, item, permanent=True)
                return False
            except TransientSendError as error:
                log.info("%s %s will be retried: %s", item.kind, item.row_id, error)
                await asyncio.to_thread(
                    self.core.record_failure_sync,
                    item,
                    permanent=False,
                    retry_after=error.retry_after,
                )
                return False
        await asyncio.to_thread(self.core.record_sent_sync, item, message_id)
        return True

    def schedule(self, scheduler: AsyncIOScheduler, seconds: float) -> None:
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=seconds,
            id="wholehearted-tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
