"""Real `wholehearted run` processes sending one practice to each of a few hundred people
due now, against the fake Telegram, while they are stopped, killed, doubled, or while
Telegram fails in each of the ways it can.

Every test checks, per person, exactly one practice, or at most two where the fault hides
whether a message arrived (a 5xx or a timeout after Telegram stored it, a process killed
mid-request); never a 429, and no 409 Conflict seen by a bot. The fake counts one 409 for
the long poll python-telegram-bot abandons while it stops (its last getUpdates replaces the
poll it stopped waiting for), which no bot ever reads: so the 409s counted while a bot is
being stopped are set aside, every other one fails the test, and the bots' own logs, which
would show any 409 a bot read, stopping or not, must not say "Conflict".

The processes share one database: PostgreSQL when TEST_DATABASE_URL is set (a database
of their own beside it, `<name>_processes`, so the suite's TRUNCATEs never meet them),
else an SQLite file. Telegram's limit is raised to 100 a second, the bots' pace with it,
so a few hundred people take seconds. Every wait has a timeout; a test never hangs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from bot.core.sending import concurrency_for
from db.models import Delivery, Person
from db.session import Database, normalize_url
from tests.bot_processes import (
    FIRST_CHAT,
    BotProcesses,
    delivery_statuses,
    each_once,
    fresh_database,
    seed_due,
)
from tests.fake_telegram import FakeTelegram

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
BACKEND = "postgresql" if TEST_DATABASE_URL else "sqlite"
RATE = 100.0  # the fake's limit and the bots' pace, sends a second
PEOPLE = 200
# Requests one sender has in flight at most: what a kill can leave in doubt.
IN_FLIGHT = concurrency_for(RATE)
# How many must have arrived before a stop or a fault: some, far from all (~0.4 s in).
PART_WAY = 40
# Sends whose answer the fake holds when a stop or a kill comes, so that it always finds
# requests in flight (Telegram has stored their messages).
HELD = 3
# Starting a process, planning and sending them at 100 a second takes about 5 s.
SEND_ALL = 40.0
# python-telegram-bot's read timeout: a held answer times out after it.
PTB_READ_TIMEOUT = 5.0
NOT_FINAL = ("pending", "sending")


def processes_database_url(tmp_path: Path) -> str:
    """PostgreSQL beside TEST_DATABASE_URL (created if missing), else an SQLite file."""
    if TEST_DATABASE_URL is None:
        return f"sqlite:///{tmp_path / 'processes.sqlite3'}"
    url = normalize_url(TEST_DATABASE_URL)
    name = f"{url.database}_processes"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@dataclass
class World:
    """One database with people due, the fake Telegram, and the bot processes."""

    database: Database
    fake: FakeTelegram
    bots: BotProcesses
    chats: list[int] = field(default_factory=list)
    # 409s the fake answered while a bot was being stopped: the poll it abandons.
    conflicts_while_stopping: int = 0

    def statuses(self) -> dict[str, int]:
        return delivery_statuses(self.database)

    async def statuses_now(self) -> dict[str, int]:
        return await asyncio.to_thread(self.statuses)

    def doubtful_chats(self) -> set[int]:
        """Chats whose row had a send of unknown outcome (a 5xx, a timeout, a connection
        dropped mid-request, a process killed mid-send): the only ones that may get two."""
        with self.database.transaction() as session:
            chats = session.scalars(
                select(Person.platform_user_id)
                .join(Delivery, Delivery.person_id == Person.id)
                .where(Delivery.doubtful > 0)
            ).all()
        return {int(chat) for chat in chats}

    def twice(self) -> set[int]:
        return {chat for chat, count in self.fake.deliveries_per_chat().items() if count > 1}

    def delivered(self) -> int:
        return len(self.fake.delivered)

    def tail(self, lines: int = 60) -> str:
        """The end of every bot's log, for an assertion's message."""
        parts = []
        for path in self.bots.logs:
            if path.exists():
                text_lines = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name}\n" + "\n".join(text_lines))
        return "\n".join(parts)

    async def until(self, ready: Callable[[], bool], timeout: float, what: str) -> float:
        """Wait until `ready()`; the seconds it took. Fails with the logs after `timeout`."""
        start = time.monotonic()
        while not ready():
            if time.monotonic() - start > timeout:
                raise AssertionError(
                    f"not within {timeout:.0f} s: {what}; {self.delivered()} delivered, "
                    f"rows {await self.statuses_now()}\n{self.tail()}"
                )
            for process in self.bots.running:
                if process.returncode is not None:
                    raise AssertionError(
                        f"a bot exited with {process.returncode} while waiting for {what}\n"
                        f"{self.tail()}"
                    )
            await asyncio.sleep(0.05)
        return time.monotonic() - start

    async def settled(self, expected_rows: int, timeout: float = SEND_ALL) -> dict[str, int]:
        """Wait until every person has a row and no row is pending or being sent."""
        start = time.monotonic()
        while True:
            rows = await self.statuses_now()
            if sum(rows.values()) >= expected_rows and not any(s in rows for s in NOT_FINAL):
                return rows
            if time.monotonic() - start > timeout:
                raise AssertionError(
                    f"rows not settled within {timeout:.0f} s: {rows}, "
                    f"{self.delivered()} delivered\n{self.tail()}"
                )
            for process in self.bots.running:
                if process.returncode is not None:
                    raise AssertionError(f"a bot exited with {process.returncode}\n{self.tail()}")
            await asyncio.sleep(0.25)

    async def stop(self, process: asyncio.subprocess.Process, signum: int) -> int:
        """Send `signum` and wait for the process to end; its exit code."""
        before = self.fake.conflicts
        code = await self.bots.signal(process, signum)
        self.conflicts_while_stopping += self.fake.conflicts - before
        return code

    async def stop_all(self) -> None:
        """SIGTERM each bot, expecting exit code 0."""
        for process in list(self.bots.running):
            code = await self.stop(process, signal.SIGTERM)
            assert code == 0, f"a bot stopped with exit code {code}\n{self.tail()}"

    def conflicts_while_running(self) -> int:
        return self.fake.conflicts - self.conflicts_while_stopping

    def copies(self) -> tuple[int, int, int, int]:
        """(once, lost, extra copies, most copies one person got) over `chats`."""
        per_chat = self.fake.deliveries_per_chat()
        strangers = set(per_chat) - set(self.chats)
        assert not strangers, f"messages to chats nobody seeded: {sorted(strangers)[:5]}"
        once, lost, extra = each_once(per_chat, self.chats)
        return once, lost, extra, max((per_chat.get(c, 0) for c in self.chats), default=0)

    def assert_no_conflict(self) -> None:
        """No 409 while the bots ran (`conflicts_while_stopping` are the polls abandoned at
        a stop, never read), and none seen by a bot, stopping or not."""
        running = self.conflicts_while_running()
        assert running == 0, f"the fake answered {running} getUpdates with 409 while bots ran"
        logs = self.bots.log_text()
        assert "Conflict" not in logs, "a bot saw a 409 Conflict:\n" + "\n".join(
            line for line in logs.splitlines() if "Conflict" in line
        )

    def first_delivery_after(self, moment: float) -> float | None:
        """Seconds from `moment` (monotonic) to the first message stored after it."""
        later = [t for t in self.fake.send_times() if t >= moment]
        return min(later) - moment if later else None


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    database = fresh_database(processes_database_url(tmp_path))
    fake = FakeTelegram()
    fake.rate_limit = RATE
    telegram_url = await fake.start()
    bots = BotProcesses(
        str(database.url.render_as_string(hide_password=False)),
        telegram_url,
        tmp_path,
        messages_per_second=RATE,
    )
    world = World(database, fake, bots)
    try:
        yield world
    finally:
        bots.kill_all_now()
        for process in bots.running:
            await asyncio.wait_for(process.wait(), 30)
        bots.running.clear()
        await fake.stop()
        database.dispose()


def report(what: str, **numbers: object) -> None:
    """Measured numbers, shown with `pytest -s` (and in the captured output on failure)."""
    print(f"\n[{what}, {BACKEND}] " + ", ".join(f"{k}={v}" for k, v in numbers.items()))


# --- stopping and killing ---------------------------------------------------------------


async def test_sigterm_part_way_drains_and_a_new_process_sends_the_rest_once(
    world: World,
) -> None:
    world.chats = await asyncio.to_thread(seed_due, world.database, PEOPLE)
    first = await world.bots.start()
    await world.until(lambda: world.delivered() >= PART_WAY, SEND_ALL, "some sent")
    # The next few answers come a second late (within python-telegram-bot's timeout), so
    # the signal finds sends in flight, which finish.
    world.fake.fault("timeout_after", calls=HELD, methods=("sendMessage",), hold=1.0)
    await world.until(lambda: world.fake.faults_served["timeout_after"] == HELD, 10, "held")
    began = time.monotonic()
    code = await world.stop(first, signal.SIGTERM)
    drain = time.monotonic() - began
    assert code == 0, world.tail()
    sent_before = world.delivered()
    assert PART_WAY <= sent_before < PEOPLE, "the stop came part-way through the sending"

    rows = await world.statuses_now()
    assert "sending" not in rows, f"rows left mid-send by a drained stop: {rows}"
    assert rows.get("sent", 0) == sent_before, f"every stored message is recorded sent: {rows}"
    # The rest are pending, or not planned yet (a plan under way stops after its batch):
    # either way the next process sends them.
    assert set(rows) <= {"sent", "pending"} and sum(rows.values()) <= PEOPLE, rows
    assert max(world.fake.deliveries_per_chat().values()) == 1

    await world.bots.start()
    rows = await world.settled(PEOPLE)
    await world.stop_all()
    once, lost, extra, most = world.copies()
    report("sigterm", sent_before_stop=sent_before, stop_seconds=round(drain, 2), rows=rows)
    assert (once, lost, extra) == (PEOPLE, 0, 0), f"most copies to one person: {most}"
    assert rows == {"sent": PEOPLE}
    assert world.fake.served_429 == 0
    world.assert_no_conflict()


async def test_sigkill_part_way_loses_nobody_and_resends_at_most_what_was_in_flight(
    world: World,
) -> None:
    world.chats = await asyncio.to_thread(seed_due, world.database, PEOPLE)
    first = await world.bots.start()
    await world.until(lambda: world.delivered() >= PART_WAY, SEND_ALL, "some sent")
    # Telegram stores the next few messages and holds their answers: the kill certainly
    # finds requests in flight whose messages arrived.
    world.fake.fault("timeout_after", calls=HELD, methods=("sendMessage",), hold=60.0)
    await world.until(lambda: world.fake.faults_served["timeout_after"] == HELD, 10, "held")
    code = await world.stop(first, signal.SIGKILL)
    assert code == -signal.SIGKILL
    sent_before = world.delivered()
    assert sent_before < PEOPLE, "the kill came part-way through the sending"
    left_sending = (await world.statuses_now()).get("sending", 0)
    assert HELD <= left_sending <= IN_FLIGHT, "rows are leased one per request in flight"

    began = time.monotonic()
    await world.bots.start()
    rows = await world.settled(PEOPLE)
    took = time.monotonic() - began
    await world.stop_all()
    once, lost, extra, most = world.copies()
    report(
        "sigkill",
        sent_before_kill=sent_before,
        people_once=once,
        left_sending=left_sending,
        extra_copies=extra,
        concurrency=IN_FLIGHT,
        restart_to_settled_s=round(took, 1),
        rows=rows,
    )
    assert lost == 0
    assert most <= 2, "one extra copy at most per person"
    assert extra <= left_sending <= IN_FLIGHT, "extra copies only for requests in flight"
    assert world.twice() <= world.doubtful_chats(), "two only where a send was cut off"
    assert "were cut off by a stop" in world.bots.log_text(), "the restart took them over"
    assert world.fake.served_429 == 0
    world.assert_no_conflict()


# --- Telegram failing -------------------------------------------------------------------


async def _send_through(world: World, fault: Callable[[], None]) -> dict[str, int]:
    """Seed, start one bot, call `fault()` part-way, wait until every row is settled and
    stop the bot; the rows."""
    world.chats = await asyncio.to_thread(seed_due, world.database, PEOPLE)
    await world.bots.start()
    await world.until(lambda: world.delivered() >= PART_WAY, SEND_ALL, "some sent")
    fault()
    rows = await world.settled(PEOPLE)
    await world.stop_all()
    return rows


async def test_5xx_after_telegram_stored_the_message_costs_at_most_one_extra_copy(
    world: World,
) -> None:
    window = 3.0
    started: list[float] = []

    def fault() -> None:
        started.append(time.monotonic())
        world.fake.fault("5xx_after", seconds=window, methods=("sendMessage",))

    rows = await _send_through(world, fault)
    once, lost, extra, most = world.copies()
    served = world.fake.faults_served["5xx_after"]
    doubtful = world.doubtful_chats()
    report(
        "5xx_after",
        faulted_answers=served,
        extra_copies=extra,
        people_once=once,
        rows_in_doubt=len(doubtful),
        resume_s=_rounded(world.first_delivery_after(started[0] + window)),
        rows=rows,
    )
    assert served > 0, "the fault met some sends"
    assert lost == 0
    assert most <= 2
    assert extra <= served, "an extra copy only where an answer was lost"
    assert world.twice() <= doubtful, "two only where a send's outcome was unknown"
    assert extra <= 2 * IN_FLIGHT, "the circuit breaker stops sending into the fault"
    assert world.fake.served_429 == 0
    world.assert_no_conflict()


async def test_5xx_before_storing_loses_nothing_sends_nothing_twice_and_resumes_quickly(
    world: World,
) -> None:
    window = 3.0
    ends: list[float] = []

    def fault() -> None:
        world.fake.fault("5xx_before", seconds=window)  # the whole API: getMe too
        ends.append(time.monotonic() + window)

    rows = await _send_through(world, fault)
    once, lost, extra, most = world.copies()
    sent_during = sum(1 for t in world.fake.send_times() if ends[0] - window <= t < ends[0])
    resume = world.first_delivery_after(ends[0])
    report(
        "5xx_before",
        faulted_answers=world.fake.faults_served["5xx_before"],
        stored_during_fault=sent_during,
        resume_after_fault_end_s=_rounded(resume),
        rows=rows,
    )
    assert world.fake.faults_served["5xx_before"] > 0
    assert sent_during == 0
    assert (once, lost, extra) == (PEOPLE, 0, 0), f"most copies to one person: {most}"
    assert resume is not None, "people were still due when the fault ended"
    assert resume < 6.0, f"sending resumed {resume:.1f} s after the fault ended"
    assert world.fake.served_429 == 0
    world.assert_no_conflict()


async def test_timeouts_after_telegram_stored_the_message_cost_at_most_one_extra_copy(
    world: World,
) -> None:
    calls = 3

    def fault() -> None:
        world.fake.fault(
            "timeout_after", calls=calls, methods=("sendMessage",), hold=PTB_READ_TIMEOUT + 3
        )

    rows = await _send_through(world, fault)
    once, lost, extra, most = world.copies()
    report(
        "timeout_after",
        held_answers=world.fake.faults_served["timeout_after"],
        people_once=once,
        extra_copies=extra,
        rows=rows,
    )
    assert world.fake.faults_served["timeout_after"] == calls
    assert lost == 0
    assert most <= 2
    assert extra <= calls, "an extra copy only where an answer was lost"
    assert world.twice() <= world.doubtful_chats(), "two only where a send timed out"
    assert world.fake.served_429 == 0
    world.assert_no_conflict()


async def test_refused_connections_lose_nothing_and_send_nothing_twice(world: World) -> None:
    """The fake closes its listening socket and every open connection: a send that then
    finds no connection proves nothing arrived (sent again, never twice), while the few
    requests in flight at that instant are cut off after Telegram may have stored them,
    an unknown outcome like a 5xx (so one of those may arrive twice)."""
    window = 3.0
    ends: list[float] = []

    def fault() -> None:
        world.fake.fault("refuse", seconds=window)
        ends.append(time.monotonic() + window)

    rows = await _send_through(world, fault)
    once, lost, extra, most = world.copies()
    resume = world.first_delivery_after(ends[0])
    cut_off = world.doubtful_chats()
    refused = world.bots.log_text().count("not sent (not delivered)")
    report(
        "refuse",
        refused_sends=refused,
        people_once=once,
        cut_off_mid_request=len(cut_off),
        extra_copies=extra,
        resume_after_fault_end_s=_rounded(resume),
        rows=rows,
    )
    assert refused > 0, "sends met refused connections"
    assert lost == 0
    assert world.twice() <= cut_off, "a refused connection never costs a second copy"
    assert most <= 2 and len(cut_off) <= IN_FLIGHT
    assert resume is not None and resume < 6.0, f"sending resumed {resume} s after the fault"
    assert world.fake.served_429 == 0
    world.assert_no_conflict()


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)


# --- several processes ------------------------------------------------------------------


@pytest.mark.skipif(TEST_DATABASE_URL is None, reason="several processes need PostgreSQL")
async def test_two_processes_one_sends_one_polls_and_the_standby_takes_over(
    world: World,
) -> None:
    world.chats = await asyncio.to_thread(seed_due, world.database, PEOPLE)
    one = await world.bots.start()
    two = await world.bots.start()
    processes = {one: world.bots.logs[0], two: world.bots.logs[1]}

    def leaders() -> list[asyncio.subprocess.Process]:
        return [
            p
            for p, log in processes.items()
            if log.exists() and "this process is now the sender" in log.read_text()
        ]

    await world.until(lambda: bool(leaders()), SEND_ALL, "a process elected")
    rows = await world.settled(PEOPLE)
    assert rows == {"sent": PEOPLE}
    once, lost, extra, most = world.copies()
    assert (once, lost, extra) == (PEOPLE, 0, 0), f"most copies to one person: {most}"
    assert world.fake.served_429 == 0
    assert len(leaders()) == 1, "one process sends"
    leader = leaders()[0]
    standby = two if leader is one else one
    pollers = [p for p, log in processes.items() if "takes the updates" in log.read_text()]
    assert pollers == [leader], "only the elected process polls"
    # python-telegram-bot deletes the webhook once as it starts polling.
    assert sum(c.method == "deleteWebhook" for c in world.fake.calls) == 1
    assert world.fake.conflicts == 0, "two pollers would have met"

    # More people come due while the leader is frozen with nothing in flight, then it
    # dies: the standby takes over, polls, plans and sends them, each once.
    leader.send_signal(signal.SIGSTOP)
    more = await asyncio.to_thread(seed_due, world.database, PEOPLE, first_chat=FIRST_CHAT + PEOPLE)
    world.chats += more
    killed_at = time.monotonic()
    assert await world.stop(leader, signal.SIGKILL) == -signal.SIGKILL
    newcomers = set(more)

    def first_newcomer() -> float | None:
        for params, at in zip(world.fake.delivered, world.fake.send_times(), strict=True):
            if int(params["chat_id"]) in newcomers:
                return at - killed_at
        return None

    await world.until(lambda: first_newcomer() is not None, 20, "the standby sending")
    takeover = first_newcomer()
    assert takeover is not None
    rows = await world.settled(2 * PEOPLE)
    standby_log = processes[standby].read_text()
    await world.stop_all()
    once, lost, extra, most = world.copies()
    report("two processes", takeover_s=round(takeover, 2), rows=rows)
    assert "this process is now the sender" in standby_log
    assert "takes the updates" in standby_log
    assert takeover < 10.0, f"the standby sent its first {takeover:.1f} s after the kill"
    assert (once, lost, extra) == (2 * PEOPLE, 0, 0), f"most copies to one person: {most}"
    assert rows == {"sent": 2 * PEOPLE}
    assert sum(c.method == "deleteWebhook" for c in world.fake.calls) == 2
    assert world.fake.served_429 == 0
    world.assert_no_conflict()


async def test_sqlite_refuses_a_second_process_in_one_sentence_and_the_first_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "one.sqlite3"
    database = fresh_database(f"sqlite:///{path}")
    fake = FakeTelegram()
    fake.rate_limit = RATE
    bots = BotProcesses(f"sqlite:///{path}", await fake.start(), tmp_path, messages_per_second=RATE)
    world = World(database, fake, bots)
    try:
        world.chats = await asyncio.to_thread(seed_due, database, PEOPLE)
        first = await bots.start()
        await world.until(lambda: world.delivered() >= 1, SEND_ALL, "the first sending")
        second = await bots.start()
        code = await asyncio.wait_for(second.wait(), 30)
        bots.running.remove(second)
        said = bots.logs[1].read_text(errors="replace").strip()
        assert first.returncode is None, "the first process goes on"
        rows = await world.settled(PEOPLE)
        await world.stop_all()
        once, lost, extra, _ = world.copies()
        assert (once, lost, extra) == (PEOPLE, 0, 0)
        assert rows == {"sent": PEOPLE}
        assert fake.served_429 == 0
        world.assert_no_conflict()
        assert code == 2, f"exit code {code}, and it said:\n{said}"
        assert len(said.splitlines()) == 1, f"one sentence, not:\n{said}"
        assert str(path) in said, said
    finally:
        bots.kill_all_now()
        for process in bots.running:
            await asyncio.wait_for(process.wait(), 30)
        await fake.stop()
        database.dispose()
