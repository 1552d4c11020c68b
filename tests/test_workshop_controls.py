"""A facilitator shaping a workshop: programs named by title, pause, resume, skip, and the
closing message after the last day (counts only); on the core, then once per platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.catalog import Catalog, Program, ProgramDay
from bot.core.crypto import ReplyCipher
from bot.core.messages import PracticeCard, Text
from db.models import WorkshopPost
from tests import discord_world, telegram_world
from tests.harness import Harness

GROUP = "-100888"
SECRETS = [
    "my mother never laughed at dinner",
    "I noticed I go quiet when the room gets loud",
    "we laughed at the burnt toast this morning",
    "the joke about my job still stings a little",
]
MEMBERS = ["mia", "leo", "ana", "ben"]


@pytest.fixture(scope="session")
def catalog(catalog: Catalog) -> Catalog:
    """The library plus a two-day program whose title has a curly apostrophe: short enough
    for the platform runs, and a title that must match however the apostrophe is typed."""
    days = catalog.programs["lighten-up"].days[:2]
    short = Program(
        id="lets-begin",
        title="Let’s begin",
        description="Two light days to get a group started.",
        days=tuple(ProgramDay(practice=d.practice, title=d.title, description="x") for d in days),
    )
    return replace(catalog, programs={**catalog.programs, short.id: short})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def admin(bot: Harness, line: str) -> str:
    return bot.say_in_group("fay", GROUP, line, admin=True)


def days_posted(bot: Harness) -> list[str]:
    """`day N of M` of each practice the group received, in order."""
    return [
        m.intro.split(" · ")[1].split(":")[0]
        for to, m in bot.messenger.sent
        if to == GROUP and isinstance(m, PracticeCard)
    ]


def closings(bot: Harness) -> list[str]:
    return [
        m.body
        for to, m in bot.messenger.sent
        if to == GROUP and isinstance(m, Text) and "last day of" in m.body
    ]


# --- naming a program -------------------------------------------------------------------


def test_a_program_is_named_by_its_title_spaces_and_apostrophes_included(bot: Harness) -> None:
    started = admin(bot, "/workshop start lighten up 19:00 Europe/London")
    assert "“Lighten up” is on: 5 days" in started and "19:00 (Europe/London)" in started
    admin(bot, "/workshop stop")
    started = admin(bot, "/workshop start INTIMACY, NOT CLOSENESS 7pm new york")
    assert "“Intimacy, not closeness” is on" in started and "America/New_York" in started
    admin(bot, "/workshop stop")
    started = admin(bot, "/workshop start let's begin")
    assert "“Let’s begin” is on: 2 days" in started and "09:00 (UTC)" in started
    admin(bot, "/workshop stop")
    assert "“Wholehearted” is on" in admin(bot, "/workshop start wholehearted Europe/Berlin")


def test_a_name_that_matches_nothing_gets_one_sentence_listing_the_programs(bot: Harness) -> None:
    for line, name in [
        ("/workshop start lighten down 19:00 UTC", "lighten down"),
        ("/workshop start romance", "romance"),
        ("/workshop start slow dance Europe/Berlin", "slow dance"),
    ]:
        answer = admin(bot, line)
        assert answer.startswith(f"I don't know the program “{name}”; the programs are:")
        assert "\n" not in answer and answer.count(".") == 1
        assert "Lighten up (lighten-up, 5 days)" in answer and "Wholehearted" in answer
    assert "No workshop is running here" in admin(bot, "/workshop stop")


# --- pause, resume, skip ----------------------------------------------------------------


def test_pause_holds_the_workshop_and_resume_continues_the_next_day(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 17))
    admin(bot, "/workshop start lighten up 19:00 UTC")
    bot.run_until(utc(2026, 11, 23, 19, 1), step=timedelta(minutes=1))
    assert days_posted(bot) == ["day 1 of 5"]

    bot.clock.set(utc(2026, 11, 24, 10))
    paused = admin(bot, "/workshop pause")
    assert "“Lighten up” is paused" in paused and "/workshop resume" in paused
    assert bot.last_outcome.for_everyone  # told in the chat, on Discord too
    assert "paused since Tue 24 Nov" in admin(bot, "/workshop status")
    assert "already paused since Tue 24 Nov" in admin(bot, "/workshop pause")
    bot.run_until(utc(2026, 11, 26, 20), step=timedelta(hours=1))
    assert days_posted(bot) == ["day 1 of 5"]

    # 20:00 is past today's 19:00, so it goes on tomorrow.
    resumed = admin(bot, "/workshop resume")
    assert "continues: day 2 of 5" in resumed and "on Fri 27 Nov at 19:00" in resumed
    assert bot.last_outcome.for_everyone
    assert "isn't paused" in admin(bot, "/workshop resume")
    bot.run_until(utc(2026, 11, 27, 18), step=timedelta(hours=1))
    assert days_posted(bot) == ["day 1 of 5"]
    bot.run_until(utc(2026, 11, 27, 19, 1), step=timedelta(minutes=1))
    assert days_posted(bot) == ["day 1 of 5", "day 2 of 5"]


def test_resumed_before_the_days_time_it_posts_that_same_day(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 8))
    admin(bot, "/workshop start lighten-up 19:00 UTC")
    admin(bot, "/workshop pause")
    bot.clock.set(utc(2026, 11, 25, 8))
    assert "on Wed 25 Nov at 19:00" in admin(bot, "/workshop resume")
    bot.run_until(utc(2026, 11, 25, 19, 1), step=timedelta(minutes=30))
    assert days_posted(bot) == ["day 1 of 5"]


def test_skip_moves_past_a_day_without_posting_it(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 17))
    admin(bot, "/workshop start lighten up 19:00 UTC")
    bot.run_until(utc(2026, 11, 24, 19, 1), step=timedelta(minutes=30))
    assert days_posted(bot) == ["day 1 of 5", "day 2 of 5"]

    skipped = admin(bot, "/workshop skip")
    assert skipped.startswith("Day 3 of “Lighten up”") and "is skipped" in skipped
    assert "Next: day 4 of 5" in skipped and "on Wed 25 Nov at 19:00" in skipped
    assert bot.last_outcome.for_everyone
    bot.run_until(utc(2026, 11, 25, 19, 1), step=timedelta(minutes=30))
    assert days_posted(bot) == ["day 1 of 5", "day 2 of 5", "day 4 of 5"]

    # Skipped while paused: the day after waits for the resume.
    admin(bot, "/workshop pause")
    assert "Next: day 5 of 5" not in admin(bot, "/workshop skip")
    assert "Next: the closing message, once the workshop is resumed" in admin(
        bot, "/workshop status"
    )
    left = admin(bot, "/workshop skip")
    assert left.startswith("Nothing is left to skip")
    status = admin(bot, "/workshop status")
    assert "3 of 5 days posted, 2 skipped" in status
    assert "Day 3 (Wed 25 Nov): skipped" in status and "Day 5 (Thu 26 Nov): skipped" in status
    admin(bot, "/workshop resume")
    bot.run_until(utc(2026, 11, 30), step=timedelta(hours=1))
    assert days_posted(bot) == ["day 1 of 5", "day 2 of 5", "day 4 of 5"]
    (closing,) = closings(bot)
    assert "3 days of practice posted here (skipped: 2 days)" in closing


def test_each_wrong_use_gets_one_clear_sentence(bot: Harness) -> None:
    for sub in ("pause", "resume", "skip", "stop"):
        answer = admin(bot, f"/workshop {sub}")
        assert answer == "No workshop is running here. /workshop start begins one."
        refused = bot.say_in_group("mia", GROUP, f"/workshop {sub}")
        assert "Only this chat's administrators" in refused
    assert "“jump” isn't a workshop command" in admin(bot, "/workshop jump")
    admin(bot, "/workshop start lighten up")
    assert "already running" in admin(bot, "/workshop start wholehearted")
    assert "isn't paused" in admin(bot, "/workshop resume")


def test_help_lists_every_subcommand_on_its_own_line(bot: Harness) -> None:
    help_text = bot.say("ana", "/help workshop")
    for sub in ("start", "status", "pause", "resume", "skip", "stop"):
        (line,) = [x for x in help_text.splitlines() if x.startswith(f"/workshop {sub} ")]
        assert " — " in line
    assert "/workshop start lighten up 19:00" in help_text


# --- the closing message ----------------------------------------------------------------


def test_the_closing_message_comes_once_with_counts_only(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 17))
    admin(bot, "/workshop start lighten up 19:00 Europe/London")
    for member in MEMBERS:
        bot.join_group(member, GROUP)
    for day in range(5):
        bot.run_until(utc(2026, 11, 23 + day, 19, 1), step=timedelta(hours=1))
        post = [m for to, m in bot.messenger.sent if isinstance(m, PracticeCard)][-1]
        (button,) = [b for row in post.buttons for b in row]
        # Four people reply over the workshop, never all on one day.
        for member, secret in zip(MEMBERS[day % 2 :: 2], SECRETS[day % 2 :: 2], strict=True):
            assert "Saved privately" in bot.say(member, f"{button.action} {secret} ({day})")
    assert len(days_posted(bot)) == 5 and closings(bot) == []
    status = admin(bot, "/workshop status")
    assert "5 of 5 days posted" in status and "(running)" in status
    assert "Next: the closing message, on Sat 28 Nov at 19:00" in status

    bot.run_until(utc(2026, 12, 1), step=timedelta(hours=2))
    (closing,) = closings(bot)
    assert "That was the last day of “Lighten up”" in closing
    assert "5 days of practice posted here (skipped: none)" in closing
    assert "4 people replied privately" in closing and "/workshop start" in closing
    group = "\n".join(bot.messenger.texts_for(GROUP))
    for words in [*SECRETS, *(m.title() for m in MEMBERS)]:
        assert words not in group
    assert "(ended)" in admin(bot, "/workshop status")
    assert "No workshop is running here" in admin(bot, "/workshop skip")


def test_a_small_group_sees_fewer_than_3(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 8))
    admin(bot, "/workshop start let’s begin 09:00 UTC")
    bot.join_group("mia", GROUP)
    bot.run_until(utc(2026, 11, 23, 9, 1), step=timedelta(minutes=1))
    (post,) = [m for to, m in bot.messenger.sent if isinstance(m, PracticeCard)]
    bot.say("mia", f"/reply ws-{post.buttons[0][0].action.split('ws-')[1]} {SECRETS[0]}")
    bot.run_until(utc(2026, 11, 26), step=timedelta(hours=1))
    (closing,) = closings(bot)
    assert "2 days of practice posted" in closing
    assert "fewer than 3 people replied privately" in closing and SECRETS[0] not in closing


def test_stop_or_start_while_only_the_closing_is_left_posts_it_now(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 8))
    admin(bot, "/workshop start lets-begin 09:00 UTC")
    bot.run_until(utc(2026, 11, 24, 10), step=timedelta(hours=1))
    assert days_posted(bot) == ["day 1 of 2", "day 2 of 2"]
    started = admin(bot, "/workshop start lighten up 09:00 UTC")
    assert "“Lighten up” is on" in started
    bot.tick()
    assert len(closings(bot)) == 1 and "“Let’s begin”" in closings(bot)[0]

    # A workshop stopped part way ends without one.
    bot.run_until(utc(2026, 11, 25, 10), step=timedelta(hours=1))
    assert "has stopped" in admin(bot, "/workshop stop")
    bot.run_until(utc(2026, 11, 27), step=timedelta(hours=1))
    assert len(closings(bot)) == 1

    admin(bot, "/workshop start lets-begin 09:00 UTC")
    bot.run_until(utc(2026, 11, 28, 10), step=timedelta(hours=1))
    assert "ends now with its closing message" in admin(bot, "/workshop stop")
    bot.tick()
    assert len(closings(bot)) == 2
    bot.run_until(utc(2026, 12, 1), step=timedelta(hours=1))
    assert len(closings(bot)) == 2


def test_a_skipped_day_and_the_closing_take_no_replies(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 8))
    admin(bot, "/workshop start lets-begin 09:00 UTC")
    admin(bot, "/workshop skip")
    bot.join_group("mia", GROUP)
    bot.run_until(utc(2026, 11, 25), step=timedelta(hours=2))
    with bot.core.db.transaction() as session:
        rows = session.scalars(select(WorkshopPost).order_by(WorkshopPost.day_number)).all()
        states = [(r.day_number, r.kind, r.status, r.id) for r in rows]
    assert [s[:3] for s in states] == [
        (1, "day", "skipped"),
        (2, "day", "sent"),
        (3, "closing", "sent"),
    ]
    for _, _, _, row_id in (states[0], states[2]):
        assert "nothing to reply to" in bot.say("mia", f"/reply ws-{row_id} {SECRETS[1]}")
    assert "Nobody in the group sees it" in bot.say("mia", f"/reply ws-{states[1][3]} {SECRETS[1]}")


# --- end to end, once per platform ------------------------------------------------------


@pytest.fixture
async def telegram(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher
) -> AsyncIterator[telegram_world.World]:
    async with telegram_world.running_world(tmp_path, catalog, cipher) as world:
        yield world


@pytest.fixture
async def discord(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[discord_world.World]:
    async with discord_world.open_world(tmp_path, catalog, cipher, monkeypatch) as world:
        yield world


async def test_a_telegram_group_gets_every_day_then_the_closing(
    telegram: telegram_world.World,
) -> None:
    world, group = telegram, telegram_world.GROUP
    ana, mia = telegram_world.ANA, telegram_world.MIA
    world.fake.admins.add((group, ana))
    await world.say(ana, "Ana", "/workshop start let's begin 06:01 UTC", chat=group, expect="is on")
    # Mia writes in the group, so Telegram counts her as a member there.
    await world.say(mia, "Mia", "/workshop status", chat=group, expect="administrators")
    world.clock.advance(timedelta(minutes=2))
    await world.tick()
    (button,) = world.fake.buttons(world.fake.sent(group)[-1])
    await world.say(mia, "Mia", f"/start {button['url'].split('?start=')[1]}", expect="next")
    await world.say(mia, "Mia", SECRETS[0], expect="Nobody in the group sees it")
    for _ in range(2):
        world.clock.advance(timedelta(days=1))
        await world.tick()
    posts = world.fake.texts(group)[2:]
    assert len(posts) == 3, posts
    assert "Let’s begin · day 1 of 2" in posts[0] and "Let’s begin · day 2 of 2" in posts[1]
    assert "That was the last day of “Let’s begin”" in posts[2]
    assert "fewer than 3 people replied privately" in posts[2]
    assert SECRETS[0] not in "\n".join(posts) and "Mia" not in "\n".join(posts)


async def test_a_discord_channel_gets_every_day_then_the_closing(
    discord: discord_world.World,
) -> None:
    world, fay = discord, discord_world.FAY
    channel = world.fake.channel_id

    async def workshop(sub: str, options: dict[str, object] | None = None) -> dict[str, Any]:
        return await world.slash(fay, "workshop", options, subcommand=sub, in_guild=True)

    await workshop("start", {"program": "lets-begin", "time": "06:01", "zone": "UTC"})
    world.clock.advance(timedelta(minutes=2))
    await world.tick()
    # Paused and resumed the same day: the channel is told, and day 2 comes tomorrow.
    paused, resumed = await workshop("pause"), await workshop("resume")
    assert "is paused" in discord_world.text_of(paused)
    assert "continues: day 2 of 2" in discord_world.text_of(resumed)
    for told in (paused, resumed):
        assert not told["data"].get("flags", 0) & discord_world.EPHEMERAL
    for _ in range(2):
        world.clock.advance(timedelta(days=1))
        await world.tick()
    posts = [m["content"] for m in world.fake.channel_messages(channel)]
    assert len(posts) == 3, posts
    assert "Let’s begin · day 1 of 2" in posts[0] and "Let’s begin · day 2 of 2" in posts[1]
    assert "That was the last day of “Let’s begin”" in posts[2]
    assert "fewer than 3 people replied privately" in posts[2]
