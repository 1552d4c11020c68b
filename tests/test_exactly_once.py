"""Every practice exactly once and on time, whatever fails: the core's sender and outbox.

Each test is one of the faults a running bot meets (a crash mid-send, a platform that
stores a message and then answers 5xx, an outage of hours, a deploy), seen as the people
would see it: how many copies of their practice arrived, and when.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.core.clock import ManualClock
from bot.core.messages import Message, PracticeCard, Recipient
from bot.core.ports import (
    ANSWER,
    Attempt,
    NotDelivered,
    OutcomeUnknown,
    Rejected,
    SendError,
    Switchboard,
)
from bot.core.sending import concurrency_for
from bot.core.service import Core
from bot.core.ticker import Ticker
from db.models import Delivery
from tests.harness import PLATFORM, Harness


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def statuses(bot: Harness) -> list[str]:
    with bot.core.db.transaction() as session:
        return list(session.scalars(select(Delivery.status).order_by(Delivery.id)))


def onboard_many(bot: Harness, count: int, time: str = "07:00") -> list[str]:
    people = [f"p{n}" for n in range(count)]
    for who in people:
        bot.onboard(who, time=time)
    return people


# --- a crash mid-send -------------------------------------------------------------------


def test_a_send_cut_off_by_a_crash_is_tried_once_more_and_arrives(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 0))
    bot.onboard("ana", time="07:00")
    bot.clock.set(utc(2026, 11, 23, 7, 0, 5))
    # A process plans, leases the row for its request, and is killed before the answer.
    bot.core.plan_due_sync([PLATFORM])
    assert bot.core.claim_sync(PLATFORM) is not None
    assert statuses(bot) == ["sending"]
    # The next process to send takes over what the dead one left.
    restarted = Harness(bot.core, bot.clock)
    restarted.tick()
    assert len(restarted.messenger.cards_for("ana")) == 1
    assert statuses(bot) == ["sent"]
    restarted.close()


def test_a_row_cut_off_twice_is_left_alone_rather_than_sent_a_third_time(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 0))
    bot.onboard("ana", time="07:00")
    bot.clock.set(utc(2026, 11, 23, 7, 0, 5))
    bot.core.plan_due_sync([PLATFORM])
    for _ in range(2):  # two processes die mid-send on the same row
        assert bot.core.take_over_orphans_sync([PLATFORM]) in {0, 1}
        bot.clock.advance(timedelta(minutes=1))
        assert bot.core.claim_sync(PLATFORM) is not None
    restarted = Harness(bot.core, bot.clock)
    restarted.run_until(utc(2026, 11, 23, 9))
    assert restarted.messenger.cards_for("ana") == []
    assert statuses(bot) == ["uncertain"]
    restarted.close()


# --- what a failure proves ---------------------------------------------------------------


@dataclass
class StoringThenFailing:
    """A platform that stores every message and then answers 5xx: the worst case for
    duplicates. `parts` splits every practice into that many messages."""

    platform: str = PLATFORM
    rate_per_second: float = 10_000.0
    parts: int = 1
    stored: list[tuple[str, int]] = field(default_factory=list)
    fail_at_part: int | None = 0  # the part whose answer is lost; None: all succeed
    error: SendError = field(default_factory=lambda: OutcomeUnknown("502 Bad Gateway"))

    async def send(self, to: Recipient, message: Message, attempt: Attempt = ANSWER) -> str | None:
        for index in attempt.parts(self.parts):
            self.stored.append((to.user_id, index))
            if index == self.fail_at_part:
                raise self.error
            await attempt.sent(index, self.parts)
        return "ok"

    async def probe(self) -> None:
        return None


def run_with(
    bot: Harness,
    messenger: StoringThenFailing,
    until: datetime,
    step: timedelta = timedelta(seconds=20),
) -> None:
    ticker = Ticker(bot.core, Switchboard([messenger]))
    while bot.clock.now() < until:
        bot.clock.advance(step)
        bot.loop.run_until_complete(ticker.tick())


def test_a_platform_that_stores_then_answers_5xx_costs_at_most_one_extra_copy(
    bot: Harness,
) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 0))
    people = onboard_many(bot, 5)
    platform = StoringThenFailing(fail_at_part=0)
    run_with(bot, platform, utc(2026, 11, 23, 10))
    for who in people:
        assert platform.stored.count((who, 0)) == 2, "the first copy, and one extra at most"
    assert statuses(bot) == ["uncertain"] * 5


def test_an_unknown_outcome_followed_by_success_arrives_exactly_once_more(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 0))
    bot.onboard("ana", time="07:00")
    platform = StoringThenFailing(fail_at_part=0)
    ticker = Ticker(bot.core, Switchboard([platform]))
    bot.clock.set(utc(2026, 11, 23, 7, 0, 5))
    bot.loop.run_until_complete(ticker.tick())
    platform.fail_at_part = None  # the platform is healthy again
    bot.clock.advance(timedelta(minutes=1))
    bot.loop.run_until_complete(ticker.tick())
    assert platform.stored == [("ana", 0), ("ana", 0)]
    assert statuses(bot) == ["sent"]


def test_parts_of_a_long_practice_already_sent_are_not_sent_again(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 0))
    bot.onboard("ana", time="07:00")
    platform = StoringThenFailing(parts=3, fail_at_part=1)
    ticker = Ticker(bot.core, Switchboard([platform]))
    bot.clock.set(utc(2026, 11, 23, 7, 0, 5))
    bot.loop.run_until_complete(ticker.tick())
    platform.fail_at_part = None
    bot.clock.advance(timedelta(minutes=1))
    bot.loop.run_until_complete(ticker.tick())
    # Part 0 once; part 1 twice (its answer was lost, so it may have arrived); part 2 once.
    assert platform.stored == [("ana", 0), ("ana", 1), ("ana", 1), ("ana", 2)]
    assert statuses(bot) == ["sent"]


def test_a_message_the_platform_refuses_for_good_is_not_retried(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 0))
    bot.onboard("ana", time="07:00")
    platform = StoringThenFailing(fail_at_part=0, error=Rejected("can't parse entities"))
    run_with(bot, platform, utc(2026, 11, 23, 9), step=timedelta(minutes=5))
    assert len(platform.stored) == 1
    assert statuses(bot) == ["failed"]
    # The person is still reachable: tomorrow's practice goes as usual.
    platform.fail_at_part = None
    run_with(bot, platform, utc(2026, 11, 24, 9), step=timedelta(minutes=5))
    assert len(platform.stored) == 2 and statuses(bot) == ["failed", "sent"]


# --- outages ------------------------------------------------------------------------------


def test_an_outage_of_hours_costs_nobody_their_practice_and_is_probed_not_hammered(
    bot: Harness,
) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 0))
    people = onboard_many(bot, 20)
    bot.messenger.rate_per_second = 30  # Telegram's pace: sends are started one by one
    bot.messenger.outage = NotDelivered("connection refused")
    bot.run_until(utc(2026, 11, 23, 11), step=timedelta(minutes=1))  # four hours down
    assert bot.messenger.sent == []
    with bot.core.db.transaction() as session:
        attempts = list(session.scalars(select(Delivery.attempts)))
    # The circuit opened after a handful of failures; the rest were never attempted.
    assert sum(attempts) <= 10, attempts
    assert bot.messenger.probes >= 200  # one probe a tick while down
    bot.messenger.outage = None
    bot.clock.advance(timedelta(seconds=20))
    bot.tick()
    assert sorted(to for to, _ in bot.messenger.sent) == sorted(people)


def test_after_an_outage_past_midnight_the_missed_day_is_not_sent_late(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 0))
    bot.onboard("ana", time="07:00")
    bot.messenger.outage = NotDelivered("connection refused")
    bot.run_until(utc(2026, 11, 24, 6, 30), step=timedelta(minutes=10))
    bot.messenger.outage = None
    bot.run_until(utc(2026, 11, 24, 8), step=timedelta(minutes=1))
    cards = bot.messenger.cards_for("ana")
    assert [c.practice_date.day for c in cards] == [24]
    assert statuses(bot) == ["expired", "sent"]


# --- a deploy, and the sender running continuously --------------------------------------


@dataclass
class SlowPlatform:
    """Takes `seconds` per send; counts what it received, and how many rows were leased
    whenever a request started."""

    core: Core
    seconds: float = 0.05
    platform: str = PLATFORM
    rate_per_second: float = 40.0
    received: list[str] = field(default_factory=list)
    most_leased: int = 0

    async def send(self, to: Recipient, message: Message, attempt: Attempt = ANSWER) -> str | None:
        assert isinstance(message, PracticeCard)
        with self.core.db.transaction() as session:
            leased = session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status == "sending")
            )
        self.most_leased = max(self.most_leased, leased or 0)
        await asyncio.sleep(self.seconds)
        self.received.append(to.user_id)
        return "ok"

    async def probe(self) -> None:
        return None


async def _deploy(core: Core, clock: ManualClock, platform: SlowPlatform, run_for: float) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler()
    scheduler.start()
    ticker = Ticker(core, Switchboard([platform]))
    await ticker.start(scheduler, 60)
    await asyncio.sleep(run_for)
    await ticker.stop(scheduler, timeout=5)
    scheduler.shutdown(wait=False)


def test_a_deploy_mid_send_loses_nothing_and_doubles_nothing(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 0))
    people = onboard_many(bot, 60)
    bot.clock.set(utc(2026, 11, 23, 7, 0, 5))
    platform = SlowPlatform(bot.core)
    # The first process is stopped (SIGTERM) part-way through the batch.
    bot.loop.run_until_complete(_deploy(bot.core, bot.clock, platform, run_for=0.3))
    first = len(platform.received)
    assert 0 < first < len(people)
    left = statuses(bot)
    assert "sending" not in left, "a drained stop leaves nothing leased"
    assert left.count("pending") == len(people) - first
    # A row is leased only for its own request: never more than the requests in flight.
    assert platform.most_leased <= concurrency_for(platform.rate_per_second)
    # The next process sends the rest.
    bot.loop.run_until_complete(_deploy(bot.core, bot.clock, platform, run_for=2.5))
    assert sorted(platform.received) == sorted(people)
