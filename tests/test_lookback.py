"""The weekly look-back, as a person who turned it on would notice it: once, on their day,
at their time, with their week's practices and nothing that counts or compares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.harness import Harness

# The clock starts on Monday 23 November 2026, 05:00 UTC.
SUNDAY = datetime(2026, 11, 29, tzinfo=UTC)
HEADING = "Your week, looking back"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def lookbacks(bot: Harness, who: str) -> list[str]:
    return [t for t in bot.messenger.texts_for(who) if t.startswith(HEADING)]


def run_days(bot: Harness, end: datetime) -> None:
    """Let time pass, ticking at 05:00, 11:00, 17:00 and 23:00 UTC (a practice due at
    07:00 comes at 11:00): enough for what these tests look at, and quick."""
    bot.run_until(end, step=timedelta(hours=6))


def test_it_comes_once_on_the_chosen_day_with_the_weeks_practices(bot: Harness) -> None:
    bot.onboard("ana", time="07:00", zone="Europe/Berlin")
    answer = bot.say("ana", "/settings lookback Sunday")
    assert answer.startswith("Weekly look-back on: Sundays, at 07:00, privately")
    run_days(bot, utc(2026, 11, 25, 7))  # Wednesday's practice has come (07:00 Berlin)
    bot.say("ana", "We laughed about this all evening.")
    run_days(bot, utc(2026, 11, 26, 7))
    bot.say("ana", "/skip")
    run_days(bot, SUNDAY + timedelta(hours=5))
    bot.run_until(SUNDAY + timedelta(hours=5, minutes=55))  # 06:55 in Berlin
    assert lookbacks(bot, "ana") == []

    bot.run_until(SUNDAY + timedelta(hours=8), step=timedelta(minutes=20))
    run_days(bot, SUNDAY + timedelta(hours=23))
    (text,) = lookbacks(bot, "ana")
    week = bot.messenger.cards_for("ana")[:6]  # Monday to Saturday
    lines = text.splitlines()
    assert lines[0] == f"{HEADING} (Sun 22 Nov to Sat 28 Nov):"
    assert lines[1:7] == [
        f"• {c.practice_date:%a %d %b}: {c.practice.title}"
        + {2: " (you replied)", 3: " (set aside)"}.get(i, "")
        for i, c in enumerate(week)
    ]
    assert lines[8].startswith("One question to look back on: ")
    for scoring in ("streak", "%", "score", "out of", "partner", "Ben"):
        assert scoring not in text

    # Ticks go on all week; the next one comes the Sunday after, once.
    run_days(bot, SUNDAY + timedelta(days=6, hours=23))
    assert len(lookbacks(bot, "ana")) == 1
    run_days(bot, SUNDAY + timedelta(days=7, hours=8))
    assert len(lookbacks(bot, "ana")) == 2


def test_it_is_off_by_default_and_off_turns_it_off(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.say("ben", "/settings lookback sun")
    assert bot.say("ben", "/settings lookback off") == "Weekly look-back off."
    run_days(bot, SUNDAY + timedelta(hours=12))
    assert len(bot.messenger.cards_for("ana")) == 7
    assert lookbacks(bot, "ana") == lookbacks(bot, "ben") == []
    assert "Weekly look-back: off" in bot.say("ana", "/settings")


def test_paused_or_stopped_people_get_none(bot: Harness) -> None:
    for who in ("ana", "ben", "cleo"):
        bot.onboard(who)
        bot.say(who, "/settings lookback sunday")
    run_days(bot, utc(2026, 11, 27, 8))
    bot.say("ana", "/pause")
    bot.say("ben", "/stop")
    run_days(bot, SUNDAY + timedelta(hours=12))
    assert lookbacks(bot, "ana") == lookbacks(bot, "ben") == []
    assert len(lookbacks(bot, "cleo")) == 1


def test_a_pause_over_the_day_skips_that_weeks_look_back(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/settings lookback sunday")
    run_days(bot, utc(2026, 11, 28, 8))
    bot.say("ana", "/pause 2")  # Sunday and Monday
    run_days(bot, SUNDAY + timedelta(days=1, hours=12))
    assert lookbacks(bot, "ana") == []
    run_days(bot, SUNDAY + timedelta(days=7, hours=8))
    assert len(lookbacks(bot, "ana")) == 1


def test_it_comes_on_a_day_without_a_practice_and_moves_no_practice(bot: Harness) -> None:
    bot.onboard("ana", days="mon-fri")
    bot.say("ana", "/settings lookback saturday")
    run_days(bot, utc(2026, 11, 30, 12))
    assert len(lookbacks(bot, "ana")) == 1
    cards = bot.messenger.cards_for("ana")
    assert [c.practice_date.day for c in cards] == [23, 24, 25, 26, 27, 30]
    assert "Your next practice comes Tuesday 01 December at 07:00" in bot.say("ana", "/settings")


def test_partners_each_get_their_own_week_and_nothing_of_the_other(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    bot.say("ana", "/settings lookback sunday")
    bot.say("ben", "/settings lookback sunday")
    run_days(bot, utc(2026, 11, 24, 8))
    bot.say("ben", "Only mine to read.")
    run_days(bot, SUNDAY + timedelta(hours=8))
    (ana,) = lookbacks(bot, "ana")
    (ben,) = lookbacks(bot, "ben")
    assert "(you replied)" not in ana
    assert ben.count("(you replied)") == 1


def test_a_day_that_is_not_a_weekday_gets_one_sentence(bot: Harness) -> None:
    bot.onboard("ana")
    sentence = (
        "The look-back comes on one day a week: type /settings lookback sunday (any weekday), "
        "or /settings lookback off."
    )
    assert bot.say("ana", "/settings lookback weekends") == sentence
    assert bot.say("ana", "/settings lookback").startswith("Once a week, at your time")
    assert bot.say("ana", "/settings lookback someday").startswith("“someday” isn't a day")
