"""Sending the outbox: at the platform's pace, one leased row per request, stopping cleanly.

Each platform has its own `PlatformSender`: a loop that waits for a free request slot,
the next moment the platform's limit allows and a closed circuit, then leases one row
(`outbox.claim`) and sends it. So the rows in doubt after a crash are at most the
requests in flight, the pipe stays full while anything is due, and an outage is met by
a circuit breaker that probes instead of burning through rows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress

from bot.core.outbox import Failure, Send
from bot.core.ports import (
    Attempt,
    Messenger,
    NotDelivered,
    NoTelemetry,
    OutcomeUnknown,
    RecipientGone,
    Rejected,
    SendError,
    Telemetry,
)
from bot.core.service import Core

log = logging.getLogger(__name__)

# Below the platform's published limit, so the jitter of a busy machine never crosses it.
PACE = 0.97
# Seconds an idle sender waits before looking again (a retry or a snooze coming due, or
# a notice queued by another process).
IDLE_LOOK = 2.0
# Seconds a send may take, all its parts and the platform library's own retries included.
SEND_TIMEOUT = 60.0


class Pacer:
    """Evenly spaced send slots at `rate` a second: no bursts, so no window of any length
    sees more than the limit. (A 429 that slips through anyway is waited out for every
    request by the platform library itself: python-telegram-bot's `AIORateLimiter`,
    discord.py's global lock.)"""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class Breaker:
    """A circuit breaker for one platform.

    Closed: sends go. After `threshold` failures in a row that say the platform is in
    trouble (nothing delivered for lack of a connection, or no answer), it opens: nothing
    is sent, and the sender probes (a call that sends nothing to anyone) after 0.5 s, then
    doubling up to `max_wait`. When a probe answers, one real send is let through as a
    trial; its success closes the circuit, its failure opens it again. So an outage costs
    a probe every few seconds instead of every row's retries, and sending resumes within
    seconds of recovery.
    """

    def __init__(
        self,
        probe: Callable[[], Awaitable[None]],
        *,
        threshold: int = 5,
        first_wait: float = 0.5,
        max_wait: float = 5.0,
    ) -> None:
        self._probe = probe
        self.threshold = threshold
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.wait = first_wait
        self.state = "closed"
        self._failures = 0
        self._trial_out = False
        self._changed = asyncio.Event()

    @property
    def allows(self) -> bool:
        return self.state == "closed" or (self.state == "trial" and not self._trial_out)

    def take(self) -> None:
        """A send is starting; in the trial state it is the one trial."""
        if self.state == "trial":
            self._trial_out = True

    def success(self) -> None:
        self._failures = 0
        self._trial_out = False
        if self.state != "closed":
            log.info("the platform answers again; sending resumes")
            self.wait = self.first_wait
            self._set("closed")

    def failure(self) -> None:
        self._failures += 1
        self._trial_out = False
        if self.state == "trial" or (self.state == "closed" and self._failures >= self.threshold):
            log.warning("the platform is failing; sending stops while it is probed")
            self._set("open")

    def settle(self) -> None:
        """A send ended in a way that says nothing about the platform (a 429, a refusal of
        this one message): a trial that ends so is simply over."""
        self._trial_out = False
        self._notify()

    async def probe(self) -> bool:
        """Ask the platform whether it answers; if so, let one trial send through."""
        try:
            await self._probe()
        except SendError:
            self.wait = min(self.wait * 2, self.max_wait)
            return False
        self._set("trial")
        return True

    async def changed(self) -> None:
        await self._changed.wait()

    def _set(self, state: str) -> None:
        self.state = state
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


class _Slot:
    """One of the sender's request slots: released when nothing was started with it, or
    when the send it was handed to ends."""

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self._slots = slots
        self._handed = False

    async def __aenter__(self) -> _Slot:
        await self._slots.acquire()
        return self

    def hand_to(self, task: asyncio.Task[None]) -> None:
        self._handed = True
        task.add_done_callback(lambda _: self._slots.release())

    async def __aexit__(self, *exc: object) -> None:
        if not self._handed:
            self._slots.release()


def concurrency_for(rate: float) -> int:
    """Requests in flight needed to keep the pipe full at `rate` with ~0.25 s round trips."""
    return max(4, min(64, round(rate / 4)))


class PlatformSender:
    """Sends one platform's outbox rows, one leased row per request."""

    def __init__(
        self, core: Core, messenger: Messenger, telemetry: Telemetry | None = None
    ) -> None:
        self.core = core
        self.messenger = messenger
        self.telemetry = telemetry or NoTelemetry()
        self.platform = messenger.platform
        self.pacer = Pacer(messenger.rate_per_second * PACE)
        self.breaker = Breaker(messenger.probe)
        self.concurrency = concurrency_for(messenger.rate_per_second)
        self._slots = asyncio.Semaphore(self.concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._idle = False
        self.sent = 0
        self.failed = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        """Send continuously, in the background, until `drain`."""
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            if self.breaker.state == "open":
                await asyncio.sleep(self.breaker.wait)
                await self.breaker.probe()
            elif not self.breaker.allows:
                await self.breaker.changed()  # the trial is out
            elif not await self._start_one():
                self._wake.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_LOOK)

    async def send_due(self) -> None:
        """Send what is due now and return once it is all out. With the circuit open, the
        platform is probed once; if it still fails, the rest waits for a later call."""
        while True:
            open_now = self.breaker.state == "open" and not self._in_flight
            if open_now and not await self.breaker.probe():
                return
            if self.breaker.allows and await self._start_one():
                continue
            if not self._in_flight:
                return
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)

    async def drain(self, timeout: float) -> None:
        """Start nothing new; let the sends in flight finish for up to `timeout` seconds.

        A send still going then is cancelled and counted as an unknown outcome (it may
        have arrived), so it is tried once more after the restart; every other row is
        pending, since rows are leased only for their own request.
        """
        if self._runner is not None:
            self._runner.cancel()
            with suppress(asyncio.CancelledError):
                await self._runner
        if self._in_flight:
            _, late = await asyncio.wait(self._in_flight, timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)

    async def _start_one(self) -> bool:
        """Start one send in a free request slot; False when nothing is due.

        Busy, the lease happens in the send's own task and the pacer is asked after it,
        so a slow lease (a busy database) never holds back the sends: they keep the
        platform's pace, evenly spaced. Idle, a read that locks nothing looks first, and
        the first lease is awaited here, so an idle sender never spins on empty leases."""
        item: Send | None = None
        if self._idle:
            _, to_send = await asyncio.to_thread(self.core.due_sync, [self.platform])
            item = await self._claim() if to_send else None
            if item is None:
                return False
            self._idle = False
        async with _Slot(self._slots) as slot:
            if not self.breaker.allows:
                if item is not None:
                    await asyncio.to_thread(self.core.release_sync, item)
                return True  # opened meanwhile: go back to waiting for it
            self.breaker.take()
            task = asyncio.get_running_loop().create_task(self._claim_and_send(item))
            slot.hand_to(task)
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            return True

    async def _claim_and_send(self, item: Send | None) -> None:
        """Lease a row (unless given one), wait for its slot, send it. At most one row per
        request slot is leased at a time, so a crash leaves at most `concurrency` rows in
        doubt."""
        item = item or await self._claim()
        if item is None:
            self._idle = True
            self.breaker.settle()  # a trial with nothing to send is no trial
            return
        await self.pacer.wait()
        if self.breaker.state == "open":  # the platform failed meanwhile: not now
            await asyncio.shield(asyncio.to_thread(self.core.release_sync, item))
            return
        await self._send(item)

    async def _claim(self) -> Send | None:
        """Lease the next row. Cancelled meanwhile (a drain), the row goes back unsent."""
        claiming = asyncio.ensure_future(asyncio.to_thread(self.core.claim_sync, self.platform))
        try:
            return await asyncio.shield(claiming)
        except asyncio.CancelledError:
            item = await claiming
            if item is not None:
                await asyncio.to_thread(self.core.release_sync, item)
            raise

    async def _send(self, item: Send) -> None:
        # What happened is recorded even when a drain cancels the send meanwhile.
        async def part_sent(index: int) -> None:
            await asyncio.shield(asyncio.to_thread(self.core.record_part_sync, item, index + 1))

        if item.attempt > 1:
            self.telemetry.retried(self.platform)
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                message_id = await self.messenger.send(
                    item.to, item.message, Attempt(item.key, item.first_part, part_sent)
                )
        except TimeoutError:
            # No answer in time, from a client without a timeout of its own: it may have
            # arrived, and the platform is not answering.
            self.failed += 1
            self.breaker.failure()
            self._report(item, Failure.UNKNOWN)
            await asyncio.to_thread(self._record, item, Failure.UNKNOWN, None)
            return
        except asyncio.CancelledError:
            # A drain ran out of time mid-request: it may have arrived.
            self._report(item, Failure.UNKNOWN)
            await asyncio.shield(asyncio.to_thread(self._record, item, Failure.UNKNOWN, None))
            raise
        except SendError as error:
            failure, retry_after = self._judge(error)
            self._report(item, failure)
            await asyncio.to_thread(self._record, item, failure, retry_after)
            return
        self.breaker.success()
        self.sent += 1
        self.telemetry.sent(self.platform, late_by=self._late_by(item))
        await asyncio.shield(asyncio.to_thread(self.core.record_sent_sync, item, message_id))

    def _late_by(self, item: Send) -> float | None:
        if item.due_at is None:
            return None
        return max(0.0, (self.core.ctx.clock.now() - item.due_at).total_seconds())

    def _report(self, item: Send, failure: Failure) -> None:
        self.telemetry.failed(self.platform, failure.name.lower())
        if failure is Failure.UNKNOWN and item.last_chance:
            self.telemetry.gave_up(self.platform)

    def _judge(self, error: SendError) -> tuple[Failure, float | None]:
        """What the failure proves, and what it tells the pacer and the breaker."""
        self.failed += 1
        if isinstance(error, RecipientGone):
            self.breaker.success()  # the platform answered
            return Failure.GONE, None
        if isinstance(error, Rejected):
            self.breaker.settle()
            return Failure.REJECTED, None
        if isinstance(error, NotDelivered) and error.retry_after is not None:
            self.breaker.settle()  # rate limited: the platform is up
            return Failure.NOT_DELIVERED, error.retry_after
        self.breaker.failure()
        if isinstance(error, OutcomeUnknown):
            return Failure.UNKNOWN, None
        return Failure.NOT_DELIVERED, None

    def _record(self, item: Send, failure: Failure, retry_after: float | None) -> None:
        log.info("%s %s not sent (%s)", item.kind, item.row_id, failure)
        self.core.record_failure_sync(item, failure, retry_after=retry_after)
