"""Daily delivery as people rely on it: once a chosen day, on time, never doubled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.ports import NotDelivered, RecipientGone
from db.models import Delivery, Person
from tests.harness import Harness


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def arrival_times(bot: Harness, who: str) -> list[datetime]:
    with bot.core.db.transaction() as session:
        person = session.scalar(select(Person).where(Person.platform_user_id == who))
        assert person is not None
        rows = session.scalars(
            select(Delivery).where(Delivery.person_id == person.id).order_by(Delivery.id)
        ).all()
        return [row.sent_at for row in rows if row.sent_at is not None]


def test_practice_arrives_within_a_minute_of_the_chosen_time(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 17, 0))
    bot.onboard("ana", time="19:00", zone="Europe/Berlin")
    bot.run_until(utc(2026, 11, 23, 17, 55))
    bot.run_until(utc(2026, 11, 23, 17, 59, 40), step=timedelta(seconds=20))
    assert bot.messenger.cards_for("ana") == []
    bot.run_until(utc(2026, 11, 23, 18, 5), step=timedelta(seconds=20))
    cards = bot.messenger.cards_for("ana")
    assert len(cards) == 1
    (sent_at,) = arrival_times(bot, "ana")
    assert utc(2026, 11, 23, 18, 0) <= sent_at < utc(2026, 11, 23, 18, 1)
    assert cards[0].practice_date == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("zone", "at", "start", "end", "expected"),
    [
        # 02:30 does not exist on 8 March in New York: it comes at 03:00 EDT (07:00 UTC).
        ("America/New_York", "02:30", utc(2026, 3, 8, 5), utc(2026, 3, 8, 10), utc(2026, 3, 8, 7)),
        # 01:30 happens twice on 1 November in New York: it comes once, at the first.
        (
            "America/New_York",
            "01:30",
            utc(2026, 11, 1, 4),
            utc(2026, 11, 1, 8),
            utc(2026, 11, 1, 5, 30),
        ),
        (
            "Europe/Berlin",
            "02:30",
            utc(2026, 10, 24, 23),
            utc(2026, 10, 25, 3),
            utc(2026, 10, 25, 0, 30),
        ),
        (
            "Australia/Lord_Howe",
            "02:10",
            utc(2026, 10, 3, 14),
            utc(2026, 10, 3, 17),
            utc(2026, 10, 3, 15, 30),
        ),
        (
            "Australia/Lord_Howe",
            "01:45",
            utc(2026, 4, 4, 13),
            utc(2026, 4, 4, 16),
            utc(2026, 4, 4, 14, 45),
        ),
        ("Asia/Kathmandu", "07:00", utc(2026, 6, 1, 0), utc(2026, 6, 1, 2), utc(2026, 6, 1, 1, 15)),
    ],
)
def test_daylight_saving_days_deliver_exactly_once(
    bot: Harness, zone: str, at: str, start: datetime, end: datetime, expected: datetime
) -> None:
    bot.clock.set(start)
    bot.onboard("ana", time=at, zone=zone)
    bot.run_until(expected - timedelta(minutes=2))
    bot.run_until(expected + timedelta(minutes=2), step=timedelta(seconds=20))
    bot.run_until(end)
    times = arrival_times(bot, "ana")
    assert len(times) == 1
    assert expected <= times[0] < expected + timedelta(minutes=1)


def test_partners_in_different_zones_get_the_same_practice_on_the_same_day(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 22, 12))
    bot.onboard("ana", time="08:00", zone="Asia/Tokyo")
    bot.onboard("ben", time="08:00", zone="America/New_York")
    bot.pair("ana", "ben")
    for _day in range(5):
        bot.run_until(bot.clock.now() + timedelta(days=1), step=timedelta(minutes=30))
    ana, ben = bot.messenger.cards_for("ana"), bot.messenger.cards_for("ben")
    ana_days = {c.practice_date: c.practice.id for c in ana}
    ben_days = {c.practice_date: c.practice.id for c in ben}
    shared_days = ana_days.keys() & ben_days.keys()
    assert len(shared_days) >= 4
    assert all(ana_days[day] == ben_days[day] for day in shared_days)
    assert len(set(ana_days.values())) == len(ana_days), "no repeats"


def test_after_downtime_today_is_sent_and_older_days_are_not(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 5))
    bot.onboard("ana", time="07:00", zone="UTC")
    # The bot is down from 06:00 Monday until 09:00 Wednesday.
    bot.clock.set(utc(2026, 11, 25, 9))
    bot.tick()
    cards = bot.messenger.cards_for("ana")
    assert [c.practice_date for c in cards] == [date(2026, 11, 25)]
    bot.run_until(utc(2026, 11, 25, 23))
    assert len(bot.messenger.cards_for("ana")) == 1


def test_downtime_past_midnight_does_not_send_yesterday(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 5))
    bot.onboard("ana", time="21:00", zone="UTC")
    bot.clock.set(utc(2026, 11, 24, 9))  # down through Monday 21:00; today's is due at 21:00
    bot.tick()
    assert bot.messenger.cards_for("ana") == []
    bot.run_until(utc(2026, 11, 24, 21, 1))
    assert [c.practice_date for c in bot.messenger.cards_for("ana")] == [date(2026, 11, 24)]


def test_pause_skips_days_and_resume_restarts(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 5))
    bot.onboard("ana", time="07:00", zone="UTC")
    assert "Paused for 2 days" in bot.say("ana", "/pause 2")
    bot.run_until(utc(2026, 11, 25, 8))
    assert [c.practice_date for c in bot.messenger.cards_for("ana")] == [date(2026, 11, 25)]
    assert "until you type /resume" in bot.say("ana", "/pause")
    bot.run_until(utc(2026, 11, 27, 8))
    assert len(bot.messenger.cards_for("ana")) == 1
    assert "Resumed" in bot.say("ana", "/resume")
    bot.run_until(utc(2026, 11, 28, 8))
    assert [c.practice_date for c in bot.messenger.cards_for("ana")][-1] == date(2026, 11, 28)


def test_pause_in_the_evening_after_todays_practice_starts_tomorrow(bot: Harness) -> None:
    """Today's practice has come, so today is not a day a pause can spare: /pause 1 in
    the evening pauses tomorrow, not the day already over."""
    bot.clock.set(utc(2026, 11, 23, 5))
    bot.onboard("ana", time="07:00", zone="UTC")
    bot.run_until(utc(2026, 11, 23, 20))
    assert [c.practice_date for c in bot.messenger.cards_for("ana")] == [date(2026, 11, 23)]
    assert "Paused for 1 day" in bot.say("ana", "/pause 1")
    bot.run_until(utc(2026, 11, 25, 8))
    assert [c.practice_date for c in bot.messenger.cards_for("ana")] == [
        date(2026, 11, 23),
        date(2026, 11, 25),
    ]


def test_stop_ends_daily_practices_and_start_brings_them_back(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 5))
    bot.onboard("ana", time="07:00", zone="UTC")
    assert "Stopped" in bot.say("ana", "/stop")
    bot.run_until(utc(2026, 11, 24, 8))
    assert bot.messenger.cards_for("ana") == []
    assert "Welcome back" in bot.say("ana", "/start")
    bot.run_until(utc(2026, 11, 25, 8))
    assert len(bot.messenger.cards_for("ana")) == 1


def test_changing_time_or_zone_never_gives_a_second_practice_on_one_day(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 5))
    bot.onboard("ana", time="07:00", zone="UTC")
    bot.run_until(utc(2026, 11, 23, 8))
    assert len(bot.messenger.cards_for("ana")) == 1
    bot.say("ana", "/settings time 21:00")
    bot.say("ana", "/settings zone America/Los_Angeles")  # still Monday there
    bot.run_until(utc(2026, 11, 24, 6))
    assert [c.practice_date for c in bot.messenger.cards_for("ana")] == [date(2026, 11, 23)]
    bot.run_until(utc(2026, 11, 25, 6))  # Tue 21:00 LA = Wed 05:00
    assert [c.practice_date for c in bot.messenger.cards_for("ana")][-1] == date(2026, 11, 24)


def test_today_now_then_the_scheduled_one_does_not_repeat(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 5))
    bot.onboard("ana", time="07:00", zone="UTC")
    first = bot.say("ana", "/today")
    assert "Today's practice" in first
    again = bot.say("ana", "/today")
    assert "again" in again and again.split("\n", 2)[2] == first.split("\n", 2)[2]
    bot.run_until(utc(2026, 11, 23, 23))
    assert bot.messenger.cards_for("ana") == []


def test_a_send_that_proves_nothing_arrived_is_retried_and_arrives_once(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 59))
    bot.onboard("ana", time="07:00", zone="UTC")
    bot.fail_for("ana", NotDelivered("flood control", retry_after=90))
    bot.run_until(utc(2026, 11, 23, 7, 1), step=timedelta(seconds=20))
    assert bot.messenger.cards_for("ana") == []
    bot.heal("ana")
    bot.run_until(utc(2026, 11, 23, 7, 3), step=timedelta(seconds=20))
    assert len(bot.messenger.cards_for("ana")) == 1
    bot.run_until(utc(2026, 11, 23, 9))
    assert len(bot.messenger.cards_for("ana")) == 1


def test_a_person_who_blocked_the_bot_is_not_retried_until_they_write(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 59))
    bot.onboard("ana", time="07:00", zone="UTC")
    bot.fail_for("ana", RecipientGone("blocked"))
    report = bot.tick()
    bot.clock.set(utc(2026, 11, 23, 7, 0, 30))
    report = bot.tick()
    assert report.failed == 1
    bot.run_until(utc(2026, 11, 24, 8))
    with bot.core.db.transaction() as session:
        attempts = session.scalars(select(Delivery.attempts)).all()
    assert attempts == [1], "one attempt, then silence"
    bot.heal("ana")
    bot.say("ana", "/settings")  # they write again
    bot.run_until(utc(2026, 11, 25, 8))
    assert [c.practice_date for c in bot.messenger.cards_for("ana")] == [date(2026, 11, 25)]


def test_snooze_sends_the_same_practice_an_hour_later(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 6, 59))
    bot.onboard("ana", time="07:00", zone="UTC")
    bot.run_until(utc(2026, 11, 23, 7, 2), step=timedelta(seconds=20))
    (card,) = bot.messenger.cards_for("ana")
    assert "08:02" in bot.say("ana", f"/snooze #{card.delivery_id}")
    bot.run_until(utc(2026, 11, 23, 8, 1, 40), step=timedelta(seconds=20))
    assert len(bot.messenger.cards_for("ana")) == 1
    bot.run_until(utc(2026, 11, 23, 8, 3), step=timedelta(seconds=20))
    cards = bot.messenger.cards_for("ana")
    assert len(cards) == 2 and cards[1].practice.id == card.practice.id
    assert "Snoozed practice" in cards[1].intro


@pytest.mark.parametrize(
    "meanwhile",
    [
        ["written while it was snoozed"],
        ["/today", "my answer to the question of the day"],
        ["/today"],
    ],
)
def test_a_snoozed_practice_answered_or_asked_for_meanwhile_does_not_come_back(
    bot: Harness, meanwhile: list[str]
) -> None:
    """The snooze promised the practice later; once the person has it again (/today) or
    has answered it, sending it once more would be a reminder of something done."""
    bot.clock.set(utc(2026, 11, 23, 6, 59))
    bot.onboard("ana", time="07:00", zone="UTC")
    bot.run_until(utc(2026, 11, 23, 7, 2), step=timedelta(seconds=20))
    (card,) = bot.messenger.cards_for("ana")
    bot.say("ana", f"/snooze #{card.delivery_id}")
    for line in meanwhile:
        answer = bot.say("ana", line)
        assert "Saved privately" in answer or line == "/today"
    bot.run_until(utc(2026, 11, 23, 9), step=timedelta(seconds=20))
    assert len(bot.messenger.cards_for("ana")) == 1
