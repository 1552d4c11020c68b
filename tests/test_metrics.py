"""What an operator sees from outside: /metrics scraped over HTTP while the bot sends
through the fake Telegram, and /healthz turning 503 when the database or the planner stops.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.app import StartupError
from bot.core.catalog import Catalog
from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.crypto import ReplyCipher
from bot.core.ports import Switchboard
from bot.core.service import Core
from bot.core.ticker import Ticker
from bot.doctor import examine
from bot.metrics import Metrics, MetricsServer
from bot.runtime import serve
from bot.settings import Settings
from db.session import Database
from tests.bot_processes import seed_people
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.telegram_world import running_world, serve_fake, sqlite_core

ANA, BEN = 5_000_001, 5_000_002
# 07:01:30 UTC: Ana and Ben chose 07:00, so a practice sent now is 90 s late.
NOW = datetime(2026, 11, 23, 7, 1, 30, tzinfo=UTC)
DUE = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
# A scrape: (sample name, its labels) -> value.
Scrape = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def scrape(port: int) -> Scrape:
    """/metrics as Prometheus reads it: (sample name, labels) -> value."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as answer,
    ):
        assert answer.status == 200
        return parse(await answer.text())


def parse(body: str) -> Scrape:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


async def health(port: int) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as answer,
    ):
        return answer.status, (await answer.text()).strip()


def telegram(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted({"platform": "telegram", **labels}.items()))


async def scrape_until(port: int, done: Callable[[Scrape], bool]) -> Scrape:
    """Scrape until `done` holds (the sender records a send just after it ends), or fail."""
    for _ in range(100):
        seen = await scrape(port)
        if done(seen):
            return seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"the metrics never got there: {seen}")


async def test_a_practice_sent_and_one_refused_show_in_the_scraped_metrics(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTelegram()
    fake.reject_always(BEN)  # Telegram refuses Ben's message for good (400)
    runner, base_url = await serve_fake(fake)
    core = sqlite_core(tmp_path / "bot.sqlite3", catalog, cipher, ManualClock(NOW))
    seed_people(core.db, "telegram", [ANA, BEN], DUE)
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=base_url,
        metrics_port=port,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, core, stop))
    try:
        await fake.wait_for(lambda: any("practice" in t for t in fake.texts(ANA)), 20)
        refused = telegram("wholehearted_send_failures_total", outcome="rejected")
        backlog = telegram("wholehearted_outbox_depth")
        seen = await scrape_until(port, lambda seen: seen.get(refused) == 1 and not seen[backlog])
        assert seen[telegram("wholehearted_practices_sent_total")] == 1
        assert seen[telegram("wholehearted_send_failures_total", outcome="unknown")] == 0
        assert seen[telegram("wholehearted_uncertain_total")] == 0
        assert seen[telegram("wholehearted_last_practice_lateness_seconds")] == 90
        assert seen[("wholehearted_sender", ())] == 1
        assert seen[("wholehearted_tick_duration_seconds_count", ())] >= 1
        # Nothing about anyone: the only labels are the platform and the outcome.
        labels = {name for _, pairs in seen for name, _ in pairs}
        assert labels <= {"platform", "outcome", "le"}, labels

        status, reason = await health(port)
        assert status == 200 and reason.startswith("ok: the database answers"), reason

        # `wholehearted doctor` on the same machine reads the same /healthz.
        for name, value in {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": base_url,
            "METRICS_PORT": str(port),
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("DISCORD_BOT_TOKEN", raising=False)
        monkeypatch.chdir(tmp_path)
        lines = [check.line for check in await asyncio.to_thread(lambda: list(examine()))]
        assert f"ok  health: http://127.0.0.1:{port}/healthz: ok: the database answers" in (
            "\n".join(lines)
        ), lines
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        await runner.cleanup()
        core.db.dispose()


async def test_answers_lost_twice_count_a_retry_and_one_uncertain_practice(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher
) -> None:
    async with running_world(tmp_path, catalog, cipher) as world:
        world.fake.private_chats = {ANA}  # Ana started the bot once
        seed_people(world.core.db, "telegram", [ANA], world.clock.now())
        metrics = Metrics(world.core, world.adapter.switchboard, tick_seconds=20)
        ticker = Ticker(world.core, world.adapter.switchboard, telemetry=metrics)
        # Telegram stores each message and then answers 502: the bot cannot know.
        world.fake.fault("5xx_after", calls=2, methods=("sendMessage",))
        for _ in range(3):
            world.clock.advance(timedelta(minutes=1))
            await asyncio.wait_for(ticker.tick(), 10)
        seen = parse((await metrics.exposition()).decode())
    assert seen[telegram("wholehearted_send_failures_total", outcome="unknown")] == 2
    assert seen[telegram("wholehearted_send_retries_total")] == 1
    assert seen[telegram("wholehearted_uncertain_total")] == 1
    assert seen[telegram("wholehearted_practices_sent_total")] == 0
    assert len(world.fake.texts(ANA)) == 2  # what the rule allows: one extra copy


@asynccontextmanager
async def watched(
    core: Core, now: Callable[[], float]
) -> AsyncIterator[tuple[int, Ticker, AsyncIOScheduler]]:
    """A bot's metrics server and planner, with no platform: its port, the ticker and the
    scheduler the ticker plans on once it is elected (`ticker.start`)."""
    switchboard = Switchboard()
    metrics = Metrics(core, switchboard, tick_seconds=20, now=now)
    server = MetricsServer(metrics)
    port = await server.start("127.0.0.1", 0)
    ticker = Ticker(core, switchboard, on_demand=False, telemetry=metrics)
    scheduler = AsyncIOScheduler()
    scheduler.start()
    try:
        yield port, ticker, scheduler
    finally:
        await ticker.stop(scheduler)
        scheduler.shutdown(wait=False)
        await server.stop()


async def test_healthz_says_when_the_planner_stalls(core: Core) -> None:
    clock = [1000.0]
    async with watched(core, lambda: clock[0]) as (port, ticker, scheduler):
        assert await health(port) == (
            200,
            "ok: the database answers; standing by (another process sends)",
        )
        await ticker.start(scheduler, 20)  # elected: it plans at once, then every 20 s
        clock[0] += 15
        assert await health(port) == (200, "ok: the database answers; the planner ran 15 s ago")
        clock[0] += 46  # three intervals and a second without a planning run
        assert await health(port) == (
            503,
            "the planner has not run for 61 s (it runs every 20 s); sending may be stuck",
        )
        await ticker.plan()
        assert (await health(port))[0] == 200


async def test_healthz_says_503_once_the_database_is_gone(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher
) -> None:
    path = tmp_path / "bot.sqlite3"
    core = sqlite_core(path, catalog, cipher, ManualClock(NOW))
    async with watched(core, lambda: 0.0) as (port, _, _):
        assert (await health(port))[0] == 200
        core.db.dispose()  # the file goes, and something else is in its place
        path.rename(tmp_path / "moved.sqlite3")
        path.mkdir()
        assert await health(port) == (503, "the database does not answer (OperationalError)")
        assert ("wholehearted_sender", ()) in await scrape(port)  # /metrics still answers
    core.db.dispose()


async def test_healthz_says_503_when_postgresql_does_not_answer(
    catalog: Catalog, cipher: ReplyCipher
) -> None:
    database = Database("postgresql://wholehearted:pw@127.0.0.1:1/nowhere")
    core = Core(database, Context(catalog=catalog, cipher=cipher, clock=ManualClock(NOW)))
    async with watched(core, lambda: 0.0) as (port, _, _):
        assert await health(port) == (503, "the database does not answer (OperationalError)")
    database.dispose()


async def test_a_taken_port_is_one_sentence(core: Core) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        server = MetricsServer(Metrics(core, Switchboard(), tick_seconds=20))
        with pytest.raises(StartupError, match=f"Cannot serve metrics on 127.0.0.1:{port}"):
            await server.start("127.0.0.1", port)
