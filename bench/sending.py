"""How fast a burst of daily practices goes out, and whether it stays under the limit.

Why: at 07:00 thousands of people can be due in the same minute. The design says one
elected process sends, evenly paced at 0.97 x the platform's limit, so a burst should
finish within 5 % of N / limit, with no 429 from the platform, nobody sent twice and
nobody lost, whether 1, 2 or 3 processes share the PostgreSQL database (the standbys
must not add a single request). This runs real `wholehearted run` subprocesses
(`tests.bot_processes`) against the strict fake Telegram (its token bucket answers 429
past the limit) and measures what arrived there:

- rate / limit: messages stored by the fake between its first and last delivery, per
  second, over the limit the fake enforces (and the bot is told);
- span / ideal: first-to-last delivery time over N / limit;
- last - due: when the last card arrived after the instant everyone was due.

Telegram's real limit (30/s) takes N / 30 seconds, so the default runs 600 people at
30/s and 3,000 with the limit scaled up to 300/s (about 5 minutes in all; 3,000 rather
than 6,000 because one sender does not reach 300/s on a small machine, which is the
point of that row). `--big` adds 20,000 people at 30/s (~11 min), `--big-only` runs just
that. A Discord DM row runs one process against `tests.fake_discord` (its global bucket,
50 requests a second; each first DM costs two requests: opening the DM channel, then the
message). On PostgreSQL the outbox is sampled every 2 s (rows pending, leased, sent), so
the JSON shows whether the planner or the sender set the pace.

    PYTHONPATH=. .venv/bin/python bench/sending.py [--big | --big-only]

Writes bench/results/sending.json (`--output` to change the name).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text, update

from db.models import Person
from db.session import Database
from tests.bot_processes import (
    BotProcesses,
    delivery_statuses,
    drop_everything,
    fresh_database,
    seed_due,
    seed_people,
)
from tests.fake_discord import FakeDiscord
from tests.fake_telegram import FakeTelegram

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/benchsend")
RESULTS = Path(__file__).resolve().parent / "results"
# Seeded people are due this far in the future until every process is up; then they are
# all made due at once, a moment ahead, as at the top of a minute.
PARKED = timedelta(hours=2)
DUE_AHEAD = 1.5  # seconds between "everyone is due" being written and the due instant
DISCORD_FIRST_USER = 800_000_000_000_000_000


# --- the machine ----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Cores, memory, Python, PostgreSQL and the date, for reading the numbers later."""
    memory_kb = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    try:
        database = Database(PG_URL)
        with database.engine.connect() as connection:
            pg_version = str(connection.execute(text("SHOW server_version")).scalar())
        database.dispose()
    except Exception as error:  # reported, not fatal
        pg_version = f"unavailable ({type(error).__name__})"
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "code": code_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def code_version() -> dict[str, Any]:
    """The commit, and the files changed since (others edit the tree while this runs)."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read only: no index refresh

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=False
        )
        return done.stdout.rstrip("\n")

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()]
    return {"head": git("rev-parse", "HEAD"), "changed": changed}


def write_json(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


# --- what arrived ---------------------------------------------------------------------


def copies_per_chat(delivered: Iterable[tuple[int, str]]) -> Counter[int]:
    """Chat -> copies of its card: the most times one identical text reached it (a card
    split into parts is one copy; the same card twice is two)."""
    by_chat: dict[int, Counter[str]] = {}
    for chat, body in delivered:
        by_chat.setdefault(chat, Counter())[body] += 1
    return Counter({chat: max(texts.values()) for chat, texts in by_chat.items()})


def telegram_copies(fake: FakeTelegram) -> Counter[int]:
    return copies_per_chat(
        (int(p["chat_id"]), str(p.get("text") or p.get("caption") or "")) for p in fake.delivered
    )


@dataclass
class Outcome:
    """Who got how many copies, against who should have got one."""

    lost: int = 0
    once: int = 0
    twice: int = 0
    more: int = 0
    extra: int = 0

    @classmethod
    def of(cls, copies: Counter[int], expected: Iterable[int]) -> Outcome:
        out = cls()
        for chat in expected:
            count = copies.get(chat, 0)
            out.lost += count == 0
            out.once += count == 1
            out.twice += count == 2
            out.more += count > 2
            out.extra += max(count - 1, 0)
        return out


# --- the world ------------------------------------------------------------------------


def make_due(database: Database, ahead: float = DUE_AHEAD) -> tuple[datetime, float]:
    """Everyone becomes due `ahead` seconds from now; (that instant, in wall and
    monotonic time, the fake's clock)."""
    due = datetime.now(UTC) + timedelta(seconds=ahead)
    due_monotonic = time.monotonic() + ahead
    with database.transaction() as session:
        session.execute(
            update(Person).values(
                next_due_at=due, next_due_date=due.date(), local_time=due.strftime("%H:%M")
            )
        )
    return due, due_monotonic


def database_for(backend: str, workdir: Path) -> tuple[str, Database]:
    url = PG_URL if backend == "postgresql" else f"sqlite:///{workdir / 'bench.sqlite3'}"
    return url, fresh_database(url)


async def wait_until(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


async def telegram_ready(fake: FakeTelegram, processes: int, timeout: float = 60.0) -> bool:
    """Every process has logged in (getMe, both setMyCommands) and the leader polls."""

    def ready() -> bool:
        methods = Counter(call.method for call in fake.calls)
        return (
            methods["getMe"] >= processes
            and methods["setMyCommands"] >= 2 * processes
            and methods["getUpdates"] >= 1
        )

    return await wait_until(ready, timeout)


def log_excerpt(bots: BotProcesses, *needles: str, limit: int = 12) -> list[str]:
    """Lines of the bots' logs that mention any needle (warnings and errors by default)."""
    wanted = needles or ("WARNING", "ERROR", "Traceback", "CRITICAL")
    lines = [line for line in bots.log_text().splitlines() if any(n in line for n in wanted)]
    return lines[:limit] + ([f"... {len(lines) - limit} more"] if len(lines) > limit else [])


# --- one burst ------------------------------------------------------------------------


@dataclass
class Burst:
    label: str
    platform: str
    backend: str
    processes: int
    people: int
    limit: float
    ideal_s: float
    span_s: float = 0.0
    rate_per_s: float = 0.0
    rate_over_limit: float = 0.0
    span_over_ideal: float = 0.0
    last_after_due_s: float = 0.0
    first_after_due_s: float = 0.0
    last_after_due_over_ideal: float = 0.0
    served_429: int = 0
    conflicts_409: int = 0
    duplicated: int = 0
    more_than_two: int = 0
    extra_copies: int = 0
    lost: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    requests_per_s: float | None = None
    finished: bool = True
    slices: list[float] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def measure(
        self, times: list[float], due_monotonic: float, copies: Counter[int], expected: list[int]
    ) -> None:
        if len(times) >= 2:
            self.span_s = times[-1] - times[0]
            self.rate_per_s = (len(times) - 1) / self.span_s if self.span_s > 0 else 0.0
            self.rate_over_limit = self.rate_per_s / self.limit
            self.span_over_ideal = self.span_s / self.ideal_s
        if times:
            self.first_after_due_s = times[0] - due_monotonic
            self.last_after_due_s = times[-1] - due_monotonic
            self.last_after_due_over_ideal = self.last_after_due_s / self.ideal_s
        outcome = Outcome.of(copies, expected)
        self.lost = outcome.lost
        self.duplicated = outcome.twice + outcome.more
        self.more_than_two = outcome.more
        self.extra_copies = outcome.extra


async def sample_timeline(
    timeline: list[dict[str, Any]],
    fake: FakeTelegram,
    database: Database,
    due_monotonic: float,
    every: float | None,
) -> None:
    """Every `every` seconds (PostgreSQL only: polling SQLite would take its lock), the
    cards out at the fake and the outbox rows by status: planner against sender."""
    if every is None or not database.is_postgresql:
        return
    while True:
        await asyncio.sleep(every)
        statuses = await asyncio.to_thread(delivery_statuses, database)
        timeline.append(
            {
                "t": round(time.monotonic() - due_monotonic, 1),
                "delivered": len(fake.delivered),
                "rows": statuses,
            }
        )


def rate_slices(times: list[float], limit: float, slices: int = 10) -> list[float]:
    """The rate over the limit in each tenth of the deliveries, first to last: where a
    burst slows down (while the planner still writes rows, or as tables grow)."""
    if len(times) < slices * 2:
        return []
    out = []
    step = (len(times) - 1) / slices
    for index in range(slices):
        first, last = round(index * step), round((index + 1) * step)
        span = times[last] - times[first]
        out.append(round((last - first) / span / limit, 3) if span > 0 else 0.0)
    return out


async def telegram_burst(
    people: int,
    limit: float,
    processes: int,
    backend: str,
    label: str,
    timeline_every: float | None = None,
) -> Burst:
    """`people` due at one instant, `processes` bots on one database, the fake at `limit`."""
    result = Burst(label, "telegram", backend, processes, people, limit, people / limit)
    fake = FakeTelegram(rate_limit=limit)
    url_of_fake = await fake.start()
    with tempfile.TemporaryDirectory(prefix="bench-send-") as folder:
        workdir = Path(folder)
        url, database = database_for(backend, workdir)
        chats = seed_due(database, people, due_at=datetime.now(UTC) + PARKED)
        bots = BotProcesses(url, url_of_fake, workdir, messages_per_second=limit)
        try:
            for _ in range(processes):
                await bots.start()
            if not await telegram_ready(fake, processes):
                result.notes.append("the processes were not all up within 60 s")
            await asyncio.sleep(0.5)  # the ticker starts right after the leader polls
            _, due_monotonic = make_due(database)
            sampling = asyncio.create_task(
                sample_timeline(result.timeline, fake, database, due_monotonic, timeline_every)
            )
            expected = set(chats)
            deadline = result.ideal_s * 1.5 + 30
            result.finished = await wait_until(
                lambda: (
                    len(fake.delivered) >= people
                    and len(expected.intersection(fake.deliveries_per_chat())) == len(expected)
                ),
                DUE_AHEAD + deadline,
                0.1,
            )
            if not result.finished:
                result.notes.append(f"not all delivered within {deadline:.0f} s")
            await asyncio.sleep(1.0)  # a late duplicate would show by now
            sampling.cancel()
            result.conflicts_409 = fake.conflicts  # before PTB's own 409 on stopping
            await bots.stop_all()
            result.measure(fake.send_times(), due_monotonic, telegram_copies(fake), chats)
            result.slices = rate_slices(fake.send_times(), limit)
            result.served_429 = fake.served_429
            result.statuses = delivery_statuses(database)
            if result.lost or result.duplicated or result.served_429 or not result.finished:
                result.notes.extend(log_excerpt(bots))
        finally:
            bots.kill_all_now()
            drop_everything(database)
            await fake.stop()
    return result


class DiscordProcesses(BotProcesses):
    """`wholehearted run` with Discord only, pointed at the fake Discord."""

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in super().env().items() if not k.startswith("TELEGRAM_")}
        env.update(DISCORD_BOT_TOKEN=FakeDiscord.token, DISCORD_API_BASE_URL=self.telegram_url)
        return env


async def discord_burst(people: int, backend: str = "postgresql") -> Burst:
    """`people` due at once, DMs through one process and the fake Discord's global bucket."""
    fake = FakeDiscord()
    limit = float(fake.global_rate_limit or 50.0)
    result = Burst(
        "Discord DMs, first DM each", "discord", backend, 1, people, limit, people / limit
    )
    users = list(range(DISCORD_FIRST_USER, DISCORD_FIRST_USER + people))
    for user in users:
        fake.add_member(user, f"P{user % 100_000}")
    await fake.start()
    with tempfile.TemporaryDirectory(prefix="bench-send-dc-") as folder:
        workdir = Path(folder)
        url, database = database_for(backend, workdir)
        seed_people(database, "discord", users, datetime.now(UTC) + PARKED)
        bots = DiscordProcesses(url, f"{fake.url}/api/v10", workdir)
        try:
            await bots.start()
            if not await wait_until(lambda: "now the sender" in bots.log_text(), 60, 0.1):
                result.notes.append("the process did not report being the sender within 60 s")
            await wait_until(lambda: fake.identifies >= 1, 30, 0.1)
            await asyncio.sleep(1.0)
            requests_before = len(fake.requests)
            _, due_monotonic = make_due(database)
            expected = set(users)
            deadline = 2 * result.ideal_s * 1.5 + 30  # two requests per first DM
            result.finished = await wait_until(
                lambda: len(expected.intersection(fake.dm_counts())) == len(expected),
                DUE_AHEAD + deadline,
                0.25,
            )
            if not result.finished:
                result.notes.append(f"not all delivered within {deadline:.0f} s")
            await asyncio.sleep(1.0)
            await bots.stop_all()
            times = fake.message_times()
            result.measure(times, due_monotonic, fake.dm_counts(), users)
            result.slices = rate_slices(times, limit)
            if times:
                window = [at for _, _, at in fake.requests[requests_before:] if at <= times[-1]]
                window = [at for at in window if at >= times[0]]
                span = times[-1] - times[0]
                result.requests_per_s = (len(window) - 1) / span if span > 0 else None
            result.served_429 = fake.served_429
            result.statuses = delivery_statuses(database)
            if fake.errors or fake.unknown_routes:
                result.notes.append(
                    f"fake: errors {fake.errors[:3]}, unknown routes {fake.unknown_routes[:3]}"
                )
            if result.lost or result.duplicated or result.served_429 or not result.finished:
                result.notes.extend(log_excerpt(bots))
        finally:
            bots.kill_all_now()
            drop_everything(database)
            await fake.stop()
    return result


# --- the table ------------------------------------------------------------------------

HEADER = (
    f"{'case':<34} {'N':>6} {'limit':>6} {'ideal s':>8} {'span s':>8} {'rate/lim':>8} "
    f"{'span/ideal':>10} {'last-due s':>10} {'(/ideal)':>8} {'429s':>5} {'dup':>4} "
    f"{'lost':>5}"
)


def row(burst: Burst) -> str:
    return (
        f"{burst.label:<34} {burst.people:>6,} {burst.limit:>6.0f} {burst.ideal_s:>8.1f} "
        f"{burst.span_s:>8.1f} {burst.rate_over_limit:>8.3f} {burst.span_over_ideal:>10.3f} "
        f"{burst.last_after_due_s:>10.1f} {burst.last_after_due_over_ideal:>8.3f} "
        f"{burst.served_429:>5} {burst.duplicated:>4} {burst.lost:>5}"
    )


def verdict(burst: Burst) -> str:
    """The issue's targets: finished within 5 % of N / limit, >= 0.95 of the limit, no 429."""
    if burst.platform == "discord":
        return "(Discord: see requests/s)"
    ok = (
        burst.finished
        and burst.span_over_ideal <= 1.05
        and burst.rate_over_limit >= 0.95
        and burst.served_429 == 0
        and burst.duplicated == 0
        and burst.lost == 0
    )
    return "meets target" if ok else "MISSES target"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    plan: list[tuple[str, int, float, int, str]] = []
    for people, limit in ((args.n_real, 30.0), (args.n_scaled, args.scaled_limit)):
        for processes in (1, 2, 3):
            label = f"telegram {limit:.0f}/s, PostgreSQL x{processes}"
            plan.append((label, people, limit, processes, "postgresql"))
        plan.append((f"telegram {limit:.0f}/s, SQLite x1", people, limit, 1, "sqlite"))
    if args.big:
        plan.append(("telegram 30/s, PostgreSQL x1, big", 20_000, 30.0, 1, "postgresql"))
    timeline_every = 10.0 if args.big else 2.0
    bursts: list[Burst] = []
    print(HEADER, flush=True)
    for label, people, limit, processes, backend in plan:
        burst = await telegram_burst(people, limit, processes, backend, label, timeline_every)
        bursts.append(burst)
        print(f"{row(burst)}  {verdict(burst)}", flush=True)
    if not args.no_discord:
        burst = await discord_burst(args.n_discord)
        bursts.append(burst)
        extra = (
            f"  requests/s {burst.requests_per_s:.1f} ({burst.requests_per_s / burst.limit:.3f} "
            "of the limit)"
            if burst.requests_per_s
            else ""
        )
        print(f"{row(burst)}{extra}", flush=True)
    print()
    print("rate/lim: deliveries per second, first to last, over the fake's limit.")
    print("span/ideal: first-to-last delivery over N/limit; last-due: the last card after the")
    print("due instant (s), and over N/limit. dup: people with more than one copy.")
    print("rate/limit by tenth of the deliveries, first to last:")
    for burst in bursts:
        print(f"  {burst.label:<34} {' '.join(f'{x:.2f}' for x in burst.slices)}")
    for burst in bursts:
        for note in burst.notes:
            print(f"  [{burst.label}] {note}")
    return {"bursts": [asdict(b) for b in bursts]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="add 20,000 people at 30/s (~11 min)")
    parser.add_argument("--big-only", action="store_true", help="only the 20,000 at 30/s")
    parser.add_argument("--no-discord", action="store_true")
    parser.add_argument("--n-real", type=int, default=600, help="people at 30/s")
    parser.add_argument("--n-scaled", type=int, default=3000, help="people at the scaled limit")
    parser.add_argument("--scaled-limit", type=float, default=300.0)
    parser.add_argument("--n-discord", type=int, default=600)
    parser.add_argument("--output", default="sending.json")
    args = parser.parse_args()
    started = time.monotonic()
    info = machine()
    print(
        f"machine: {info['cores']} cores, {info['memory_gib']} GiB, Python {info['python']}, "
        f"PostgreSQL {info['postgresql']}, load {info['load_average_at_start']}, {info['date']}"
    )
    results = asyncio.run(big_only() if args.big_only else run(args))
    results["machine"] = info
    results["seconds"] = round(time.monotonic() - started, 1)
    path = write_json(args.output, results)
    print(f"wrote {path} in {results['seconds']:.0f} s")


async def big_only() -> dict[str, Any]:
    print(HEADER, flush=True)
    burst = await telegram_burst(
        20_000, 30.0, 1, "postgresql", "telegram 30/s, PostgreSQL x1, big", timeline_every=10.0
    )
    print(f"{row(burst)}  {verdict(burst)}", flush=True)
    print(f"rate/limit by tenth of the deliveries: {burst.slices}")
    for note in burst.notes:
        print(f"  [{burst.label}] {note}")
    return {"bursts": [asdict(burst)]}


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
