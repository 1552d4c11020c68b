"""Several processes of one bot: one elected sender on PostgreSQL, one process on SQLite."""

from __future__ import annotations

import asyncio
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.service import Core
from bot.leadership import AdvisoryLock, OneProcessOnly, SoleProcess
from db.session import Database
from tests.harness import Harness


def test_planners_on_one_database_never_plan_a_practice_twice(
    database: Database, core: Core, clock: ManualClock
) -> None:
    """Planning is safe from any number of processes at once (SKIP LOCKED, unique rows)."""
    clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    setup = Harness(core, clock)
    people = [f"p{n}" for n in range(40)]
    for who in people:
        setup.onboard(who, time="07:00")
    clock.set(datetime(2026, 11, 23, 7, 0, 5, tzinfo=UTC))
    cores = [
        Core(Database(database.url), Context(core.ctx.catalog, core.ctx.cipher, clock))
        for _ in range(3)
    ]
    start = threading.Barrier(len(cores))
    planned: list[int] = []

    def plan(other: Core) -> None:
        start.wait()
        planned.append(other.plan_due_sync(["test"]))

    threads = [threading.Thread(target=plan, args=(c,)) for c in cores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in cores:
        other.db.dispose()
    assert sum(planned) == len(people)
    setup.tick()
    assert sorted(to for to, _ in setup.messenger.sent) == sorted(people)
    setup.close()


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="advisory locks are PostgreSQL's"
)
def test_on_postgresql_one_process_sends_and_a_standby_takes_over() -> None:
    database = Database(os.environ["TEST_DATABASE_URL"])

    async def elect() -> None:
        first, second = AdvisoryLock(database, 0.05), AdvisoryLock(database, 0.05)
        await asyncio.wait_for(first.elected(), 2)
        standby = asyncio.create_task(second.elected())
        await asyncio.sleep(0.3)
        assert not standby.done(), "two senders at once"
        await first.resign()  # the leader stops (or dies: its connection closes)
        await asyncio.wait_for(standby, 2)
        await second.resign()

    asyncio.run(elect())
    database.dispose()


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="advisory locks are PostgreSQL's"
)
def test_on_postgresql_a_sender_whose_connection_is_killed_steps_down_and_a_standby_leads() -> None:
    """The database drops the leader's connection (a restart, a failover, an operator's
    pg_terminate_backend): the leader must notice, step down without an error, and a
    standby must take over; never two senders, never none."""
    database = Database(os.environ["TEST_DATABASE_URL"])

    async def elect() -> None:
        first, second = AdvisoryLock(database, 0.05), AdvisoryLock(database, 0.05)
        await asyncio.wait_for(first.elected(), 2)
        assert first._connection is not None
        pid = first._connection.execute(text("SELECT pg_backend_pid()")).scalar()
        first._connection.commit()
        standby = asyncio.create_task(second.elected())
        with database.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        await asyncio.wait_for(first.lost(), 2)  # returns: no PendingRollbackError
        await asyncio.wait_for(standby, 2)
        await second.resign()
        await asyncio.wait_for(first.elected(), 2)  # and the first can lead again later
        await first.resign()

    asyncio.run(elect())
    database.dispose()


def test_on_sqlite_a_second_process_is_refused_with_one_sentence(tmp_path: Path) -> None:
    database_file = tmp_path / "bot.sqlite3"
    first = SoleProcess(database_file)
    first.hold()
    with pytest.raises(OneProcessOnly) as refused:
        SoleProcess(database_file).hold()
    assert str(database_file) in str(refused.value)
    assert "PostgreSQL" in str(refused.value) and "\n" not in str(refused.value)
    asyncio.run(first.resign())
    SoleProcess(database_file).hold()  # once the first is gone, another may start
