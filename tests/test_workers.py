"""Several worker processes sharing one database never send anyone a practice twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.service import Core
from db.session import Database
from tests.harness import Harness


def test_two_workers_ticking_at_once_send_each_practice_once(
    database: Database, core: Core, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    setup = Harness(core, clock)
    people = [f"p{n}" for n in range(40)]
    for who in people:
        setup.onboard(who, time="07:00")
    setup.close()
    clock.set(datetime(2026, 11, 23, 7, 0, 5, tzinfo=UTC))

    workers = []
    for _ in range(3):
        engine = Database(database.url)  # its own connection pool, as another process has
        ctx = Context(catalog=core.ctx.catalog, cipher=core.ctx.cipher, clock=clock)
        workers.append(Harness(Core(engine, ctx), clock))
    start = threading.Barrier(len(workers))

    def work(harness: Harness) -> None:
        start.wait()
        for _ in range(3):
            harness.tick()

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    received = [to for w in workers for to, _ in w.messenger.sent]
    for harness in workers:
        harness.close()
        harness.core.db.dispose()
    assert sorted(received) == sorted(people)
