"""What an operator sees from outside: Prometheus metrics at /metrics and /healthz.

Served from the bot process itself when METRICS_PORT is set (off by default, and on
127.0.0.1 unless METRICS_LISTEN says otherwise). The core reports through the `Telemetry`
port (`bot.core.ports`) and never imports prometheus; this module is the one place that
does. Labels are the platform and, for failures, the outcome: never a person, a chat or
a practice, so a scrape reveals nothing about anyone.

/healthz answers 200 when the database answers and, in the process that sends, the
planner has run recently; 503 otherwise. Either way the body is one line saying why.
Standby processes (see `bot.leadership`) plan nothing, so only the database counts there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.app import StartupError
from bot.core import outbox
from bot.core.ports import Switchboard
from bot.core.service import Core

# A planner that has not run for this many intervals (and at least STALL_FLOOR seconds)
# is stalled: it normally runs every TICK_SECONDS.
STALL_TICKS = 3
STALL_FLOOR = 30.0
# How long /healthz and /metrics wait for the database before calling it silent.
DATABASE_WAIT = 5.0
T = TypeVar("T")
OUTCOMES = [failure.name.lower() for failure in outbox.Failure]
# Seconds after its due time: the promise is "within a minute"; after a restart, hours.
LATENESS_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600)


class Metrics:
    """The bot's counters and gauges, and its health; implements `Telemetry`.

    `now` is a monotonic clock in seconds (tests move it to see a stalled planner)."""

    def __init__(
        self,
        core: Core,
        switchboard: Switchboard,
        tick_seconds: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core
        self.switchboard = switchboard
        self.stall_after = max(STALL_TICKS * tick_seconds, STALL_FLOOR)
        self.tick_seconds = tick_seconds
        self._now = now
        self._sending = False
        self._last_tick: float | None = None
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        on = self.registry
        self.practices_sent = Counter(
            "wholehearted_practices_sent",
            "Daily practices and workshop posts the platform accepted",
            ["platform"],
            registry=on,
        )
        self.notices_sent = Counter(
            "wholehearted_notices_sent",
            "Messages caused by another person (a shared reply, a pairing) that were sent",
            ["platform"],
            registry=on,
        )
        self.failures = Counter(
            "wholehearted_send_failures",
            "Sends that failed, by what the failure proves: not_delivered (retried), "
            "unknown (may have arrived; tried once more), rejected (never retried), "
            "gone (the person blocked the bot or left)",
            ["platform", "outcome"],
            registry=on,
        )
        self.retries = Counter(
            "wholehearted_send_retries",
            "Sends of a message that had been tried before",
            ["platform"],
            registry=on,
        )
        self.uncertain = Counter(
            "wholehearted_uncertain",
            "Messages whose outcome was unknown twice: they may or may not have arrived, "
            "and are never sent again",
            ["platform"],
            registry=on,
        )
        self.depth = Gauge(
            "wholehearted_outbox_depth",
            "Messages due by now and not sent yet (waiting, or in flight)",
            ["platform"],
            registry=on,
        )
        self.last_lateness = Gauge(
            "wholehearted_last_practice_lateness_seconds",
            "How long after its due time the last practice sent arrived",
            ["platform"],
            registry=on,
        )
        self.lateness = Histogram(
            "wholehearted_practice_lateness_seconds",
            "How long after their due time practices arrived",
            ["platform"],
            buckets=LATENESS_BUCKETS,
            registry=on,
        )
        self.tick_duration = Histogram(
            "wholehearted_tick_duration_seconds",
            "How long one planning run took (all platforms at once)",
            registry=on,
        )
        self.last_tick = Gauge(
            "wholehearted_last_tick_timestamp_seconds",
            "When the planner last finished a run (Unix time); 0 in a process that does not send",
            registry=on,
        )
        self.sender = Gauge(
            "wholehearted_sender",
            "1 in the one process that plans and sends, 0 in a standby",
            registry=on,
        )

    # --- Telemetry: what the core reports -------------------------------------------------

    def sent(self, platform: str, *, late_by: float | None) -> None:
        if late_by is None:
            self.notices_sent.labels(platform).inc()
            return
        self.practices_sent.labels(platform).inc()
        self.last_lateness.labels(platform).set(late_by)
        self.lateness.labels(platform).observe(late_by)

    def failed(self, platform: str, outcome: str) -> None:
        self.failures.labels(platform, outcome).inc()

    def retried(self, platform: str) -> None:
        self.retries.labels(platform).inc()

    def gave_up(self, platform: str) -> None:
        self.uncertain.labels(platform).inc()

    def ticked(self, seconds: float) -> None:
        self._last_tick = self._now()
        self.tick_duration.observe(seconds)
        self.last_tick.set_to_current_time()

    def sending(self, active: bool) -> None:
        self._sending = active
        # Being elected starts the clock: the first run comes right after.
        self._last_tick = self._now() if active else None
        self.sender.set(1 if active else 0)

    # --- what a scrape reads ----------------------------------------------------------------

    async def exposition(self) -> bytes:
        """The text Prometheus scrapes, with the outbox depth read just now."""
        platforms = self.switchboard.platforms
        for platform in platforms:  # every series exists from the start, at 0
            for family in (self.practices_sent, self.notices_sent, self.retries, self.uncertain):
                family.labels(platform)
            for outcome in OUTCOMES:
                self.failures.labels(platform, outcome)
        try:
            depths = await self._in_database(partial(self._read_depth, platforms))
        except (SQLAlchemyError, TimeoutError):
            depths = {}  # /healthz says why; the gauges keep their last values
        for platform, rows in depths.items():
            self.depth.labels(platform).set(rows)
        return generate_latest(self.registry)

    def _read_depth(self, platforms: list[str]) -> dict[str, int]:
        with self.core.db.read() as session:
            return outbox.depth(session, platforms, self.core.ctx.clock.now())

    async def health(self) -> tuple[bool, str]:
        """(healthy, the one-line reason)."""
        try:
            await self._in_database(self._ping)
        except SQLAlchemyError as exc:
            return False, f"the database does not answer ({type(exc).__name__})"
        except TimeoutError:
            return False, f"the database gave no answer within {DATABASE_WAIT:g} s"
        if not self._sending:
            return True, "ok: the database answers; standing by (another process sends)"
        assert self._last_tick is not None
        quiet = self._now() - self._last_tick
        if quiet > self.stall_after:
            return False, (
                f"the planner has not run for {quiet:.0f} s (it runs every "
                f"{self.tick_seconds:g} s); sending may be stuck"
            )
        return True, f"ok: the database answers; the planner ran {quiet:.0f} s ago"

    def _ping(self) -> None:
        """A read of the schema's own table: a missing or emptied database fails it too."""
        with self.core.db.read() as session:
            session.execute(text("SELECT version_num FROM alembic_version")).all()

    @staticmethod
    async def _in_database(work: Callable[[], T]) -> T:
        """Database work in a thread, given up on after DATABASE_WAIT seconds."""
        return await asyncio.wait_for(asyncio.to_thread(work), DATABASE_WAIT)


class MetricsServer:
    """/metrics and /healthz on the bot's event loop (aiohttp, which the bot has already)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._runner: web.AppRunner | None = None

    async def start(self, listen: str, port: int) -> int:
        """Listen on `listen`:`port` (0: any free port); the port it listens on."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, listen, port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupError(
                f"Cannot serve metrics on {listen}:{port} ({exc.strerror or exc}); choose "
                "another METRICS_PORT or METRICS_LISTEN."
            ) from None
        self._runner = runner
        return int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = await self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, _request: web.Request) -> web.Response:
        healthy, reason = await self.metrics.health()
        return web.Response(status=200 if healthy else 503, text=reason + "\n")
