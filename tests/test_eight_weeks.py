"""A couple over eight simulated weeks, as they would live it: brave practices off, a pause,
a skip brought back through /history, replies to older practices, and a weekly look-back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.core.catalog import Depth
from bot.core.messages import Text
from tests.harness import Harness

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)  # the clock starts here at 05:00
WEEKS = 8
LOOKBACK = "Your week, looking back"


def button(bot: Harness, label: str) -> str:
    """The action of the button with this label under the last answer."""
    for message in bot.last_replies:
        if isinstance(message, Text):
            for row in message.buttons:
                for b in row:
                    if b.label == label:
                        return b.action
    raise AssertionError(f"no button {label!r} in {bot.last_replies}")


def history_line(bot: Harness, who: str, day: date) -> str:
    shown = bot.say(who, "/history")
    (line,) = [
        line for line in shown.splitlines() if line.startswith(f"{day:%a} {day.day} {day:%b} ·")
    ]
    return line


def test_a_couple_over_eight_weeks(bot: Harness) -> None:
    bot.onboard("ana", time="07:00", zone="Europe/Berlin", themes="all")
    bot.onboard("ben", time="18:00", zone="America/New_York", themes="all")
    bot.say("ana", "/settings depth no-brave")
    bot.say("ana", "/settings lookback sunday")
    bot.pair("ana", "ben")
    assert "Depth together: no brave practices (Ana's choice;" in bot.say("ben", "/settings")

    skipped_day, paused = date(2026, 12, 2), {date(2026, 12, d) for d in (10, 11, 12)}
    # The bot's clock ticks at 11:00 and 23:00 UTC (a tick every 20 seconds would take
    # minutes): Ana's 07:00 in Berlin comes at the first, Ben's 18:00 in New York at the
    # second; each day below begins at noon in Berlin.
    bot.run_until(MONDAY + timedelta(hours=11), step=timedelta(hours=6))
    for n in range(WEEKS * 7):
        day = (MONDAY + timedelta(days=n)).date()
        bot.run_until(MONDAY + timedelta(days=n, hours=11), step=timedelta(hours=12))
        if n in (0, 2, 4):
            bot.say("ana", f"Week one, a thought on {day:%A}.")
        if day == skipped_day:
            bot.say("ana", "/skip")
        if day == date(2026, 12, 5):
            # Three days later Ana changes her mind about Wednesday's practice.
            bot.say("ana", "/history")
            brought = bot.say("ana", button(bot, "Bring back Wed 2 Dec"))
            assert "it is no longer skipped" in brought
            bot.say("ana", "I came back to this one after all.")
            assert history_line(bot, "ana", skipped_day).endswith(" · replied")
        if day == date(2026, 12, 9):
            assert bot.say("ana", "/pause 3").startswith("Paused for 3 days.")
        if day == date(2026, 12, 16):
            # Ben answers the practice of two days ago, not the newest.
            bot.say("ben", "/history")
            bot.say("ben", button(bot, "Reply Mon 14 Dec"))
            bot.say("ben", "Took me a while, but here it is.")
            assert history_line(bot, "ben", date(2026, 12, 14)).endswith(" · replied")
            assert history_line(bot, "ben", date(2026, 12, 15)).endswith(" · not answered yet")
    bot.run_until(MONDAY + timedelta(days=WEEKS * 7 - 1, hours=23), step=timedelta(hours=12))

    ana, ben = bot.messenger.cards_for("ana"), bot.messenger.cards_for("ben")
    ana_days = [c.practice_date for c in ana]
    # One a day, none while paused, the same practice for both on each day, no repeats.
    assert len(ana_days) == len(set(ana_days)) == WEEKS * 7 - 3
    assert not paused & set(ana_days)
    assert paused <= {c.practice_date for c in ben}
    by_day = {c.practice_date: c.practice for c in ben}
    assert all(by_day[c.practice_date] == c.practice for c in ana if c.practice_date in by_day)
    assert len({c.practice.id for c in ana}) == len(ana)
    # Brave practices off for the couple, since Ana chose so; deeper ones still come.
    depths = {c.practice.depth for c in ana + ben}
    assert Depth.BRAVE not in depths and Depth.DEEPER in depths

    lookbacks = [t for t in bot.messenger.texts_for("ana") if t.startswith(LOOKBACK)]
    assert len(lookbacks) == WEEKS  # every Sunday, once
    second_week = lookbacks[1]
    skipped_title = next(c.practice.title for c in ana if c.practice_date == skipped_day)
    assert f"• Wed 02 Dec: {skipped_title} (you replied)" in second_week
    for week, text in enumerate(lookbacks):
        start = (MONDAY + timedelta(days=7 * week - 1)).date()
        came = [c for c in ana if start <= c.practice_date < start + timedelta(days=7)]
        listed = [line for line in text.splitlines() if line.startswith("• ")]
        assert [line.split(": ", 1)[1].removesuffix(" (you replied)") for line in listed] == [
            c.practice.title for c in came
        ]
        assert text.count("One question to look back on:") == 1
        assert "Ben" not in text and "streak" not in text and "%" not in text
    # The week of the pause lists only the days that came.
    assert "Thu 10 Dec" not in lookbacks[2] and "Wed 09 Dec" in lookbacks[2]
    assert [t for t in bot.messenger.texts_for("ben") if t.startswith(LOOKBACK)] == []

    # Ben's late reply went to Monday's practice, and stays his alone.
    ben_monday = next(c.practice.title for c in ben if c.practice_date == date(2026, 12, 14))
    journal = bot.say("ben", "/journal")
    assert ben_monday in journal and "Took me a while, but here it is." in journal
    assert "Took me a while" not in bot.say("ana", "/journal")
    assert "Took me a while" not in "\n".join(bot.messenger.texts_for("ana"))
