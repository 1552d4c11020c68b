"""A facilitator's own program: sent as a file in private, checked like the library, kept
for its author alone, run in a group they administer, and gone when they delete it."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.adapters.terminal.chat import TerminalChat
from bot.core.catalog import Catalog
from bot.core.clock import ManualClock
from bot.core.context import UPLOAD_LIMIT, Incoming, Upload
from bot.core.crypto import ReplyCipher
from bot.core.messages import Document, PracticeCard
from bot.core.service import Core
from tests.discord_world import FAY, open_world, text_of
from tests.harness import PLATFORM, Harness, as_text
from tests.telegram_world import ANA, running_world
from tests.telegram_world import GROUP as TG_GROUP

GROUP, OTHER_GROUP = "-100555", "-100666"

BROKEN = """\
program:
  id: lunch-breaks
  title: Lunch breaks
  description: Five lunchtimes of small practices.
  days:
    - practice: lunch-slow-bite
      title: One slow bite
      description: Eat one bite slowly.
    - practice: breathe-out
      title: Breathe out
      description: A long breath out before you eat.
    - practice: playfulness-quirk-fan-club
      title: A fan club
      description: For one quirk.
    - practice: lunch-walk
      title: A walk
practices:
  - id: lunch-slow-bite
    theme: joy
    title: One slow bite
    steps: [Take one bite and chew it slowly.]
    question: What did you taste?
    minutes: 9
    depth: gentle
  - id: playfulness-inside-joke-revival
    theme: playfulness
    title: An old joke
    steps: [Bring back an old joke.]
    question: What did it carry?
    minutes: 2
    depth: gentle
  - id: lunch-walk
    theme: individuality
    title: A walk of your own
    steps: [Walk around the block alone after lunch.]
    question: What did you notice on your own?
    minutes: 5
    depth: brave
    source: my-book
"""

GOOD = """\
program:
  id: lunch-breaks
  title: Lunch breaks
  description: Three lunchtimes of small practices.
  days:
    - practice: lunch-slow-bite
      title: One slow bite
      description: Eat one bite slowly.
    - practice: playfulness-inside-joke-revival
      title: An old joke
      description: Bring one back at lunch.
    - practice: lunch-walk
      title: A walk
      description: Five minutes on your own.
practices:
  - id: lunch-slow-bite
    theme: self-reflection
    title: One slow bite
    steps: [Take one bite of your lunch and chew it slowly, noticing every taste.]
    question: What did you taste that you usually miss?
    minutes: 2
    depth: gentle
  - id: lunch-walk
    theme: individuality
    title: A walk of your own
    steps: [Walk around the block alone after lunch, without your phone.]
    question: What did you notice when nobody was with you?
    minutes: 5
    depth: gentle
    source: cluff
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def send_file(bot: Harness, who: str, name: str, content: bytes, *, chat: str | None = None) -> str:
    """A file as an adapter hands it in; in a group the adapter fetches nothing."""
    upload = Upload(name, len(content), None if chat or len(content) > UPLOAD_LIMIT else content)
    incoming = Incoming(PLATFORM, who, who.title(), "", chat_id=chat, document=upload)
    outcome = bot.core.handle_sync(incoming)
    return "\n".join(as_text(m) for m in outcome.replies)


def cards_in(bot: Harness, chat: str) -> list[PracticeCard]:
    return [m for to, m in bot.messenger.sent if to == chat and isinstance(m, PracticeCard)]


def test_every_problem_is_listed_then_a_good_program_runs_in_the_group(bot: Harness) -> None:
    refused = send_file(bot, "fay", "lunch.yaml", BROKEN.encode())
    assert refused.startswith("I didn't keep “lunch.yaml”: 8 problems to fix"), refused
    for expected in (
        "1. Practice “lunch-slow-bite”: “theme” must be one of",
        "Practice “lunch-slow-bite”: “minutes” must be at most 5.",
        "Practice “playfulness-inside-joke-revival”: the library already has a practice",
        "Practice “lunch-walk”: “source” is “my-book”, which is not one of the library's",
        "Practice “lunch-walk”: a brave practice needs a “caution”",
        "Program “lunch-breaks”, day 4: “description” is missing.",
        "Program “lunch-breaks”, day 2 names the practice “breathe-out”, which is neither in "
        "your file nor in the library.",
        "Program “lunch-breaks”, day 3: the library's practice “playfulness-quirk-fan-club” is "
        "not for groups",
    ):
        assert expected in refused, expected
    assert "You have no programs" in bot.say("fay", "/programs")

    saved = send_file(bot, "fay", "lunch.yaml", GOOD.encode())
    assert saved.startswith("Saved your program “Lunch breaks” (3 days). Start it in a group")
    assert "/workshop start lunch-breaks" in saved
    listed = bot.say_in_group("fay", GROUP, "/workshop", admin=True)
    assert "intimacy-not-closeness" in listed and "lunch-breaks — Lunch breaks (3 days)" in listed

    bot.clock.set(utc(2026, 11, 23, 11))
    started = bot.say_in_group("fay", GROUP, "/workshop start lunch breaks 12:30", admin=True)
    assert "“Lunch breaks” is on: 3 days" in started, started
    bot.run_until(utc(2026, 11, 23, 12, 35), step=timedelta(minutes=30))
    (day_one,) = cards_in(bot, GROUP)
    assert day_one.intro == "Lunch breaks · day 1 of 3: One slow bite"
    card = as_text(day_one)
    assert "What did you taste that you usually miss?" in card
    assert "Drawn from “Lunch breaks” by Fay." in card  # a practice naming no source: its author
    # A member's reply names the facilitator's practice, which the library does not hold.
    bot.join_group("mia", GROUP)
    reply = day_one.buttons[0][0].action
    assert "Saved privately to “One slow bite”" in bot.say("mia", f"{reply} the bread, mostly")
    assert "· One slow bite" in bot.say("mia", "/journal")
    # Shared with a partner, it is named in the partner's journal and export as well.
    bot.say("mia", "/start agree")
    bot.say("noa", "/start agree")
    bot.pair("mia", "noa")
    assert "Shared reply #1 with Noa" in bot.say("mia", "/share 1")
    assert "From Mia · " in (journal := bot.say("noa", "/journal"))
    assert "· One slow bite\nthe bread, mostly" in journal
    bot.say("noa", "/export")
    journal_file, export_file = bot.last_replies
    assert isinstance(journal_file, Document) and isinstance(export_file, Document)
    assert "· One slow bite\n\n> What did you taste" in journal_file.data.decode()
    (gift,) = json.loads(export_file.data)["shared_with_me"]
    assert (gift["practice_title"], gift["text"]) == ("One slow bite", "the bread, mostly")
    bot.run_until(utc(2026, 11, 25, 12, 35), step=timedelta(hours=1))
    titles = [c.practice.title for c in cards_in(bot, GROUP)]
    assert titles[1:] == ["Bring back an old inside joke", "A walk of your own"]
    assert "Stephanie Renee Cluff" in as_text(cards_in(bot, GROUP)[2])


def test_a_program_belongs_to_its_author(bot: Harness) -> None:
    send_file(bot, "fay", "lunch.yaml", GOOD.encode())
    listed = bot.say_in_group("gus", OTHER_GROUP, "/workshop", admin=True)
    assert "lunch-breaks" not in listed and "Lunch breaks" not in listed
    refused = bot.say_in_group("gus", OTHER_GROUP, "/workshop start lunch-breaks", admin=True)
    assert "I don't know the program “lunch-breaks”" in refused
    assert "Lunch breaks" not in refused
    assert "no programs of your own" in bot.say("gus", "/programs")


def test_a_file_that_cannot_be_read_gets_one_sentence(bot: Harness) -> None:
    too_big = send_file(bot, "fay", "big.yaml", b"#" * (UPLOAD_LIMIT + 1))
    assert too_big == (
        "“big.yaml” is 65,537 bytes, more than the 64 KB a program file may be. Nothing was kept."
    )
    assert "isn't UTF-8 text" in send_file(bot, "fay", "p.yaml", "títle".encode("latin-1"))
    assert "isn't valid YAML at line 2" in send_file(bot, "fay", "p.yaml", b"a: [1\nb: ]")
    assert "isn't valid JSON: line 1" in send_file(bot, "fay", "p.json", b"{'program': 1}")
    assert "uses YAML aliases" in send_file(bot, "fay", "p.yml", b"a: &x [1]\nb: *x\n")
    assert "only files I take are workshop programs" in send_file(bot, "fay", "me.jpg", b"\xff")
    assert "the file needs a “program”" in send_file(bot, "fay", "p.yaml", b"- 1").lower()
    in_group = send_file(bot, "fay", "lunch.yaml", GOOD.encode(), chat=GROUP)
    assert in_group.startswith("Send your program file to me in a private chat")
    assert send_file(bot, "fay", "minutes.pdf", b"%PDF", chat=GROUP) == ""
    assert "no programs of your own" in bot.say("fay", "/programs")


def test_json_works_and_the_same_id_replaces_the_earlier_one(bot: Harness) -> None:
    data = yaml.safe_load(GOOD)
    send_file(bot, "fay", "lunch.yaml", GOOD.encode())
    data["program"]["title"] = "Lunch, slowly"
    data["program"]["days"] = data["program"]["days"][:2]
    replaced = send_file(bot, "fay", "lunch.json", json.dumps(data).encode())
    assert replaced.startswith("Replaced your earlier program “Lunch, slowly” (2 days).")
    listed = bot.say("fay", "/programs")
    assert "lunch-breaks — Lunch, slowly (2 days)" in listed and "Lunch breaks" not in listed


def test_deleting_or_forgetting_ends_its_workshop_with_a_sentence(bot: Harness) -> None:
    bot.clock.set(utc(2026, 11, 23, 11))
    send_file(bot, "fay", "lunch.yaml", GOOD.encode())
    bot.say_in_group("fay", GROUP, "/workshop start lunch-breaks 12:30", admin=True)
    bot.run_until(utc(2026, 11, 23, 12, 35), step=timedelta(minutes=30))
    assert "no program “nope”" in bot.say("fay", "/programs delete nope")
    deleted = bot.say("fay", "/programs delete lunch-breaks")
    assert deleted.startswith("Deleted your program “Lunch breaks”. It was running in 1 group")
    bot.tick()
    last = bot.messenger.texts_for(GROUP)[-1]
    assert last.startswith("This workshop has ended: its program “lunch-breaks” was deleted")
    assert "(ended)" in bot.say_in_group("fay", GROUP, "/workshop status", admin=True)

    send_file(bot, "fay", "lunch.yaml", GOOD.encode())
    bot.say_in_group("fay", OTHER_GROUP, "/workshop start lunch-breaks 12:30", admin=True)
    bot.say("fay", "/forget")
    bot.say("fay", "yes")
    bot.run_until(utc(2026, 11, 24, 12, 35), step=timedelta(hours=1))
    assert bot.messenger.texts_for(OTHER_GROUP)[-1].startswith("This workshop has ended")
    assert not cards_in(bot, OTHER_GROUP)


def test_the_export_holds_the_persons_programs(bot: Harness) -> None:
    bot.onboard("fay")
    send_file(bot, "fay", "lunch.yaml", GOOD.encode())
    bot.say("fay", "/export")
    (document,) = [m for m in bot.last_replies if getattr(m, "filename", "").endswith(".json")]
    exported = json.loads(document.data)  # type: ignore[union-attr]
    (program,) = exported["my_programs"]
    assert program["program"]["id"] == "lunch-breaks"
    assert [p["id"] for p in program["practices"]] == ["lunch-slow-bite", "lunch-walk"]


# --- end to end, with the real adapters against the fake platforms --------------------------

BROKEN_DAY = GOOD.replace("practice: lunch-walk", "practice: lunch-wlak", 1)


async def test_on_telegram_a_document_is_checked_then_kept_and_run(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher
) -> None:
    async with running_world(tmp_path, catalog, cipher) as world:
        big = await world.send_file(ANA, "Ana", "big.yaml", b"#" * 70_000, expect="Nothing")
        assert "more than the 64 KB" in big and world.fake.downloads == 0
        refused = await world.send_file(ANA, "Ana", "lunch.yaml", BROKEN_DAY.encode(), expect="1.")
        assert "day 3 names the practice “lunch-wlak”" in refused
        saved = await world.send_file(ANA, "Ana", "lunch.yaml", GOOD.encode(), expect="Saved")
        assert "/workshop start lunch-breaks" in saved and world.fake.downloads == 2
        world.fake.admins.add((TG_GROUP, ANA))
        await world.say(
            ANA, "Ana", "/workshop start lunch-breaks 06:01 UTC", chat=TG_GROUP, expect="is on"
        )
        world.clock.advance(timedelta(minutes=1, seconds=5))
        await world.tick()
        post = world.fake.sent(TG_GROUP)[-1]
        assert "Lunch breaks · day 1 of 3: One slow bite" in post["text"]
        assert "Drawn from “Lunch breaks” by Ana." in post["text"]
        # Run to the end: the other two days, then the closing message, each posted once.
        for _ in range(3):
            world.clock.advance(timedelta(days=1))
            await world.tick()
        posts = [m["text"] for m in world.fake.sent(TG_GROUP)]
        days = [t for t in posts if "Lunch breaks · day" in t]
        assert [t.split(":")[0][-6:] for t in days] == ["1 of 3", "2 of 3", "3 of 3"]
        assert sum("That was the last day of “Lunch breaks”" in t for t in posts) == 1


async def test_on_discord_a_dm_attachment_is_checked_then_kept_and_run(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_world(tmp_path, catalog, cipher, monkeypatch) as world:

        async def dm_file(data: bytes, expect: str) -> str:
            before = len(world.fake.dms(FAY))
            await world.fake.dm(FAY, "", files=(("lunch.yaml", data),))
            await world.fake.wait_for(
                lambda: any(expect in m["content"] for m in world.fake.dms(FAY)[before:]), 5
            )
            return "\n".join(m["content"] for m in world.fake.dms(FAY)[before:])

        refused = await dm_file(BROKEN_DAY.encode(), "problem")
        assert "day 3 names the practice “lunch-wlak”" in refused
        assert "Saved your program “Lunch breaks” (3 days)" in await dm_file(GOOD.encode(), "Saved")
        assert world.fake.attachment_downloads == 2
        started = await world.slash(
            FAY,
            "workshop",
            {"program": "lunch-breaks", "time": "06:01", "zone": "UTC"},
            subcommand="start",
            in_guild=True,
        )
        assert "“Lunch breaks” is on" in text_of(started)
        world.clock.advance(timedelta(minutes=2))
        await world.tick()
        (post,) = world.fake.channel_messages(world.fake.channel_id)
        assert "Lunch breaks · day 1 of 3" in post["content"]
        # Run to the end: the other two days, then the closing message, each posted once.
        for _ in range(3):
            world.clock.advance(timedelta(days=1))
            await world.tick()
        posts = [m["content"] for m in world.fake.channel_messages(world.fake.channel_id)]
        assert len(posts) == 4, posts
        assert "Lunch breaks · day 2 of 3" in posts[1] and "Lunch breaks · day 3 of 3" in posts[2]
        assert "That was the last day of “Lunch breaks”" in posts[3]


async def test_on_discord_words_sent_with_a_file_that_cannot_be_fetched_are_kept(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_world(tmp_path, catalog, cipher, monkeypatch) as world:
        await world.fake.dm(FAY, "/start agree")  # agreed to the privacy note: words are kept
        await world.fake.wait_for(lambda: len(world.fake.dms(FAY)) >= 1, 5)
        world.fake.attachment_url_lifetime = -1.0  # the CDN link has expired: a 404
        await world.fake.dm(
            FAY,
            "A note to keep, whatever happens to the file.",
            files=(("lunch.yaml", GOOD.encode()),),
        )
        await world.fake.wait_for(
            lambda: (
                sum("fetch your file" in m["content"] for m in world.fake.dms(FAY)) == 1
                and any("private note" in m["content"] for m in world.fake.dms(FAY))
            ),
            5,
        )
        assert world.fake.attachment_downloads == 0
        await world.fake.dm(FAY, "/journal")
        await world.fake.wait_for(
            lambda: any(
                m["content"].startswith("Your journal")
                and "A note to keep, whatever happens to the file." in m["content"]
                for m in world.fake.dms(FAY)
            ),
            5,
        )


def test_in_the_terminal_upload_reads_a_file(
    core: Core, clock: ManualClock, tmp_path: Path
) -> None:
    (tmp_path / "lunch.yaml").write_text(GOOD, encoding="utf-8")
    script = (
        f"/upload {tmp_path / 'missing.yaml'}\n/upload {tmp_path / 'lunch.yaml'}\n"
        "/in Lunch club\n/workshop start lunch-breaks 12:30\n"
    )
    out = io.StringIO()
    chat = TerminalChat(
        core,
        clock,  # type: ignore[arg-type]
        stdin=io.StringIO(script),
        stdout=out,
        tick_seconds=3600,
        files_dir=tmp_path,
    )
    asyncio.run(chat.run())
    said = out.getvalue()
    assert f"There's no file at {tmp_path / 'missing.yaml'}." in said
    assert "Saved your program “Lunch breaks” (3 days)." in said
    assert "The workshop “Lunch breaks” is on: 3 days" in said
