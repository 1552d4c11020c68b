"""Scheduling at 10k, 100k and 1M people: the idle tick and its memory, against the
baseline of one APScheduler cron job per person, measured in the same run.

Why: each person's next due instant is an indexed column, and a tick that finds nothing
due is one read that locks nothing, `Core.due_sync(platforms)` (`outbox.due` inside
`Database.read()`), asked by the planner before planning and by an idle sender before
claiming. Nearly every tick finds nothing, so that read is what scale costs; the target
is under 1 ms at 1,000,000 people on SQLite and on PostgreSQL. The usual alternative, one
`CronTrigger` job per person, queries nothing but holds everyone in memory and registers
everyone at every start. This measures both on the same machine.

Per size and database: N people (eight time zones, mostly morning and evening, some on
weekdays or weekends only, 5% stopped or paused; due instants from the bot's own
`next_occurrence`) and outboxes with a history (a sent practice per active person, 0.5%
snoozed and due later, 3% with an older expired day; three posts for each of N/1000
workshops; sent, expired and retrying notices); nothing is due at `NOW`. In fresh
processes, before and after the VACUUM ANALYZE (SQLite: ANALYZE) run after a bulk load:
`core.due_sync(["telegram"])` (median, p90, fastest, after a warm-up long enough for
psycopg to prepare the statement, as in a running bot); for context the busy path's
`core.claim_sync("telegram")` finding nothing; where the tick's time goes; the plan of
the `outbox.due` statement (PostgreSQL: also the generic plan of a prepared statement);
peak RSS. PostgreSQL keeps a schema per size (`scheduling_<N>`), reused while its
fingerprint (this builder, the bot's `next_occurrence`, N, the migrations' head) matches,
with the figures measured before ANALYZE when it was built. Baseline, in a fresh process
with the same imports: an `AsyncIOScheduler`, one `CronTrigger(day_of_week, hour, minute,
timezone)` job per active person, added before `start(paused=True)` (which computes each
first fire time and files the job in a sorted list): seconds and RSS, measured at every size.

    PYTHONPATH=. .venv/bin/python bench/scheduling.py \\
        --postgresql postgresql://postgres@127.0.0.1:5432/bench [--sizes 10000,100000]

Output: tables, and bench/results/scheduling.json with the machine's description.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import inspect
import json
import os
import platform
import random
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alembic.config import Config
from alembic.script import ScriptDirectory
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import create_engine, event, insert, text

from bot.core import outbox
from bot.core.catalog import load_catalog
from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.crypto import ReplyCipher
from bot.core.parsing import mask_to_days
from bot.core.people import PAUSED_INDEFINITELY
from bot.core.schedule import local_date, next_occurrence
from bot.core.service import Core
from db.models import Delivery, Notice, Person, Workshop, WorkshopPost
from db.session import MIGRATIONS_DIR, Database, normalize_url

NOW = datetime(2026, 11, 23, 7, 0, 30, tzinfo=UTC)  # a Monday; due instants are on :00
SIZES = (10_000, 100_000, 1_000_000)
TARGET_MS = 1.0
WARMUP = 20  # psycopg prepares a statement on its 6th run
RESULTS = Path(__file__).resolve().parent / "results" / "scheduling.json"
TABLES = ("people", "deliveries", "workshops", "workshop_posts", "notices")
PLATFORMS, PLATFORM_WEIGHTS = ("telegram", "discord"), (70, 30)
ZONES = ("Europe/Berlin", "America/New_York", "Europe/London", "America/Los_Angeles")
ZONES += ("Asia/Kolkata", "Australia/Sydney", "UTC", "Asia/Kathmandu")
ZONE_WEIGHTS = (30, 20, 15, 10, 10, 8, 5, 2)
EVERY_DAY, WEEKDAYS, WEEKENDS = 0b1111111, 0b0011111, 0b1100000
CRON_DAYS = {EVERY_DAY: "*", WEEKDAYS: "mon-fri", WEEKENDS: "sat,sun"}
Row = dict[str, Any]


# --- the dataset ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    platform: str
    local_time: str
    timezone: str
    weekdays: int
    state: str  # "active", "stopped" or "paused" (indefinitely)


def population(n: int, seed: int = 2026) -> Iterator[Settings]:
    """The same N people every time, for the database and for the cron baseline."""
    rng = random.Random(seed)
    for _ in range(n):
        roll = rng.random()
        hour = rng.randint(6, 8) if roll < 0.5 else rng.randint(19, 22) if roll < 0.85 else -1
        hour = rng.randint(0, 23) if hour < 0 else hour  # mornings, evenings, any time
        minute = rng.choice((0, 15, 30, 45)) if rng.random() < 0.8 else rng.randint(0, 59)
        days, state = rng.random(), rng.random()
        yield Settings(
            platform=rng.choices(PLATFORMS, PLATFORM_WEIGHTS)[0],
            local_time=f"{hour:02d}:{minute:02d}",
            timezone=rng.choices(ZONES, ZONE_WEIGHTS)[0],
            weekdays=EVERY_DAY if days < 0.80 else WEEKDAYS if days < 0.95 else WEEKENDS,
            state="active" if state < 0.95 else "stopped" if state < 0.99 else "paused",
        )


@cache
def first_due(timezone: str, local_time: str, weekdays: int) -> tuple[datetime, date]:
    """The bot's own rule (`bot.core.schedule`) for the next due instant after `NOW`."""
    zone = ZoneInfo(timezone)
    occurrence = next_occurrence(
        zone=zone,
        at=wall_time.fromisoformat(local_time),
        weekdays=mask_to_days(weekdays),
        from_date=local_date(NOW, zone),
        not_before=NOW,
    )
    assert occurrence is not None and occurrence.due_at > NOW
    return occurrence.due_at, occurrence.practice_date


def person_rows(pid: int, s: Settings, practice: str) -> tuple[Row, list[Row]]:
    """A person and their deliveries: the last practice sent (0.5% snoozed: pending, due
    after `NOW`) and, for 3%, an older day that expired unsent."""
    zone, active = ZoneInfo(s.timezone), s.state == "active"
    due_at, due_date = first_due(s.timezone, s.local_time, s.weekdays)
    person = {
        "id": pid, "platform": s.platform, "platform_user_id": str(100_000_000 + pid),
        "display_name": f"Person {pid}", "created_at": NOW - timedelta(days=30 + pid % 300),
        "local_time": s.local_time, "timezone": s.timezone, "weekdays": s.weekdays,
        "themes": "individuality,playfulness", "stopped": s.state == "stopped",
        "paused_until": PAUSED_INDEFINITELY if s.state == "paused" else None,
        "next_due_at": due_at if active else None, "next_due_date": due_date if active else None,
        "last_practice_date": local_date(NOW, zone) - timedelta(days=1),
    }  # fmt: skip
    if not active:
        return person, []
    sent = min(due_at - timedelta(days=1), NOW - timedelta(hours=1))
    last = {
        "person_id": pid, "practice_date": local_date(sent, zone), "practice_id": practice,
        "status": "sent", "due_at": sent, "attempts": 1, "created_at": sent, "sent_at": sent,
    }  # fmt: skip
    if pid % 200 == 7:
        last |= {"status": "pending", "due_at": NOW + timedelta(minutes=1 + pid % 59)}
    if pid % 100 >= 3:
        return person, [last]
    day = last["practice_date"] - timedelta(days=2)
    expired = {"status": "expired", "sent_at": None, "practice_date": day, "attempts": 0}
    return person, [last, last | expired | {"due_at": sent - timedelta(days=2)}]


def workshop_rows(count: int, program: str, practices: list[str]) -> tuple[list[Row], list[Row]]:
    """Workshops on their fourth day; days 1-3 posted (day 1 of every tenth expired)."""
    workshops, posts = [], []
    for n in range(1, count + 1):
        zone, local_time = ZONES[n % len(ZONES)], f"{(n * 7) % 24:02d}:{(n * 15) % 60:02d}"
        due_at, due_date = first_due(zone, local_time, EVERY_DAY)
        workshops.append({
            "id": n, "platform": PLATFORMS[n % 2], "chat_id": str(-1_000_000 - n),
            "program_id": program, "local_time": local_time, "timezone": zone,
            "started_by": str(n), "created_at": NOW - timedelta(days=3), "next_day": 4,
            "next_due_at": due_at, "next_due_date": due_date,
        })  # fmt: skip
        for day in (1, 2, 3):
            ago, sent = timedelta(days=4 - day), not (day == 1 and n % 10 == 0)
            sent_at = due_at - ago if sent else None
            posts.append({
                "workshop_id": n, "day_number": day, "practice_date": due_date - ago,
                "practice_id": practices[day], "status": "sent" if sent else "expired",
                "due_at": due_at - ago, "attempts": int(sent), "sent_at": sent_at,
            })  # fmt: skip
    return workshops, posts


def notice_rows(n: int) -> list[Row]:
    """A sent notice per 50 people, an expired one per 500 (text erased), and one per
    5,000 waiting out a retry (pending, due 20 s after `NOW`)."""
    rows = []
    for pid in range(1, n + 1, 50):
        status, at = "sent", NOW - timedelta(hours=3)
        if pid % 500 == 1:
            status, at = "expired", NOW - timedelta(days=10)
        if pid % 5000 == 51:
            status, at = "pending", NOW + timedelta(seconds=20)
        rows.append({
            "person_id": pid, "created_at": min(at, NOW), "ciphertext": b"", "status": status,
            "due_at": at, "attempts": 1, "sent_at": at if status == "sent" else None,
        })  # fmt: skip
    return rows


def build(url: str, n: int) -> float:
    """Create the schema and load the dataset (no statistics yet); returns the seconds."""
    catalog, database = load_catalog(), Database(url)
    practices = sorted(catalog.practices)
    database.upgrade()
    started = time.perf_counter()
    with database.engine.begin() as connection:
        if database.is_postgresql:  # no statistics until measured without them
            for table in TABLES:
                connection.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = off)"))
        people: list[Row] = []
        deliveries: list[Row] = []
        for pid, settings in enumerate(population(n), start=1):
            person, rows = person_rows(pid, settings, practices[pid % len(practices)])
            people.append(person)
            deliveries += rows
            if len(people) == 10_000 or pid == n:
                connection.execute(insert(Person), people)
                connection.execute(insert(Delivery), deliveries)
                people, deliveries = [], []
        workshops, posts = workshop_rows(max(n // 1000, 1), sorted(catalog.programs)[0], practices)
        connection.execute(insert(Workshop), workshops)
        connection.execute(insert(WorkshopPost), posts)
        connection.execute(insert(Notice), notice_rows(n))
    database.dispose()
    return time.perf_counter() - started


def analyze(url: str) -> None:
    """What an operator runs after a bulk load; autovacuum back on (PostgreSQL)."""
    database = Database(url)
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE" if database.is_postgresql else "ANALYZE"))
        for table in TABLES if database.is_postgresql else ():
            c.execute(text(f"ALTER TABLE {table} RESET (autovacuum_enabled)"))
    database.dispose()


def fingerprint(n: int) -> str:
    """Changes whenever the dataset could: this file up to the measurements (constants and
    builder), the bot's `next_occurrence`, N, the migrations' head."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    code = Path(__file__).read_text().split("# --- the design")[0]
    code += inspect.getsource(next_occurrence)
    return f"scheduling {n} {head} {hashlib.sha256(code.encode()).hexdigest()[:16]}"


def on_postgresql(url: str, statement: str, **parameters: Any) -> Any:
    """One statement in its own transaction, outside the sizes' schemas; its scalar."""
    engine = create_engine(normalize_url(url))
    with engine.begin() as connection:
        result = connection.execute(text(statement), parameters)
        value = result.scalar() if result.returns_rows else None
    engine.dispose()
    return value


def measure(url: str, n: int, database: str, timing: tuple[int, float], pg: str | None) -> Row:
    """Build (unless PostgreSQL's schema for N is there and matches), measure without
    statistics, analyze, measure: the latter, with the former as `without_analyze`."""
    schema, wanted, kept = f"scheduling_{n}", fingerprint(n), {}
    if pg and on_postgresql(pg, f"SELECT to_regclass('{schema}.bench_kept') IS NOT NULL"):
        kept = on_postgresql(pg, f"SELECT kept FROM {schema}.bench_kept")
    row: Row = {"n": n, "database": database, "reused": kept.get("fingerprint") == wanted}
    if row["reused"]:
        print(f"{database}: {n:,} people: reusing schema {schema} built {kept['built']}")
        row |= {"build_s": kept["build_s"], "without_analyze": kept["without_analyze"]}
        return row | child("tick", url, *timing)
    print(f"{database}: building {n:,} people ...", flush=True)
    if pg:
        on_postgresql(pg, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        on_postgresql(pg, f"CREATE SCHEMA {schema}")
    row |= {"build_s": build(url, n), "without_analyze": child("tick", url, *timing)}
    row["without_analyze"]["measured"] = datetime.now(UTC).isoformat(timespec="seconds")
    analyze(url)
    if pg:  # kept only once built and measured
        kept = {"fingerprint": wanted, "built": row["without_analyze"]["measured"]}
        kept |= {key: row[key] for key in ("build_s", "without_analyze")}
        on_postgresql(pg, f"CREATE TABLE {schema}.bench_kept (kept jsonb)")
        insert_kept = f"INSERT INTO {schema}.bench_kept VALUES (CAST(:kept AS jsonb))"
        on_postgresql(pg, insert_kept, kept=json.dumps(kept, default=str))
    return row | child("tick", url, *timing)


# --- the design: the idle tick, in its own process ---------------------------------------------


def timed(action: Callable[[], object], repeats: int, max_s: float) -> dict[str, float]:
    """Median, p90 and fastest of `repeats` runs after the warm-up, in ms (fewer runs,
    at least 20, if they would take longer than `max_s`)."""
    for _ in range(WARMUP):
        action()
    samples: list[float] = []
    deadline = time.perf_counter() + max_s
    while len(samples) < repeats and (len(samples) < 20 or time.perf_counter() < deadline):
        started = time.perf_counter_ns()
        action()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    samples.sort()
    p90 = samples[int(0.9 * (len(samples) - 1))]
    median, runs = statistics.median(samples), len(samples)
    return {"ms": median, "p90_ms": p90, "min_ms": samples[0], "runs": runs}


def captured(database: Database, core: Core) -> tuple[Any, str, Any]:
    """The `outbox.due` statement: as SQLAlchemy gets it, and as the driver gets it."""
    seen: list[Any] = []

    def statement(_connection: Any, clause: Any, *_: Any) -> None:
        seen.append(clause)

    def sql(_connection: Any, _cursor: Any, text: str, parameters: Any, *_: Any) -> None:
        seen.append((text, parameters))

    listeners = {"before_execute": statement, "before_cursor_execute": sql}
    for name, listener in listeners.items():
        event.listen(database.engine, name, listener)
    core.due_sync(["telegram"])
    for name, listener in listeners.items():
        event.remove(database.engine, name, listener)
    return seen[-2], *seen[-1]


def explain(database: Database, sql: str, parameters: Any) -> dict[str, list[str]]:
    """SQLite: EXPLAIN QUERY PLAN. PostgreSQL: EXPLAIN ANALYZE for these values, and for
    the generic plan the server may give the statement psycopg prepares."""
    connection = database.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if not database.is_postgresql:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, parameters)
            depth: dict[int, int] = {}
            for node, parent, _, _ in (rows := cursor.fetchall()):
                depth[node] = depth.get(parent, -1) + 1
            return {"plan": ["  " * depth[row[0]] + row[3] for row in rows]}
        from psycopg import sql as pgsql

        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, parameters)
        custom = [row[0] for row in cursor.fetchall()]
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
        numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", sql)
        values = pgsql.SQL(", ").join(pgsql.Literal(parameters[name]) for name in names)
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("PREPARE bench_generic AS " + numbered)
        execute = pgsql.SQL("EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_generic({})")
        cursor.execute(execute.format(values).as_string(connection.driver_connection))
        return {"plan": custom, "generic plan": [row[0] for row in cursor.fetchall()]}
    finally:
        connection.rollback()
        connection.close()


def access_paths(plan: list[str]) -> list[str]:
    """How each table is reached: `table: index` for a probe, or a FULL SCAN."""
    paths, heap = [], ""
    for i, line in enumerate(plan):
        if m := re.search(r"\b(SEARCH|SCAN) (\w+)(?: USING (?:COVERING )?(?:INDEX )?(\w+))?", line):
            index = "primary key" if m[3] == "INTEGER" else m[3]
            if m[2] != "CONSTANT":  # SQLite
                full = f"FULL SCAN{f' of {index}' if index else ''}"
                paths.append(f"{m[2]}: {index if m[1] == 'SEARCH' else full}")
        elif m := re.search(r"(Seq|Bitmap Heap) Scan on (\w+)", line):
            heap = m[2]
            if m[1] == "Seq":
                paths.append(f"{m[2]}: FULL SCAN")
        elif m := re.search(r"Index (?:Only )?Scan (?:Backward )?using (\w+) on (\w+)", line):
            end = next((j for j in range(i + 1, len(plan)) if "->" in plan[j]), len(plan))
            probed = any("Index Cond" in later for later in plan[i + 1 : end])
            paths.append(f"{m[2]}: {m[1] if probed else f'FULL SCAN of {m[1]}'}")
        elif m := re.search(r"Bitmap Index Scan on (\w+)", line):
            paths.append(f"{heap}: {m[1]}")
    return paths


def measure_tick(url: str, repeats: int, max_s: float) -> Row:
    database = Database(url)
    core = Core(database, Context(load_catalog(), ReplyCipher(bytes(32)), ManualClock(NOW)))

    def idle() -> None:
        assert core.due_sync(["telegram"]) == (False, False), "something is due at NOW"

    def claim() -> None:
        assert core.claim_sync("telegram") is None, "something was claimed"

    def read_floor() -> None:
        with database.read() as session:
            session.execute(text("SELECT 1")).one()

    result: Row = {"idle": timed(idle, repeats, max_s), "claim": timed(claim, repeats, max_s)}
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["read_floor"] = timed(read_floor, repeats, max_s)
    statement, sql, parameters = captured(database, core)
    with database.read() as session:
        due = lambda: outbox.due(session, ["telegram"], NOW)  # noqa: E731
        result["due_in_session"] = timed(due, repeats, max_s)
        result["statement_in_session"] = timed(
            lambda: session.execute(statement).one(), repeats, max_s
        )
    raw = database.engine.raw_connection()
    try:
        driver = raw.driver_connection
        if database.is_postgresql:
            driver.rollback()
            driver.autocommit = True
        cursor = driver.cursor()
        ways: dict[str, dict[str, Any]] = {"driver": {}}
        if database.is_postgresql:
            ways["driver_unprepared"] = {"prepare": False}  # planned afresh each run
        for name, options in ways.items():
            run = lambda o=options: cursor.execute(sql, parameters, **o).fetchall()  # noqa: E731
            result[name] = timed(run, repeats, max_s)
    finally:
        raw.invalidate()  # an autocommit connection never goes back to the pool
    plans = explain(database, sql, parameters)
    result["paths"] = {kind: access_paths(plan) for kind, plan in plans.items()}
    result["plans"] = {"sql": sql, **plans}
    database.dispose()
    return result


# --- the baseline: one cron job per person, in its own process -------------------------------


async def send_practice(person_id: int) -> None:
    """What a per-person job would run; nobody is due while the benchmark looks."""


async def register_cron_jobs(n: int) -> Row:
    scheduler = AsyncIOScheduler(timezone=UTC)
    started = time.perf_counter()
    for pid, s in enumerate(population(n), start=1):
        if s.state == "active":
            hour, minute = map(int, s.local_time.split(":"))
            days = CRON_DAYS[s.weekdays]
            trigger = CronTrigger(day_of_week=days, hour=hour, minute=minute, timezone=s.timezone)
            scheduler.add_job(send_practice, trigger, args=(pid,), id=f"p{pid}", coalesce=True)
    added = time.perf_counter()
    scheduler.start(paused=True)
    filed = time.perf_counter()
    result = {
        "jobs": len(scheduler.get_jobs()), "add_job_s": added - started,
        "start_s": filed - added, "register_s": filed - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }  # fmt: skip
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)
    return result


# --- running it all --------------------------------------------------------------------------


def child(kind: str, *arguments: object) -> Row:
    """One measurement in a fresh interpreter, so its memory is its own."""
    command = [sys.executable, __file__, "--child", kind, *map(str, arguments)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{kind} measurement failed: {' '.join(command)}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def machine(postgresql: str | None) -> Row:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    info: Row = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "cores": os.cpu_count(),
        "memory_gib": round(total_kb / 2**20, 1), "os": platform.platform(),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "postgresql": None, "load_average_at_start": os.getloadavg(),
        "packages": {p: version(p) for p in ("SQLAlchemy", "psycopg", "APScheduler")},
    }  # fmt: skip
    if postgresql:
        info["postgresql"] = on_postgresql(postgresql, "SHOW server_version")
    return info


def report(rows: list[Row], crons: dict[int, Row], info: Row, path: Path) -> None:
    head = (
        f"{'N':>9} {'database':<10} {'idle ms':>7} {'p90':>6} {'no ANALYZE':>10} {'claim ms':>8}"
        f" {'RSS MB':>6} | {'cron reg s':>10} {'cron RSS MB':>11} {'RSS ratio':>9}"
    )
    print(f"\n{head}\n{'-' * len(head)}")
    for row in rows:
        cron, idle = crons[row["n"]], row["idle"]
        row["rss_ratio"] = cron["peak_rss_mb"] / row["peak_rss_mb"]
        print(
            f"{row['n']:>9,} {row['database']:<10} {idle['ms']:>7.3f} {idle['p90_ms']:>6.2f}"
            f" {row['without_analyze']['idle']['ms']:>10.3f} {row['claim']['ms']:>8.3f}"
            f" {row['peak_rss_mb']:>6.0f} | {cron['register_s']:>10.1f}"
            f" {cron['peak_rss_mb']:>11.0f} {row['rss_ratio']:>9.1f}"
        )
    print(LEGEND)
    head = f"{'N':>9} {'database':<10}" + "".join(f"{name:>9}" for name in BREAKDOWN)
    print(f"{head}\n{'-' * len(head)}")
    for row in rows:
        times = "".join(f"{row[key]['ms']:>9.3f}" for key in BREAKDOWN.values() if key in row)
        print(f"{row['n']:>9,} {row['database']:<10}{times}")
    print("\nHow outbox.due reaches each table after ANALYZE (FULL SCAN: not through an index):")
    for row in rows:
        for kind, paths in row["paths"].items():
            print(f"{row['n']:>9,} {row['database']:<10} {kind}: {'; '.join(paths)}")
    largest = max(row["n"] for row in rows)
    at_largest = [row for row in rows if row["n"] == largest]
    for row in at_largest:
        for kind, plan in row["plans"].items():
            if kind != "sql":
                print(f"\n-- {row['database']}, {largest:,} people, outbox.due, {kind}:")
                print("\n".join("   " + line for line in plan))
    verdict = {row["database"]: row["idle"]["ms"] < TARGET_MS for row in at_largest}
    said = ", ".join(f"{db}: {'yes' if ok else 'NO'}" for db, ok in verdict.items())
    print(f"\nIdle tick under {TARGET_MS} ms at {largest:,} people: {said}")
    info["load_average_at_end"] = os.getloadavg()
    print(
        f"{info['cores']} cores, {info['memory_gib']} GiB, Python {info['python']}, SQLite "
        f"{info['sqlite']}, PostgreSQL {info['postgresql']}; load {info['load_average_at_start']}"
        f" at start, {info['load_average_at_end']} at end; {info['date']}"
    )
    output = {
        "benchmark": "bench/scheduling.py", "machine": info, "now": NOW.isoformat(),
        "target_ms": TARGET_MS, "idle_tick_under_target_at_largest": verdict,
        "design": rows, "baseline": {str(n): cron for n, cron in sorted(crons.items())},
    }  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(output, indent=2, default=str) + "\n")
    print(f"Written to {path}")


BREAKDOWN = {"tick": "idle", "read": "read_floor", "due()": "due_in_session"}
BREAKDOWN |= {"stmt": "statement_in_session", "driver": "driver", "fresh": "driver_unprepared"}
LEGEND = """idle = core.due_sync(['telegram']) after VACUUM ANALYZE (SQLite: ANALYZE), median, p90;
no ANALYZE = its median before (a reused PostgreSQL schema: as measured when it was built);
claim = core.claim_sync('telegram') finding nothing; RSS = peak of the measuring process;
cron = one CronTrigger job per active person, until start(paused=True) returns;
RSS ratio = cron process / tick process.

Where the idle tick goes (medians, ms): read = SELECT 1 through Database.read(); due() =
outbox.due in an open read session; stmt = its statement, built once, run in that session;
driver = its SQL on a bare connection (PostgreSQL: prepared by psycopg, as the bot's is);
fresh = the same planned afresh each run (PostgreSQL)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", help="PostgreSQL URL; PostgreSQL is skipped without it")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=10.0, help="per timed series")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "tick":
            result = measure_tick(rest[0], int(rest[1]), float(rest[2]))
        else:
            result = asyncio.run(register_cron_jobs(int(rest[0])))
        print(json.dumps(result, default=str))
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    info = machine(args.postgresql)
    rows: list[Row] = []
    timing = (args.repeats, args.max_seconds)
    for n in sizes:
        with tempfile.TemporaryDirectory() as folder:
            rows.append(measure(f"sqlite:///{folder}/b.sqlite3", n, "SQLite", timing, None))
        if args.postgresql:
            url = normalize_url(args.postgresql)
            url = url.update_query_dict({"options": f"-csearch_path=scheduling_{n}"})
            pg = url.render_as_string(hide_password=False)
            rows.append(measure(pg, n, "PostgreSQL", timing, args.postgresql))
    crons = {}
    for n in sizes:
        print(f"baseline: {n:,} people's cron jobs ...", flush=True)
        crons[n] = child("cron", n)
    report(rows, crons, info, args.output)


if __name__ == "__main__":
    main()
