"""Every word kept, privately, exactly once: the cases people hit, typed as they typed them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.core.clock import ManualClock
from bot.core.context import Incoming
from bot.core.crypto import owner_tag
from bot.core.messages import Text
from bot.core.ports import Switchboard
from bot.core.service import Core
from bot.core.ticker import Ticker
from db.models import Person, Reply
from tests.harness import PLATFORM, FakeMessenger, Harness

THOUGHT = "i felt a bit shy about it, then glad we tried"


def replies_of(bot: Harness, who: str) -> list[str]:
    with bot.core.db.transaction() as session:
        person = session.scalar(select(Person).where(Person.platform_user_id == who))
        assert person is not None
        rows = session.scalars(
            select(Reply).where(Reply.person_id == person.id).order_by(Reply.number)
        ).all()
        return [bot.core.ctx.cipher.decrypt(r.ciphertext, owner=owner_tag(person.id)) for r in rows]


def settings_of(bot: Harness, who: str) -> tuple[str, str, int, str]:
    with bot.core.db.transaction() as session:
        p = session.scalar(select(Person).where(Person.platform_user_id == who))
        assert p is not None
        return p.local_time, p.timezone, p.weekdays, p.themes


def half_onboarded(bot: Harness, who: str) -> None:
    """/start, agree, a time and a zone; the days question is still open."""
    bot.say(who, "/start")
    bot.say(who, "/start agree")
    bot.say(who, "7:30")
    assert "Which days" in bot.say(who, "Europe/Berlin")


@pytest.mark.parametrize("command", ["/today", "/pair"])
def test_leaving_onboarding_by_a_command_finishes_it_with_defaults_and_keeps_the_reply(
    bot: Harness, command: str
) -> None:
    half_onboarded(bot, "ana")
    answer = bot.say("ana", command)
    assert "You're set up" in answer and "days: every day" in answer and "/settings" in answer
    if command == "/pair":
        bot.say("ana", "/today")
    saved = bot.say("ana", THOUGHT)
    assert "Saved privately" in saved and "isn't a day" not in saved
    assert replies_of(bot, "ana") == [THOUGHT]
    assert settings_of(bot, "ana")[:2] == ("07:30", "Europe/Berlin")
    assert "Your next practice comes" in bot.say("ana", "/settings")


@pytest.mark.parametrize("word", ["playfulness", "Paris", "daily", "7pm"])
def test_a_reply_that_happens_to_parse_as_a_setting_is_a_reply(bot: Harness, word: str) -> None:
    half_onboarded(bot, "ana")
    bot.say("ana", "/today")
    before = settings_of(bot, "ana")
    assert "Saved privately" in bot.say("ana", word)
    assert replies_of(bot, "ana") == [word]
    assert settings_of(bot, "ana") == before


def test_a_reply_while_forget_asks_to_confirm_is_kept_and_the_question_stays(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    bot.say("ana", "/forget")
    answer = bot.say("ana", THOUGHT)
    assert "Saved privately" in answer and "Nothing was deleted" in answer
    assert "still open" in answer
    assert replies_of(bot, "ana") == [THOUGHT]
    assert "Kept. Nothing was deleted" in bot.say("ana", "no")
    assert replies_of(bot, "ana") == [THOUGHT]


def test_a_bare_yes_after_forget_deletes_and_no_keeps(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/forget")
    assert "Kept" in bot.say("ana", "No")
    bot.say("ana", "/forget")
    assert "everything the bot held about you is deleted" in bot.say("ana", "yes")
    with bot.core.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_forget_is_not_confirmed_by_a_yes_after_something_else_happened(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    bot.say("ana", "/forget")
    bot.say("ana", "/journal")
    assert "Saved privately" in bot.say("ana", "yes")
    assert replies_of(bot, "ana") == ["yes"]


def test_a_workshop_member_who_never_started_keeps_every_message(bot: Harness) -> None:
    bot.say_in_group("fay", "-100", "/workshop start lighten-up 05:01 UTC", admin=True)
    bot.clock.advance(timedelta(minutes=2))
    bot.tick()
    post_id = next(
        m.buttons[0][0].action.removeprefix("/reply ")
        for to, m in bot.messenger.sent
        if to == "-100"  # type: ignore[union-attr]
    )
    bot.join_group("mia", "-100")
    assert "next message" in bot.say("mia", f"/start {post_id}")
    assert "Nobody in the group sees it" in bot.say("mia", "first thought")
    second = bot.say("mia", "and a second one, a minute later")
    assert "Nobody in the group sees it" in second and "I agree" not in second
    assert replies_of(bot, "mia") == ["first thought", "and a second one, a minute later"]
    status = bot.say_in_group("fay", "-100", "/workshop status", admin=True)
    assert "fewer than 3 people replied" in status


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/skip #²", "no longer in your history"),
        ("/skip #99999999999999999999", "no longer in your history"),
        ("/share ①", "Type /share NUMBER"),
        ("/journal 99999999999999999999", "/journal 2 for older ones"),
        ("/journal ²", "/journal 2 for older ones"),
        ("/start ws-⁹", "doesn't lead to a workshop practice"),
        ("/reply ws-99999999999999999999", "no longer exists"),
        ("/delete 99999999999999999999", "Type /delete NUMBER"),
        ("/undo ③", "Type /undo NUMBER"),
        ("/pause ⁵", "number of days"),
    ],
)
def test_odd_numbers_get_a_sentence_not_a_traceback(bot: Harness, line: str, expected: str) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    bot.say("ana", "/today")
    assert expected in bot.say("ana", line)


def test_a_lone_surrogate_and_control_characters_are_kept_as_readable_text(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    assert "Saved privately" in bot.say("ana", "half \ud83d an emoji\x00 and a bell\x07")
    assert replies_of(bot, "ana") == ["half \ufffd an emoji and a bell"]


def test_a_display_name_with_a_nul_byte_is_stored_clean(bot: Harness) -> None:
    outcome = bot.core.handle_sync(Incoming(PLATFORM, "nul", "Ro\x00sa\n", "/start"))
    assert "Shall we begin" in outcome.replies[0].body  # type: ignore[union-attr]
    with bot.core.db.transaction() as session:
        person = session.scalar(select(Person).where(Person.platform_user_id == "nul"))
        assert person is not None and person.display_name == "Rosa"


def test_reply_with_a_hash_word_or_the_text_on_the_next_line_keeps_every_word(
    bot: Harness,
) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    assert "Saved privately" in bot.say("ana", "/reply #grateful for the walk")
    assert "Saved privately" in bot.say("ana", "/reply\nthe text on the next line\nand another")
    assert replies_of(bot, "ana") == [
        "#grateful for the walk",
        "the text on the next line\nand another",
    ]


@pytest.mark.parametrize("nod", ["thanks", "ok", "Thank you!", "👍", "🙏🙏", "\x1b[A", "\x1bOB"])
def test_a_nod_or_a_stray_key_after_a_practice_is_not_a_reply(bot: Harness, nod: str) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    answer = bot.say("ana", nod)
    assert "Saved privately" not in answer
    assert replies_of(bot, "ana") == []


def test_a_nod_can_still_be_kept_by_its_button(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    assert "acknowledgement" in bot.say("ana", "thanks")
    (button,) = [b for m in bot.last_replies for row in m.buttons for b in row]  # type: ignore[union-attr]
    assert "Saved privately" in bot.say("ana", button.action)
    assert replies_of(bot, "ana") == ["thanks"]


def test_undo_right_after_saving_and_delete_one_reply_later(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    bot.say("ana", "a first thought")
    bot.say("ana", "a thought I regret at once")
    (undo,) = [b for m in bot.last_replies for row in m.buttons for b in row]  # type: ignore[union-attr]
    assert undo.label == "Undo"
    assert "Deleted reply #2" in bot.say("ana", undo.action)
    bot.say("ana", "a third thought")
    assert replies_of(bot, "ana") == ["a first thought", "a third thought"]
    assert "/delete" in bot.say("ana", "/journal")
    bot.clock.advance(timedelta(hours=1))
    assert "/delete 1" in bot.say("ana", "/undo 1")
    question = bot.say("ana", "/delete 1")
    assert "Delete reply #1" in question and "a first thought" in question
    assert "Deleted reply #1" in bot.say("ana", "yes")
    assert replies_of(bot, "ana") == ["a third thought"]
    # Numbers are never reused: the next reply is #4, not #2 or #3.
    assert "#4" in bot.say("ana", "a fourth")


def test_text_with_no_practice_at_all_is_kept_as_a_note_and_the_question_stays(
    bot: Harness,
) -> None:
    bot.say("ana", "/start")
    bot.say("ana", "/start agree")
    answer = bot.say("ana", "not sure what time suits me, evenings are chaos with the kids")
    assert "private note" in answer and "Still open: what time of day" in answer
    assert replies_of(bot, "ana") == [
        "not sure what time suits me, evenings are chaos with the kids"
    ]
    assert "Which time zone" in bot.say("ana", "9pm")


def test_a_short_miss_at_a_question_is_explained_and_can_be_kept(bot: Harness) -> None:
    bot.say("ana", "/start")
    bot.say("ana", "/start agree")
    answer = bot.say("ana", "25:00")
    assert "isn't a time of day" in answer and "What time of day" in answer
    keep = [b for m in bot.last_replies for row in m.buttons for b in row if "journal" in b.label]  # type: ignore[union-attr]
    assert keep and "kept it as a private note" in bot.say("ana", keep[0].action)
    assert replies_of(bot, "ana") == ["25:00"]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("/start agree", "already agreed"),
        ("/settings themes done", "Themes:"),
        ("/forget no", "Kept"),
        ("/delete 7 yes", "no reply #7"),
        ("/undo", "nothing to undo"),
        ("/settings zone Europe", "pick a city"),
        ("/skip #1", "Skipped"),
    ],
)
def test_every_old_button_works_or_says_why_not(bot: Harness, action: str, expected: str) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    assert expected in bot.say("ana", action)


def test_a_share_made_while_the_partners_platform_is_down_arrives_once_it_is_up(
    core: Core, clock: ManualClock
) -> None:
    """Ana is on this platform; Bob's adapter ("later") is still starting."""
    loop = asyncio.new_event_loop()
    here, later = FakeMessenger(), FakeMessenger(platform="later")
    switchboard = Switchboard([here])
    ticker = Ticker(core, switchboard)

    def say(platform: str, who: str, text: str) -> str:
        outcome = core.handle_sync(Incoming(platform, who, who.title(), text))
        if outcome.sends_queued:
            loop.run_until_complete(ticker.flush())
        return "\n".join(m.body for m in outcome.replies if isinstance(m, Text))

    try:
        for platform, who in ((PLATFORM, "ana"), ("later", "bob")):
            for line in ("/start", "/start agree", "07:00", "UTC", "daily", "core"):
                say(platform, who, line)
        code = say(PLATFORM, "ana", "/pair").split("code is ", 1)[1].split(".", 1)[0]
        assert "paired with Ana" in say("later", "bob", f"/join {code}")
        assert any("Bob joined you" in t for t in here.texts_for("ana"))
        say("later", "bob", "/today")
        say("later", "bob", "a thought for Ana, when she's ready")
        assert "Shared reply #1 with Ana" in say("later", "bob", "/share")
        say(PLATFORM, "ana", "/today")
        say(PLATFORM, "ana", "a thought for Bob")
        assert "Shared reply #1 with Bob" in say(PLATFORM, "ana", "/share")
        assert later.sent == []
        loop.run_until_complete(ticker.tick())
        assert later.sent == []  # still down: nothing lost, nothing sent

        async def come_up() -> None:  # the adapter registers once it is connected
            switchboard.register(later)
            for _ in range(200):  # the register alone has it sent, in the background
                if later.sent:
                    break
                await asyncio.sleep(0.025)
            assert later.sent, "registering the platform sends what waited for it"
            await ticker.flush()  # once that send is over

        loop.run_until_complete(come_up())
        texts = later.texts_for("bob")
        assert sum("a thought for Bob" in t for t in texts) == 1
        loop.run_until_complete(ticker.tick())
        assert len(later.texts_for("bob")) == len(texts)
    finally:
        loop.close()


def test_a_paste_too_long_for_any_platform_is_refused_in_one_sentence(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    assert "Nothing was saved: please send it in a few pieces" in bot.say("ana", "x" * 50_000)
    assert replies_of(bot, "ana") == []


def test_a_reply_form_naming_a_workshop_practice_keeps_later_messages_with_it(
    bot: Harness,
) -> None:
    """Discord's reply form sends `/reply ws-N TEXT`; the next plain message belongs there too."""
    bot.say_in_group("fay", "-100", "/workshop start lighten-up 05:01 UTC", admin=True)
    bot.clock.advance(timedelta(minutes=2))
    bot.tick()
    (post_action,) = [
        b.action
        for to, m in bot.messenger.sent
        if to == "-100"
        for row in m.buttons  # type: ignore[union-attr]
        for b in row
    ]
    bot.join_group("mia", "-100")
    assert "Nobody in the group" in bot.say("mia", f"{post_action} first thought")
    assert "Nobody in the group" in bot.say("mia", "and a second one, a moment later")
    with bot.core.db.transaction() as session:
        posts = session.scalars(select(Reply.workshop_post_id).order_by(Reply.number)).all()
    assert len(posts) == 2 and posts[0] is not None and posts[0] == posts[1]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("/today I loved yesterday's one", "I loved yesterday's one"),
        ("/stop we're travelling for a month", "we're travelling for a month"),
        ("/skip #1 too tired tonight, sorry", "too tired tonight, sorry"),
        ("/skip #1\non the next line", "on the next line"),
        ("/skip not today, it's been a long day", "not today, it's been a long day"),
    ],
)
def test_words_written_after_a_command_that_takes_none_are_kept(
    bot: Harness, line: str, words: str
) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    answer = bot.say("ana", line)
    assert "Saved privately" in answer
    assert replies_of(bot, "ana") == [words]


def test_words_after_today_before_agreeing_are_kept_as_a_note(bot: Harness) -> None:
    answer = bot.say("ana", "/today I have been meaning to try this")
    assert "Shall we begin" in answer and "private note" in answer
    assert replies_of(bot, "ana") == ["I have been meaning to try this"]
