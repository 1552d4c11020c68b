"""Every word kept, privately, exactly once, on Telegram: the cases of
test_never_lose_a_word.py typed into the real python-telegram-bot, against the fake Bot API.

Each test reads what the person sees (the bot's messages in the fake's transcript) and what
the database holds for them (decrypted with their own key).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.catalog import Catalog
from bot.core.context import Incoming
from bot.core.crypto import ReplyCipher
from bot.core.messages import Outcome
from bot.core.outbox import backoff
from tests.telegram_world import ANA, BEN, GROUP, MIA, World, running_world

THOUGHT = "i felt a bit shy about it, then glad we tried"
APOLOGY = "Something went wrong on my side"


@pytest.fixture
async def world(tmp_path: Path, catalog: Catalog, cipher: ReplyCipher) -> AsyncIterator[World]:
    async with running_world(tmp_path, catalog, cipher) as running:
        yield running


async def practice(world: World, user: int, name: str) -> None:
    """Set up with the defaults of `World.onboard`, and today's practice on screen."""
    await world.onboard(user, name)
    await world.say(user, name, "/today", expect="Today's practice")


async def pair(world: World) -> None:
    """Ana and Ben, set up and paired; each has today's practice on screen."""
    await practice(world, ANA, "Ana")
    await practice(world, BEN, "Ben")
    answer = await world.say(ANA, "Ana", "/pair", expect="invite code")
    code = answer.split("code is ", 1)[1].split(".", 1)[0]
    await world.say(BEN, "Ben", f"/join {code}", expect="paired with Ana")
    await world.fake.wait_for(lambda: "Ben joined you" in world.last_text(ANA))


def count(texts: list[str], fragment: str) -> int:
    return sum(fragment in t for t in texts)


# --- 1. leaving onboarding by a command ---------------------------------------------------


@pytest.mark.parametrize("words", [THOUGHT, "Paris"])
async def test_today_in_the_middle_of_onboarding_sets_up_with_defaults_and_keeps_the_reply(
    world: World, words: str
) -> None:
    await world.say(ANA, "Ana", "/start", expect="Shall we begin")
    await world.press(ANA, "Ana", "/start agree", expect="What time")
    await world.say(ANA, "Ana", "7:30", expect="Which time zone")
    await world.say(ANA, "Ana", "Europe/Berlin", expect="Which days")
    moved_on = await world.say(ANA, "Ana", "/today", expect="Today's practice")
    assert "You're set up" in moved_on and "days: every day" in moved_on
    assert "/settings" in moved_on

    saved = await world.say(ANA, "Ana", words, expect="Saved privately")
    assert "isn't a" not in saved and "set to" not in saved and "Which" not in saved
    assert world.replies_of(ANA) == [words]
    journal = await world.say(ANA, "Ana", "/journal", expect="Your journal")
    assert words in journal
    settings = await world.say(ANA, "Ana", "/settings", expect="Your settings")
    assert "Time: 07:30" in settings and "Time zone: Europe/Berlin" in settings
    assert "Your next practice comes" in settings


# --- 2. a reply while /forget asks to confirm -----------------------------------------------


async def test_a_reply_while_forget_asks_is_kept_and_only_a_bare_yes_deletes(
    world: World,
) -> None:
    await practice(world, ANA, "Ana")
    await world.say(ANA, "Ana", "/forget", expect="Type yes to delete everything")
    answer = await world.say(ANA, "Ana", THOUGHT, expect="still open")
    assert "Saved privately" in answer and "Nothing was deleted" in answer
    assert world.replies_of(ANA) == [THOUGHT]
    await world.say(ANA, "Ana", "no", expect="Kept. Nothing was deleted")
    assert world.replies_of(ANA) == [THOUGHT]
    assert THOUGHT in await world.say(ANA, "Ana", "/journal", expect="Your journal")

    await world.say(ANA, "Ana", "/forget", expect="Type yes to delete everything")
    await world.say(ANA, "Ana", "yes", expect="everything the bot held about you is deleted")
    assert world.person(ANA) is None and world.replies_of(ANA) == []
    await world.say(ANA, "Ana", "/journal", expect="Type /start first")


# --- 3. a workshop member who never started -------------------------------------------------


async def test_a_workshop_member_who_never_started_keeps_every_message_out_of_the_group(
    world: World,
) -> None:
    world.fake.admins.add((GROUP, ANA))
    await world.say(ANA, "Ana", "/workshop start lighten-up 06:01 UTC", chat=GROUP, expect="is on")
    world.clock.advance(timedelta(minutes=1, seconds=5))
    await world.tick()
    (button,) = world.fake.buttons(world.fake.sent(GROUP)[-1])
    payload = button["url"].split("?start=")[1]

    first, second = "first thought, a bit raw", "and a second one, a minute later"
    world.fake.members.add((GROUP, MIA))
    await world.say(MIA, "Mia", f"/start {payload}", expect="next message")
    assert "Nobody in the group sees it" in await world.say(
        MIA, "Mia", first, expect="Saved privately"
    )
    world.clock.advance(timedelta(minutes=1))
    assert "Nobody in the group sees it" in await world.say(
        MIA, "Mia", second, expect="Saved privately"
    )
    assert world.replies_of(MIA) == [first, second]
    await world.say(ANA, "Ana", "/safety", expect="safe")
    await world.say(ANA, "Ana", "/workshop status", chat=GROUP, expect="answered you")
    assert "fewer than 3 people replied" in world.last_text(ANA)
    assert "I agree" not in "\n".join(world.fake.texts(MIA))  # she was never asked to /start
    group = "\n".join(world.fake.texts(GROUP))
    assert first not in group and second not in group


# --- 4. odd input -----------------------------------------------------------------------------


async def test_odd_input_gets_a_sentence_and_the_conversation_goes_on(world: World) -> None:
    await pair(world)
    for line, expected in [
        ("/skip #²", "no longer in your history"),
        ("/skip #99999999999999999999", "no longer in your history"),
        ("/share ①", "Type /share NUMBER"),
        ("/start ws-⁹", "doesn't lead to a workshop practice"),
        ("/journal 99999999999999999999", "/journal 2 for older ones"),
    ]:
        await world.say(ANA, "Ana", line, expect=expected)

    # Telegram's JSON can carry a lone surrogate ("\ud800" on the wire), and NUL.
    await world.say(ANA, "Ana", "half \ud800 an emoji\x00 and a bell\x07", expect="Saved privately")
    assert world.replies_of(ANA) == ["half \ufffd an emoji and a bell"]

    rosa = 1004
    await world.say(rosa, "Ro\x00sa", "/start", expect="Shall we begin")
    person = world.person(rosa)
    assert person is not None and person.display_name == "Rosa"

    await world.say(ANA, "Ana", "/help", expect="Here is what I understand")
    await world.say(rosa, "Ro\x00sa", "/help", expect="Here is what I understand")
    everything = "\n".join(world.fake.texts(ANA) + world.fake.texts(rosa))
    assert APOLOGY not in everything and "Traceback" not in everything


# --- 5. /reply with the text ------------------------------------------------------------------


async def test_reply_with_a_hash_word_or_the_text_on_the_next_line_keeps_every_word(
    world: World,
) -> None:
    await practice(world, ANA, "Ana")
    await world.say(ANA, "Ana", "/reply #grateful for the walk", expect="Saved privately")
    await world.say(
        ANA, "Ana", "/reply\nthe text on the next line\nand another", expect="Saved privately"
    )
    assert world.replies_of(ANA) == [
        "#grateful for the walk",
        "the text on the next line\nand another",
    ]


# --- 6. nods, Undo and /delete ----------------------------------------------------------------


async def test_a_nod_is_not_kept_unless_its_button_is_pressed(world: World) -> None:
    await practice(world, ANA, "Ana")
    for nod in ("thanks", "ok"):
        answer = await world.say(ANA, "Ana", nod, expect="acknowledgement")
        assert "Saved privately" not in answer
    (keep,) = world.fake.buttons(world.fake.sent(ANA)[-1])  # under the answer to "ok"
    assert keep["text"] == "Keep it in my journal"
    assert world.replies_of(ANA) == []
    await world.say(ANA, "Ana", "/journal", expect="Your journal is empty")
    await world.press(ANA, "Ana", keep["callback_data"], expect="Saved privately")
    assert world.replies_of(ANA) == ["ok"]


async def test_undo_takes_back_a_reply_and_delete_removes_one_after_yes(world: World) -> None:
    await practice(world, ANA, "Ana")
    await world.say(ANA, "Ana", "a first thought", expect="reply #1")
    await world.say(ANA, "Ana", "a thought I regret at once", expect="reply #2")
    (undo,) = world.fake.buttons(world.fake.sent(ANA)[-1])
    assert undo["text"] == "Undo" and undo["callback_data"].startswith("/undo ")
    await world.press(ANA, "Ana", undo["callback_data"], expect="Deleted reply #2")
    await world.say(ANA, "Ana", "a third thought", expect="reply #3")
    assert world.replies_of(ANA) == ["a first thought", "a third thought"]

    question = await world.say(ANA, "Ana", "/delete 1", expect="Delete reply #1")
    assert "a first thought" in question
    assert world.replies_of(ANA) == ["a first thought", "a third thought"]
    await world.say(ANA, "Ana", "yes", expect="Deleted reply #1")
    assert world.replies_of(ANA) == ["a third thought"]
    journal = await world.say(ANA, "Ana", "/journal", expect="Your journal")
    assert "a third thought" in journal and "a first thought" not in journal


# --- 7. the failure boundary ------------------------------------------------------------------

BOOM = "boom secret words"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record at every level, from before the bot starts (LOG_LEVEL=DEBUG)."""
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_an_unexpected_error_is_one_apology_an_incident_without_words_and_no_more(
    debug_logs: pytest.LogCaptureFixture, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await practice(world, ANA, "Ana")
    dispatch = world.core._dispatch
    failures = iter([True])

    def fails_once(session: object, incoming: Incoming) -> Outcome:
        if next(failures, False):
            raise RuntimeError(f"{BOOM}: {incoming.text}")  # as if an error quoted the words
        return dispatch(session, incoming)  # type: ignore[arg-type]

    monkeypatch.setattr(world.core, "_dispatch", fails_once)
    words = "what I wrote when it broke"
    apology = await world.say(ANA, "Ana", words, expect="Incident")
    assert APOLOGY in apology
    incident = apology.split("(Incident ", 1)[1].split(",", 1)[0]
    logged = "\n".join(r.getMessage() for r in debug_logs.records)
    assert "Bot API endpoint `sendMessage`" in logged  # the library's DEBUG records are here
    assert f"incident {incident}" in logged and "RuntimeError" in logged
    assert BOOM not in logged
    assert words not in logged

    await world.say(ANA, "Ana", "what I wrote next", expect="Saved privately")
    assert world.replies_of(ANA) == ["what I wrote next"]
    assert count(world.fake.texts(ANA), APOLOGY) == 1


# --- 8. two messages at once ------------------------------------------------------------------


async def test_two_messages_sent_together_are_each_kept_once_with_their_own_number(
    world: World,
) -> None:
    await practice(world, ANA, "Ana")
    before = len(world.fake.sent(ANA))
    world.fake.message(ANA, "Ana", "one thing at once")
    world.fake.message(ANA, "Ana", "and another at the same moment")
    await world.fake.wait_for(lambda: count(world.fake.texts(ANA)[before:], "Saved privately") >= 2)
    await world.settled()
    answers = world.fake.texts(ANA)[before:]
    assert (
        len(answers) == 2 and count(answers, "reply #1.") == 1 and count(answers, "reply #2.") == 1
    )
    assert sorted(world.replies_of(ANA)) == ["and another at the same moment", "one thing at once"]


# --- 9. a share whose notice cannot be sent at once ------------------------------------------


async def test_a_share_whose_notice_fails_once_is_retried_and_arrives_once(world: World) -> None:
    await pair(world)
    await world.say(ANA, "Ana", THOUGHT, expect="Saved privately")
    world.fake.failures[BEN] = [(502, "Bad Gateway", None)]
    await world.say(ANA, "Ana", "/share 1", expect="Shared reply #1 with Ben")

    def notice_attempts() -> int:
        return sum(
            c.method == "sendMessage"
            and int(c.params["chat_id"]) == BEN
            and THOUGHT in c.params.get("text", "")
            for c in world.fake.calls
        )

    await world.fake.wait_for(lambda: notice_attempts() == 1)
    await world.flush()  # once the background send has recorded its failure
    assert count(world.fake.texts(BEN), THOUGHT) == 0

    world.clock.advance(backoff(1) + timedelta(seconds=1))
    await world.tick()
    assert count(world.fake.texts(BEN), THOUGHT) == 1
    assert "No answer is expected" in world.last_text(BEN)
    world.clock.advance(timedelta(hours=1))
    await world.tick()
    assert count(world.fake.texts(BEN), THOUGHT) == 1 and notice_attempts() == 2
