"""Private replies: stored encrypted, shown only to their author, shared only by choice."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from bot.core.messages import Document
from db.models import Person, ReceivedShare, Reply
from tests.harness import Harness

SECRET = "I felt oddly jealous of the plan, and proud of them"


def test_a_plain_message_after_a_practice_is_a_private_reply(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    answer = bot.say("ana", SECRET)
    assert "Saved privately" in answer and "#1" in answer
    assert SECRET in bot.say("ana", "/journal")


def test_reply_text_is_encrypted_at_rest(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    bot.say("ana", SECRET)
    with bot.core.db.transaction() as session:
        (blob,) = session.scalars(select(Reply.ciphertext)).all()
    assert SECRET.encode() not in blob
    assert b"jealous" not in blob


def test_reply_button_then_message_attaches_to_that_practice(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    (card,) = [m for m in bot.last_replies]
    prompt = bot.say("ana", f"/reply #{card.delivery_id}")  # type: ignore[union-attr]
    assert "next message" in prompt
    assert "Saved privately" in bot.say("ana", "short and true")


def test_reply_to_an_older_practice_message_attaches_to_it(bot: Harness) -> None:
    from datetime import UTC, datetime

    bot.clock.set(datetime(2026, 11, 23, 6, 59, tzinfo=UTC))
    bot.onboard("ana")
    bot.run_until(datetime(2026, 11, 24, 7, 5, tzinfo=UTC))
    first, second = bot.messenger.cards_for("ana")
    bot.say("ana", "about the first one", reply_to="m1")
    journal = bot.say("ana", "/journal")
    assert first.practice.title in journal and second.practice.title not in journal


def test_an_empty_reply_is_not_saved_and_an_oversized_one_is_kept_whole_in_parts(
    bot: Harness,
) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    assert "nothing was saved" in bot.say("ana", "   ")
    assert "Your journal is empty" in bot.say("ana", "/journal")
    long_text = "\n".join(f"line {n} " + "x" * 90 for n in range(60))
    answer = bot.say("ana", long_text)
    assert "in 2 parts" in answer and "#1 and #2" in answer
    journal = bot.say("ana", "/journal")
    assert all(f"line {n} " in journal for n in range(60))


def test_a_reply_with_no_practice_to_attach_to_is_kept_as_a_note(bot: Harness) -> None:
    bot.onboard("ana")
    answer = bot.say("ana", "hello there, a thought before any practice")
    assert "kept it as a private note" in answer and "#1" in answer
    assert "a thought before any practice" in bot.say("ana", "/journal")


def test_share_reaches_the_partner_with_no_answer_expected(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    bot.say("ana", "/today")
    bot.say("ana", SECRET)
    assert SECRET not in "\n".join(bot.messenger.texts_for("ben"))
    assert "Shared reply #1 with Ben" in bot.say("ana", "/share")
    received = bot.messenger.texts_for("ben")[-1]
    assert SECRET in received and "No answer is expected" in received
    assert "already shared" in bot.say("ana", "/share 1")
    assert SECRET in bot.say("ben", "/journal")


def test_sharing_needs_a_partner_and_an_existing_reply(bot: Harness) -> None:
    bot.onboard("ana")
    assert "not paired" in bot.say("ana", "/share")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    assert "no replies yet" in bot.say("ana", "/share")
    assert "no reply #7" in bot.say("ana", "/share 7")


def test_export_holds_everything_and_forget_deletes_it_but_keeps_shared_gifts(
    bot: Harness,
) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    bot.say("ana", "/today")
    bot.say("ana", SECRET)
    bot.say("ana", "a second, unshared thought")
    bot.say("ana", "/share 1")
    bot.say("ana", "/export")
    journal, document = bot.last_replies
    assert isinstance(journal, Document) and isinstance(document, Document)
    data = json.loads(document.data)
    assert [r["text"] for r in data["replies"]] == [SECRET, "a second, unshared thought"]
    assert data["settings"]["time_zone"] == "UTC"
    assert data["pairing"]["partner_display_name"] == "Ben"
    assert SECRET in journal.data.decode()

    assert "Type yes to delete everything" in bot.say("ana", "/forget")
    assert "Kept" in bot.say("ana", "never mind")
    bot.say("ana", "/forget")
    assert "deleted" in bot.say("ana", "/forget yes")
    assert bot.messenger.texts_for("ben")[-1] == "Your pairing has ended."
    with bot.core.db.transaction() as session:
        assert session.scalar(select(Person).where(Person.platform_user_id == "ana")) is None
        assert session.scalars(select(Reply)).all() == []
        (kept,) = session.scalars(select(ReceivedShare)).all()
        assert kept.from_name == "Ana"
    journal = bot.say("ben", "/journal")
    assert SECRET in journal and "unshared" not in journal
    assert "Type /start first" in bot.say("ana", "/journal")


def test_reply_text_never_reaches_the_logs(bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    bot.say("ana", "/today")
    bot.say("ana", SECRET)
    bot.say("ana", "/share")
    bot.say("ana", "/journal")
    bot.say("ana", "/export")
    assert "jealous" not in caplog.text
