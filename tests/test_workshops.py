"""Workshops in a group: daily posts, private replies, counts for the facilitator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.messages import PracticeCard
from tests.harness import Harness

GROUP = "-100777"
SECRET = "i noticed i go quiet when the room gets loud"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def group_posts(bot: Harness) -> list[PracticeCard]:
    return [m for to, m in bot.messenger.sent if to == GROUP and isinstance(m, PracticeCard)]


def test_only_administrators_start_or_stop(bot: Harness) -> None:
    refused = bot.say_in_group("mia", GROUP, "/workshop start lighten-up 19:00 Europe/Berlin")
    assert "Only this chat's administrators" in refused
    started = bot.say_in_group(
        "fay", GROUP, "/workshop start lighten-up 19:00 Europe/Berlin", admin=True
    )
    assert "“Lighten up” is on: 5 days" in started and "19:00 (Europe/Berlin)" in started
    assert "Only this chat's administrators" in bot.say_in_group("mia", GROUP, "/workshop stop")
    assert "already running" in bot.say_in_group("fay", GROUP, "/workshop start", admin=True)
    assert "stopped" in bot.say_in_group("fay", GROUP, "/workshop stop", admin=True)


def test_start_arguments_are_optional_and_checked(bot: Harness) -> None:
    answer = bot.say_in_group("fay", GROUP, "/workshop start", admin=True)
    assert "“Intimacy, not closeness” is on: 7 days" in answer and "09:00 (UTC)" in answer
    bot.say_in_group("fay", GROUP, "/workshop stop", admin=True)
    assert "don't know the program “romance”" in bot.say_in_group(
        "fay", GROUP, "/workshop start romance", admin=True
    )
    assert "isn't a time of day" in bot.say_in_group(
        "fay", GROUP, "/workshop start wholehearted 25:00", admin=True
    )
    assert "New_York" in bot.say_in_group(
        "fay", GROUP, "/workshop start wholehearted 7pm new york", admin=True
    )


def test_a_workshop_posts_daily_and_replies_stay_private(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 17))
    bot.say_in_group("fay", GROUP, "/workshop start lighten-up 19:00 Europe/Berlin", admin=True)
    bot.run_until(utc(2026, 11, 23, 18, 1), step=timedelta(seconds=20))
    (day_one,) = group_posts(bot)
    assert "day 1 of 5" in day_one.intro
    (button,) = [b for row in day_one.buttons for b in row]
    assert button.label == "Reply privately" and button.action.startswith("/reply ws-")

    bot.join_group("mia", GROUP)
    bot.join_group("leo", GROUP)
    # Telegram's way: the deep link starts a private chat on that post.
    payload = button.action.removeprefix("/reply ")
    assert "next message" in bot.say("mia", f"/start {payload}")
    assert "Nobody in the group sees it" in bot.say("mia", SECRET)
    # Discord's way: the modal submits the text with the reference.
    assert "Saved privately" in bot.say("leo", f"{button.action} another private note")
    assert SECRET in bot.say("mia", "/journal")

    status = bot.say_in_group("fay", GROUP, "/workshop status", admin=True)
    assert "Day 1" in status and "fewer than 3 people replied" in status
    bot.run_until(utc(2026, 11, 28, 19))
    posts = group_posts(bot)
    assert [p.intro.split(" · ")[1].split(":")[0] for p in posts] == [
        f"day {n} of 5" for n in range(1, 6)
    ]
    assert "(ended)" in bot.say_in_group("fay", GROUP, "/workshop status", admin=True)
    transcript = "\n".join(
        [
            *bot.messenger.texts_for(GROUP),
            bot.say_in_group("fay", GROUP, "/workshop status", admin=True),
        ]
    )
    assert SECRET not in transcript and "another private note" not in transcript


def test_group_chatter_is_ignored_and_personal_commands_point_to_private(bot: Harness) -> None:
    assert bot.say_in_group("mia", GROUP, "hello everyone") == ""
    assert "private chat" in bot.say_in_group("mia", GROUP, "/journal")
    assert "/workshop start" in bot.say_in_group("mia", GROUP, "/help")


def test_a_workshop_reply_to_a_missing_post_is_explained(bot: Harness) -> None:
    assert "no longer exists" in bot.say("mia", "/reply ws-999 hello")
