"""What each failure costs while a burst is going out: lost cards, extra copies, time.

Why: the sending design makes promises per failure, and this checks them end to end with
real `wholehearted run` processes (`tests.bot_processes`), PostgreSQL and the strict fake
Telegram, rather than with the core's unit tests alone:

- SIGTERM drains (the sends in flight finish, the rest stays pending): nothing lost, no copy;
- a dead process's leased rows are resent once by the next: at most one extra copy each,
  and only for the requests that were in flight;
- an answer that proves nothing arrived (a 502 from a proxy before Telegram, a refused
  connection) costs no copy; an unknown outcome (a 5xx or a timeout after Telegram stored
  the message) is tried once more at most, so nobody ever gets more than two copies;
- the circuit breaker probes getMe during an outage and sending resumes within seconds;
- a second process on the same token sends nothing and does not poll (no 409, no 429);
- a message Telegram refuses for good (400) is tried once, never again.

Each scenario: 300 people due at once, the fake's limit scaled to 100/s (the bot told the
same), one process unless stated; the fault starts once 100 cards are out. For each:
lost, people with two copies, people with more than two (must be 0), extra copies in
all, 429s, and the seconds from the fault's end (the restart, the end of the window, the
last faulted call) to the next delivery and to the last one.

    PYTHONPATH=. .venv/bin/python bench/faults.py [--only NAME ...]

Writes bench/results/faults.json.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.sending import (
    PARKED,
    Outcome,
    database_for,
    log_excerpt,
    machine,
    make_due,
    telegram_copies,
    telegram_ready,
    wait_until,
    write_json,
)
from tests.bot_processes import (
    FIRST_CHAT,
    BotProcesses,
    delivery_statuses,
    drop_everything,
    seed_due,
)
from tests.fake_telegram import FakeTelegram

PEOPLE = 300
LIMIT = 100.0
TRIGGER = 100  # cards out before the fault starts
WINDOW = 5.0  # seconds a timed fault lasts
SETTLE_TIMEOUT = 120.0
REJECTED_CHAT = FIRST_CHAT + 7
# Log lines that tell what the bot made of a fault (its breaker, orphans, given-up rows).
TELLING = (
    "cut off",
    "outcome unknown twice",
    "for good",
    "the platform is failing",
    "answers again",
    "now the sender",
    "lost the database",
)


@dataclass
class Stage:
    """What a scenario's fault needs: the fake, the bots, and the processes it started."""

    fake: FakeTelegram
    bots: BotProcesses
    processes: list[tuple[asyncio.subprocess.Process, Path]]
    notes: list[str]

    async def start(self) -> None:
        process = await self.bots.start()
        self.processes.append((process, self.bots.logs[-1]))

    def leader(self) -> asyncio.subprocess.Process:
        for process, log in self.processes:
            if process.returncode is None and "now the sender" in log.read_text(errors="replace"):
                return process
        raise LookupError("no running process says it is the sender")


# A fault: given the stage, do the damage and return when it is over, with the monotonic
# instant it ended (None: there was no fault to end).
Inject = Callable[[Stage], Awaitable[float | None]]


@dataclass
class Scenario:
    name: str
    event: str
    bound: str
    inject: Inject | None
    processes: int = 1
    rejected: int | None = None


@dataclass
class FaultResult:
    name: str
    event: str
    bound: str
    people: int
    processes: int
    lost: int = 0
    twice: int = 0
    more_than_two: int = 0
    extra_copies: int = 0
    served_429: int = 0
    conflicts_409: int = 0
    faulted_calls: dict[str, int] = field(default_factory=dict)
    fault_end_to_next_s: float | None = None
    fault_end_to_last_s: float | None = None
    rejected_attempts: int | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    finished: bool = True
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- the faults -------------------------------------------------------------------------


def restart_after(signum: int) -> Inject:
    async def inject(stage: Stage) -> float:
        leader = stage.leader()
        sent_at = time.monotonic()
        code = await stage.bots.signal(leader, signum)
        stage.notes.append(
            f"{signal.Signals(signum).name}: exit code {code} after "
            f"{time.monotonic() - sent_at:.2f} s"
        )
        restarted = time.monotonic()
        await stage.start()
        return restarted

    return inject


async def kill_leader_standby_takes_over(stage: Stage) -> float:
    leader = stage.leader()
    await stage.bots.signal(leader, signal.SIGKILL)
    return time.monotonic()  # the standby is already running: the fault ends now


def timed(mode: str, seconds: float = WINDOW) -> Inject:
    async def inject(stage: Stage) -> float:
        stage.fake.fault(mode, seconds=seconds)
        end = time.monotonic() + seconds
        await asyncio.sleep(seconds)
        return end

    return inject


def few_calls(mode: str, calls: int) -> Inject:
    async def inject(stage: Stage) -> float:
        before = stage.fake.faults_served[mode]
        stage.fake.fault(mode, calls=calls, methods=["sendMessage"])
        await wait_until(lambda: stage.fake.faults_served[mode] - before >= calls, 30, 0.01)
        return time.monotonic()  # the last faulted call has arrived

    return inject


SCENARIOS = [
    Scenario(
        "sigterm",
        "SIGTERM mid-send, then restart",
        "0 lost, 0 copies: the drain finishes what is in flight",
        restart_after(signal.SIGTERM),
    ),
    Scenario(
        "sigkill",
        "SIGKILL mid-send, then restart",
        "0 lost; <= 1 extra copy, only for the requests in flight",
        restart_after(signal.SIGKILL),
    ),
    Scenario(
        "5xx_after",
        f"5xx after storing, {WINDOW:.0f} s",
        "0 lost; <= 1 extra copy per row answered 5xx",
        timed("5xx_after"),
    ),
    Scenario(
        "5xx_before",
        f"5xx before storing, {WINDOW:.0f} s",
        "0 copies; a row unknown twice is left uncertain",
        timed("5xx_before"),
    ),
    Scenario(
        "timeout_after",
        "timeout after storing, 3 calls",
        "0 lost; <= 1 extra copy per timed-out call",
        few_calls("timeout_after", 3),
    ),
    Scenario(
        "refuse",
        f"connection refused, {WINDOW:.0f} s",
        "0 lost, 0 copies: refused proves nothing sent",
        timed("refuse"),
    ),
    Scenario(
        "two_processes",
        "2 processes on one token",
        "0 copies, 0 429s, one poller (0 409s)",
        None,
        processes=2,
    ),
    Scenario(
        "two_kill_leader",
        "2 processes, SIGKILL the sender",
        "0 lost; <= 1 extra copy for in-flight; standby within 5 s",
        kill_leader_standby_takes_over,
        processes=2,
    ),
    Scenario(
        "reject_always",
        "one chat refused for good (400)",
        "that chat: 1 attempt, never retried; others 0 lost",
        None,
        rejected=REJECTED_CHAT,
    ),
]


# --- one scenario -----------------------------------------------------------------------


async def run_scenario(scenario: Scenario) -> FaultResult:
    started = time.monotonic()
    result = FaultResult(scenario.name, scenario.event, scenario.bound, PEOPLE, scenario.processes)
    fake = FakeTelegram(rate_limit=LIMIT)
    url_of_fake = await fake.start()
    if scenario.rejected is not None:
        fake.reject_always(scenario.rejected)
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as folder:
        workdir = Path(folder)
        url, database = database_for("postgresql", workdir)
        chats = seed_due(database, PEOPLE, due_at=datetime.now(UTC) + PARKED)
        expected = [chat for chat in chats if chat != scenario.rejected]
        bots = BotProcesses(url, url_of_fake, workdir, messages_per_second=LIMIT)
        stage = Stage(fake, bots, [], result.notes)
        try:
            for _ in range(scenario.processes):
                await stage.start()
            if not await telegram_ready(fake, scenario.processes):
                result.notes.append("the processes were not all up within 60 s")
            await wait_until(lambda: "now the sender" in bots.log_text(), 30, 0.1)
            await asyncio.sleep(0.5)
            make_due(database)
            fault_end: float | None = None
            if scenario.inject is not None:
                if not await wait_until(lambda: len(fake.delivered) >= TRIGGER, 60, 0.005):
                    result.notes.append(f"{TRIGGER} cards were not out within 60 s")
                fault_end = await scenario.inject(stage)
            result.finished = await settle(fake, database, expected)
            if not result.finished:
                result.notes.append(f"not settled within {SETTLE_TIMEOUT:.0f} s")
            await asyncio.sleep(1.0)  # a late copy would show by now
            # PTB's last getUpdates on stopping meets its own poll, still held by the fake:
            # a 409 of the shutdown, not of two pollers. So count those seen before it.
            result.conflicts_409 = fake.conflicts
            await bots.stop_all()
            measure(result, fake, expected, fault_end)
            result.statuses = delivery_statuses(database)
            if scenario.rejected is not None:
                result.rejected_attempts = sum(
                    1
                    for call in fake.calls
                    if call.method == "sendMessage"
                    and int(call.params.get("chat_id", 0)) == scenario.rejected
                )
            result.notes.extend(log_excerpt(bots, *TELLING, limit=8))
            if result.lost or result.more_than_two or result.served_429 or not result.finished:
                result.notes.extend(log_excerpt(bots))
        finally:
            bots.kill_all_now()
            drop_everything(database)
            await fake.stop()
    result.seconds = round(time.monotonic() - started, 1)
    return result


async def settle(fake: FakeTelegram, database: Any, expected: list[int]) -> bool:
    """Every expected chat has a copy and no row is pending or leased (or the time is up)."""
    wanted = set(expected)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        statuses = await asyncio.to_thread(delivery_statuses, database)
        open_rows = statuses.get("pending", 0) + statuses.get("sending", 0)
        if open_rows == 0 and sum(statuses.values()) >= len(expected):
            return True
        if open_rows == 0 and wanted.issubset(fake.deliveries_per_chat()):
            return True
    return False


def measure(
    result: FaultResult, fake: FakeTelegram, expected: list[int], fault_end: float | None
) -> None:
    outcome = Outcome.of(telegram_copies(fake), expected)
    result.lost = outcome.lost
    result.twice = outcome.twice
    result.more_than_two = outcome.more
    result.extra_copies = outcome.extra
    result.served_429 = fake.served_429
    result.faulted_calls = {mode: count for mode, count in fake.faults_served.items() if count}
    times = fake.send_times()
    if fault_end is not None:
        after = [at for at in times if at >= fault_end]
        if after:
            result.fault_end_to_next_s = round(after[0] - fault_end, 3)
            result.fault_end_to_last_s = round(after[-1] - fault_end, 3)


# --- the table --------------------------------------------------------------------------

HEADER = (
    f"{'event':<34} {'lost':>4} {'2 copies':>8} {'>2':>3} {'extra':>5} {'429s':>4} "
    f"{'end->next s':>11} {'end->last s':>11}  bound"
)


def row(result: FaultResult) -> str:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return (
        f"{result.event:<34} {result.lost:>4} {result.twice:>8} {result.more_than_two:>3} "
        f"{result.extra_copies:>5} {result.served_429:>4} "
        f"{seconds(result.fault_end_to_next_s):>11} {seconds(result.fault_end_to_last_s):>11}"
        f"  {result.bound}"
    )


def issue_table(results: list[FaultResult]) -> list[str]:
    lines = [f"{'event':<34} | {'lost':>4} | {'duplicated':>10} | bound", "-" * 100]
    for result in results:
        lines.append(
            f"{result.event:<34} | {result.lost:>4} | {result.twice + result.more_than_two:>10} "
            f"| {result.bound}"
        )
    return lines


async def run(names: list[str] | None) -> dict[str, Any]:
    chosen = [s for s in SCENARIOS if names is None or s.name in names]
    results: list[FaultResult] = []
    print(f"{PEOPLE} people due at once, limit {LIMIT:.0f}/s, PostgreSQL; fault after {TRIGGER}")
    print(HEADER, flush=True)
    for scenario in chosen:
        result = await run_scenario(scenario)
        results.append(result)
        print(row(result), flush=True)
    print()
    for line in issue_table(results):
        print(line)
    print()
    for result in results:
        extras = [f"statuses {result.statuses}"]
        if result.faulted_calls:
            extras.append(f"faulted calls {result.faulted_calls}")
        if result.conflicts_409:
            extras.append(f"409s before the final stop {result.conflicts_409}")
        if result.rejected_attempts is not None:
            extras.append(f"attempts at the refused chat {result.rejected_attempts}")
        if not result.finished:
            extras.append("DID NOT SETTLE")
        print(f"[{result.name}] " + "; ".join(extras))
        for note in result.notes:
            print(f"    {note}")
    return {"people": PEOPLE, "limit": LIMIT, "results": [asdict(r) for r in results]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=[s.name for s in SCENARIOS])
    parser.add_argument("--output", default="faults.json")
    args = parser.parse_args()
    started = time.monotonic()
    info = machine()
    print(
        f"machine: {info['cores']} cores, {info['memory_gib']} GiB, Python {info['python']}, "
        f"PostgreSQL {info['postgresql']}, load {info['load_average_at_start']}, {info['date']}"
    )
    results = asyncio.run(run(args.only))
    results["machine"] = info
    results["seconds"] = round(time.monotonic() - started, 1)
    path = write_json(args.output, results)
    print(f"wrote {path} in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
