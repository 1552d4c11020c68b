"""How a scheduler tick's cost grows with the number of recipients, and how long a busy
tick holds the database's write lock.

A tick must stay cheap however many people there are: only those due now are touched,
found through the indexed next-due column. This builds databases of 1,000 (the baseline)
and 100,000 recipients, makes the same 50 people due, and times one tick on each. A ratio
near 1 means the tick does not scan everyone. Then 500 people are due at once, and the
longest write transaction of that tick is reported: on SQLite every command waits behind
it, so planning and leasing must come in short transactions.

    PYTHONPATH=. .venv/bin/python bench/tick_scaling.py [postgresql://...]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, event, text

from bot.core.catalog import load_catalog
from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.crypto import ReplyCipher
from bot.core.messages import Message, Recipient
from bot.core.ports import ANSWER, Attempt, Switchboard
from bot.core.service import Core
from bot.core.ticker import Ticker
from db.models import Base
from db.session import Database
from tests.bot_processes import insert_people, person_row

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
DUE = 50


class NullMessenger:
    platform = "bench"
    rate_per_second = 1_000_000.0  # time the tick, not a platform's pacing

    async def send(self, to: Recipient, message: Message, attempt: Attempt = ANSWER) -> str | None:
        return None

    async def probe(self) -> None:
        return None


def build(url: str, recipients: int, due: int = DUE) -> Database:
    database = Database(url)
    if database.is_postgresql:
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    database.upgrade()
    rows = [
        person_row(
            "bench",
            str(n),
            NOW - timedelta(seconds=5) if n < due else NOW + timedelta(minutes=1 + n % 1400),
            NOW,
        )
        for n in range(recipients)
    ]
    insert_people(database, rows)
    return database


def time_tick(database: Database, due: int = DUE) -> float:
    clock = ManualClock(NOW)
    core = Core(database, Context(load_catalog(), ReplyCipher(bytes(32)), clock))
    ticker = Ticker(core, Switchboard([NullMessenger()]))
    started = time.perf_counter()
    report = asyncio.run(ticker.tick())
    elapsed = time.perf_counter() - started
    assert report.sent == due, report
    return elapsed


def longest_transaction(url_for: str | None, due: int = 500) -> tuple[float, int]:
    """(longest transaction in ms, transactions) of one tick with `due` people due."""
    with tempfile.TemporaryDirectory() as folder:
        database = build(url_for or f"sqlite:///{folder}/bench.sqlite3", 1_000, due)
        spans: list[float] = []
        began: dict[int, float] = {}

        def begin(connection: Connection) -> None:
            began[id(connection)] = time.perf_counter()

        def commit(connection: Connection) -> None:
            spans.append(time.perf_counter() - began.pop(id(connection), time.perf_counter()))

        event.listen(database.engine, "begin", begin)
        event.listen(database.engine, "commit", commit)
        time_tick(database, due)
        database.dispose()
    return max(spans) * 1000, len(spans)


def measure(url_for: str | None, recipients: int, repeats: int = 3) -> float:
    samples = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            url = url_for or f"sqlite:///{folder}/bench.sqlite3"
            database = build(url, recipients)
            samples.append(time_tick(database))
            if database.is_postgresql:
                with database.engine.begin() as connection:
                    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
                    connection.execute(text(f"TRUNCATE {tables} CASCADE"))
            database.dispose()
    return statistics.median(samples)


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else None
    backend = "postgresql" if url else "sqlite"
    baseline = measure(url, 1_000)
    large = measure(url, 100_000)
    print(f"backend: {backend}; {DUE} people due in each tick")
    print(f"tick with   1,000 recipients: {baseline * 1000:8.1f} ms (baseline)")
    print(f"tick with 100,000 recipients: {large * 1000:8.1f} ms")
    print(f"ratio (100,000 / 1,000): {large / baseline:.2f}x for 100x the recipients")
    longest, transactions = longest_transaction(url)
    print(
        f"500 due at once: the longest of {transactions} write transactions took "
        f"{longest:.0f} ms (before: one transaction for all 500)"
    )


if __name__ == "__main__":
    main()
