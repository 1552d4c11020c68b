"""Every word kept, privately, exactly once, on Discord: the cases of
`tests/test_never_lose_a_word.py` done as a person does them, with the real discord.py
client against the fake Discord server (slash commands, persistent buttons, the reply form
and plain DMs)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.discord.adapter import PLATFORM
from bot.core.catalog import Catalog
from bot.core.context import Incoming
from bot.core.crypto import ReplyCipher, owner_tag
from bot.core.messages import Text
from bot.core.ports import Switchboard
from bot.core.ticker import Ticker
from db.models import Notice, Person, Reply
from tests.discord_world import (
    ANA,
    BEN,
    EPHEMERAL,
    FAY,
    MIA,
    World,
    custom_ids,
    open_world,
    text_of,
)

THOUGHT = "i felt a bit shy about it, then glad we tried"


@pytest.fixture
async def world(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async with open_world(tmp_path, catalog, cipher, monkeypatch) as opened:
        yield opened


# --- what the person sees, and what is stored ----------------------------------------------


def replies_of(world: World, user: int) -> list[tuple[int, str]]:
    """(number, text) of every reply stored for that Discord user, decrypted."""
    with world.core.db.transaction() as session:
        person = session.scalar(
            select(Person).where(Person.platform == PLATFORM, Person.platform_user_id == str(user))
        )
        if person is None:
            return []
        rows = session.scalars(
            select(Reply).where(Reply.person_id == person.id).order_by(Reply.number)
        ).all()
        tag = owner_tag(person.id)
        return [(r.number, world.core.ctx.cipher.decrypt(r.ciphertext, owner=tag)) for r in rows]


def attached_to_a_workshop(world: World, user: int) -> list[bool]:
    with world.core.db.transaction() as session:
        rows = session.scalars(
            select(Reply)
            .join(Person, Reply.person_id == Person.id)
            .where(Person.platform_user_id == str(user))
            .order_by(Reply.number)
        ).all()
        return [r.workshop_post_id is not None for r in rows]


def texts(world: World, user: int) -> list[str]:
    return [text for _, text in replies_of(world, user)]


async def dm(world: World, user: int, text: str, *, until: str) -> str:
    """Send a plain DM; the bot's DMs that answer it, once one of them contains `until`."""
    before = len(world.fake.dms(user))

    def answer() -> str:
        return "\n".join(m["content"] for m in world.fake.dms(user)[before:])

    await world.fake.dm(user, text)
    await world.fake.wait_for(lambda: until in answer(), 5)
    return answer()


def last_dm_with(world: World, user: int, text: str) -> dict[str, Any]:
    return [m for m in world.fake.dms(user) if text in m["content"]][-1]


async def today(world: World, user: int) -> None:
    used = await world.fake.slash(user, "today")
    await world.answer_with(used, "practice")


async def pair(world: World, first: int, second: int) -> None:
    invite = text_of(await world.slash(first, "pair")).replace("\\", "")
    code = re.search(r"code is ([A-Z0-9-]+)\.", invite)
    assert code is not None, invite
    assert "paired with" in text_of(await world.slash(second, "join", {"code": code.group(1)}))
    await world.fake.wait_for(
        lambda: any("joined you" in m["content"] for m in world.fake.dms(first)), 5
    )


# --- 1. leaving onboarding by a command ----------------------------------------------------


async def test_today_in_the_middle_of_onboarding_sets_up_with_defaults_and_keeps_replies(
    world: World,
) -> None:
    welcome = await world.slash(ANA, "start")
    agreed = await world.fake.press(ANA, "wh:/start agree", message=welcome["message"])
    question = await world.answer_with(agreed, "What time")
    timed = await world.fake.press(ANA, "wh:/settings time 21:00", message=question["message"])
    await world.answer_with(timed, "Which time zone")

    used = await world.fake.slash(ANA, "today")
    set_up = text_of(await world.answer_with(used, "You're set up"))
    assert "time zone UTC" in set_up and "days: every day" in set_up and "/settings" in set_up
    await world.answer_with(used, "Today's practice")

    saved = await dm(world, ANA, THOUGHT, until="Saved privately")
    assert "isn't a" not in saved and "time zone" not in saved
    assert "Saved privately" in await dm(world, ANA, "Paris", until="Saved privately")
    assert texts(world, ANA) == [THOUGHT, "Paris"]
    settings = text_of(await world.slash(ANA, "settings"))
    assert "Time: 21:00" in settings and "Time zone: UTC" in settings
    assert "Your next practice comes" in settings


# --- 2. a reply while /forget waits for its answer -----------------------------------------


async def test_a_reply_while_forget_asks_is_kept_and_keep_it_deletes_nothing(
    world: World,
) -> None:
    await world.onboard(ANA)
    await today(world, ANA)
    asked = text_of(await world.slash(ANA, "forget"))
    assert "Type yes to delete everything" in asked

    answer = await dm(world, ANA, THOUGHT, until="still open")
    assert "Saved privately" in answer and "Nothing was deleted" in answer
    assert texts(world, ANA) == [THOUGHT]

    reminder = last_dm_with(world, ANA, "still open")
    pressed = await world.fake.press(ANA, "wh:/forget no", message=reminder)
    assert "Kept. Nothing was deleted" in text_of((await world.answers(pressed))[0])
    assert texts(world, ANA) == [THOUGHT]
    assert THOUGHT in text_of(await world.slash(ANA, "journal"))


# --- 3. a workshop member who never ran /start ---------------------------------------------


async def _workshop_post(world: World) -> dict[str, Any]:
    await world.slash(
        FAY,
        "workshop",
        {"program": "lighten-up", "time": "06:01", "zone": "UTC"},
        subcommand="start",
        in_guild=True,
    )
    world.clock.advance(timedelta(minutes=2))
    await world.tick()
    (post,) = world.fake.channel_messages(world.fake.channel_id)
    return post


async def _form_reply(world: World, text: str) -> dict[str, Any]:
    """Mia, who never ran /start, presses the post's Reply button and sends the form."""
    post = await _workshop_post(world)
    (button,) = custom_ids(post)
    pressed = await world.fake.press(MIA, button, message=post, in_guild=True)
    (modal,) = await world.answers(pressed)
    assert modal["type"] == 9
    submitted = await world.fake.submit_modal(
        MIA, modal["data"]["custom_id"], {"reply-text": text}, in_guild=True
    )
    (saved,) = await world.answers(submitted)
    return saved


async def test_a_workshop_member_who_never_started_keeps_the_form_and_a_later_dm(
    world: World,
) -> None:
    saved = await _form_reply(world, "first thought")
    assert saved["data"]["flags"] & EPHEMERAL
    assert "Saved privately" in text_of(saved) and "Nobody in the group sees it" in text_of(saved)
    assert texts(world, MIA) == ["first thought"]
    assert attached_to_a_workshop(world, MIA) == [True]

    second = await dm(world, MIA, "and a second one, a moment later", until="Only you")
    assert "I agree" not in second and "/start" not in second
    assert texts(world, MIA) == ["first thought", "and a second one, a moment later"]
    status = await world.slash(FAY, "workshop", subcommand="status", in_guild=True)
    assert "fewer than 3 people replied" in text_of(status)
    channel = "\n".join(m["content"] for m in world.fake.channel_messages(world.fake.channel_id))
    assert "first thought" not in channel and "a second one" not in channel


async def test_a_workshop_members_dm_after_the_form_replies_to_the_workshop_practice(
    world: World,
) -> None:
    await _form_reply(world, "first thought")
    second = await dm(world, MIA, "and a second one, a moment later", until="Only you")
    assert "Nobody in the group sees it" in second
    assert attached_to_a_workshop(world, MIA) == [True, True]


# --- 4. two DMs at the same instant ---------------------------------------------------------


async def test_two_dms_sent_at_once_are_each_kept_once_with_their_own_numbers(
    world: World,
) -> None:
    await world.onboard(ANA)
    await today(world, ANA)
    before = len(world.fake.dms(ANA))
    first, second = "the first of two at once", "the second of two at once"
    await asyncio.gather(world.fake.dm(ANA, first), world.fake.dm(ANA, second))

    def saved() -> list[str]:
        return [
            m["content"] for m in world.fake.dms(ANA)[before:] if "Saved privately" in m["content"]
        ]

    await world.fake.wait_for(lambda: len(saved()) >= 2, 5)
    answers = "\n".join(saved())
    assert "reply #1" in answers and "reply #2" in answers
    assert [n for n, _ in replies_of(world, ANA)] == [1, 2]
    assert sorted(texts(world, ANA)) == sorted([first, second])


# --- 5. odd input gets a sentence -----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/skip #²", "no longer in your history"),
        ("/share ①", "Type /share NUMBER"),
        ("/journal 99999999999999999999", "/journal 2 for older ones"),
        ("\x1b[A", "nothing in that message"),
        ("\x1bOB\x07\x00", "nothing in that message"),
    ],
)
async def test_odd_input_by_dm_gets_a_sentence_and_help_still_answers(
    world: World, line: str, expected: str
) -> None:
    await world.onboard(ANA)
    if line.startswith("/share"):
        await world.onboard(BEN)
        await pair(world, ANA, BEN)
    await today(world, ANA)
    answer = await dm(world, ANA, line, until=expected)
    assert "Incident" not in answer and "Saved privately" not in answer
    assert texts(world, ANA) == []
    assert "Here is what I understand" in text_of(await world.slash(ANA, "help"))


# --- 6. a nod is not a reply; Undo and /delete take one back ------------------------------


async def test_a_nod_is_not_a_reply_and_undo_and_delete_each_take_one_back(
    world: World,
) -> None:
    await world.onboard(ANA)
    await today(world, ANA)
    nod = await dm(world, ANA, "thanks", until="acknowledgement")
    assert "Saved privately" not in nod
    assert texts(world, ANA) == []

    saved = await dm(world, ANA, "a first thought", until="Saved privately")
    assert "reply #1" in saved
    regret = await dm(world, ANA, "a thought I regret at once", until="Saved privately")
    assert "reply #2" in regret
    message = last_dm_with(world, ANA, "reply #2")
    assert "wh:/undo 2" in custom_ids(message)
    undone = await world.fake.press(ANA, "wh:/undo 2", message=message)
    assert "Deleted reply #2" in text_of((await world.answers(undone))[0])
    assert texts(world, ANA) == ["a first thought"]

    asked = await world.slash(ANA, "delete", {"number": 1})
    assert "Delete reply #1" in text_of(asked) and "a first thought" in text_of(asked)
    assert "wh:/delete 1 yes" in custom_ids(asked["message"])
    assert texts(world, ANA) == ["a first thought"]  # asking deletes nothing
    confirmed = await world.fake.press(ANA, "wh:/delete 1 yes", message=asked["message"])
    assert "Deleted reply #1" in text_of((await world.answers(confirmed))[0])
    assert texts(world, ANA) == []
    assert "reply #3" in await dm(world, ANA, "a third thought", until="Saved privately")


async def test_a_nod_can_still_be_kept_by_its_button(world: World) -> None:
    await world.onboard(ANA)
    await today(world, ANA)
    await dm(world, ANA, "thanks", until="acknowledgement")
    message = last_dm_with(world, ANA, "acknowledgement")
    (keep,) = custom_ids(message)
    pressed = await world.fake.press(ANA, keep, message=message)
    (answer,) = await world.answers(pressed)
    assert answer["type"] != 9, "the button keeps the word; it does not open an empty form"
    assert "Saved privately" in text_of(answer)
    assert texts(world, ANA) == ["thanks"]


# --- 7. the failure boundary ---------------------------------------------------------------

BOOM = "boom secret words"
TYPED = "what I typed about the walk by the river"


class Broken:
    """Makes the core fail unexpectedly while `on`; otherwise it works as before."""

    def __init__(self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        self.on = False
        working = world.core._dispatch

        def dispatch(session: Any, incoming: Incoming) -> Any:
            if self.on:
                raise RuntimeError(BOOM)
            return working(session, incoming)

        monkeypatch.setattr(world.core, "_dispatch", dispatch)


def assert_logged_an_incident_and_no_words(caplog: pytest.LogCaptureFixture, *typed: str) -> None:
    """The tests log at DEBUG: the README promises reply text is never logged, at any level."""
    logged = caplog.text
    assert "incident" in logged.lower()
    assert BOOM not in logged
    for words in typed:
        assert words not in logged


async def test_a_failing_slash_command_gets_one_incident_sentence(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await world.onboard(ANA)
    broken = Broken(world, monkeypatch)
    broken.on = True
    caplog.set_level(logging.DEBUG)
    used = await world.fake.slash(ANA, "join", {"code": "K7P-TYPED"})
    (apology,) = await world.answers(used)
    assert "Incident" in text_of(apology) and apology["data"]["flags"] & EPHEMERAL
    assert_logged_an_incident_and_no_words(caplog, "K7P-TYPED")
    broken.on = False
    again = text_of(await world.slash(ANA, "join", {"code": "K7P-TYPED"}))
    assert "That code doesn't work" in again and "Incident" not in again
    assert len(world.fake.responses(used)) == 1


async def test_a_failing_button_gets_one_incident_sentence(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await world.onboard(ANA)
    asked = await world.slash(ANA, "forget")
    broken = Broken(world, monkeypatch)
    broken.on = True
    caplog.set_level(logging.DEBUG)
    pressed = await world.fake.press(ANA, "wh:/forget no", message=asked["message"])
    (apology,) = await world.answers(pressed)
    assert "Incident" in text_of(apology)
    assert_logged_an_incident_and_no_words(caplog)
    broken.on = False
    again = await world.fake.press(ANA, "wh:/forget no", message=asked["message"])
    assert "Kept" in text_of((await world.answers(again))[0])
    assert len(world.fake.responses(pressed)) == 1


async def test_a_failing_reply_form_gets_one_incident_sentence(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await world.onboard(ANA)
    await today(world, ANA)
    broken = Broken(world, monkeypatch)
    broken.on = True
    caplog.set_level(logging.DEBUG)
    opened = await world.fake.slash(ANA, "reply")
    (modal,) = await world.answers(opened)
    submitted = await world.fake.submit_modal(
        ANA, modal["data"]["custom_id"], {"reply-text": TYPED}
    )
    (apology,) = await world.answers(submitted)
    assert "Incident" in text_of(apology)
    assert_logged_an_incident_and_no_words(caplog, TYPED)
    broken.on = False
    retried = await world.fake.submit_modal(ANA, modal["data"]["custom_id"], {"reply-text": TYPED})
    await world.answer_with(retried, "Saved privately")
    assert texts(world, ANA) == [TYPED]
    assert len(world.fake.responses(submitted)) == 1


async def test_a_failing_dm_gets_one_incident_sentence(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await world.onboard(ANA)
    await today(world, ANA)
    broken = Broken(world, monkeypatch)
    broken.on = True
    caplog.set_level(logging.DEBUG)
    before = len(world.fake.dms(ANA))
    apology = await dm(world, ANA, TYPED, until="Incident")
    assert_logged_an_incident_and_no_words(caplog, TYPED)
    assert texts(world, ANA) == []
    broken.on = False
    assert "Saved privately" in await dm(world, ANA, TYPED, until="Saved privately")
    assert texts(world, ANA) == [TYPED]
    answered = [m["content"] for m in world.fake.dms(ANA)[before:]]
    assert sum("Incident" in t for t in answered) == 1 and "Incident" in apology


# --- 8. a share made while the partner's adapter is not up yet -----------------------------


async def test_a_share_made_before_the_discord_adapter_is_up_arrives_once_it_is(
    world: World,
) -> None:
    """A process whose Discord adapter is still starting: its switchboard has no Discord
    messenger yet when Ana shares; Ben gets the share by DM once it registers, once."""
    await world.onboard(ANA)
    await world.onboard(BEN)
    await pair(world, ANA, BEN)
    await today(world, ANA)
    gift = "a thought for Ben, when he's ready"
    await dm(world, ANA, gift, until="Saved privately")
    await world.ticker.flush()  # the running process has sent what it had ("Ben joined")

    starting = Switchboard()
    ticker = Ticker(world.core, starting)
    outcome = await asyncio.to_thread(
        world.core.handle_sync, Incoming(PLATFORM, str(ANA), "Ana", "/share")
    )
    said = "\n".join(m.body for m in outcome.replies if isinstance(m, Text))
    assert "Shared reply #1 with Ben" in said and outcome.sends_queued
    starting.after(outcome)
    report = await ticker.tick()
    assert report.sent == 0
    assert not any(gift in m["content"] for m in world.fake.dms(BEN))
    with world.core.db.transaction() as session:
        waiting = session.scalars(select(Notice).where(Notice.status == "pending")).all()
    assert len(waiting) == 1  # nothing lost, nothing sent

    starting.register(world.adapter.messenger)  # the adapter is connected
    await world.fake.wait_for(lambda: any(gift in m["content"] for m in world.fake.dms(BEN)), 5)
    await ticker.tick()
    await world.ticker.tick()  # a second process ticking on the same database
    shared = [m["content"] for m in world.fake.dms(BEN) if gift in m["content"]]
    assert len(shared) == 1 and "Ana shared a reply" in shared[0]
    assert gift in text_of(await world.slash(BEN, "journal"))
