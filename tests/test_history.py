"""/history: recent practices to read again, reply to, or bring back after a skip; a reply
goes to the practice the person chose, in storage, in the export and in what a partner is
told."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.adapters.discord.render import ActionMenu, views_for
from bot.core.messages import Document, PracticeCard, Text
from db.models import Delivery, Person, Reply
from tests.harness import Harness

START = datetime(2026, 11, 23, 6, 59, tzinfo=UTC)  # a Monday; practices come at 07:00 UTC


def days_of_practice(bot: Harness, days: int, *names: str) -> None:
    """`days` daily practices for each person (onboarded at 07:00 UTC), one a morning."""
    bot.clock.set(START)
    for name in names:
        bot.onboard(name)
    # Six-hour steps: each practice goes out within hours of 07:00, and the test stays fast.
    bot.run_until(START + timedelta(days=days - 1, hours=1), step=timedelta(hours=6))
    for name in names:
        assert len(bot.messenger.cards_for(name)) == days, name


def card(bot: Harness, who: str, day: date) -> PracticeCard:
    (found,) = [c for c in bot.messenger.cards_for(who) if c.practice_date == day]
    return found


def buttons(bot: Harness) -> dict[str, str]:
    """The last answer's buttons, label → action."""
    return {
        b.label: b.action
        for m in bot.last_replies
        if isinstance(m, Text)
        for row in m.buttons
        for b in row
    }


def replies_of(bot: Harness, who: str) -> list[Reply]:
    with bot.core.db.transaction() as session:
        person = session.scalar(select(Person).where(Person.platform_user_id == who))
        assert person is not None
        return list(
            session.scalars(
                select(Reply).where(Reply.person_id == person.id).order_by(Reply.number)
            )
        )


def status_of(bot: Harness, delivery_id: int | None) -> str:
    with bot.core.db.transaction() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        return delivery.status


def test_history_lists_recent_practices_newest_first_with_their_state(bot: Harness) -> None:
    days_of_practice(bot, 4, "ana")
    monday, tuesday, wednesday, thursday = (date(2026, 11, 23) + timedelta(d) for d in range(4))
    bot.say("ana", f"/reply #{card(bot, 'ana', tuesday).delivery_id} walked without phones")
    bot.say("ana", f"/skip #{card(bot, 'ana', wednesday).delivery_id}")

    listing = bot.say("ana", "/history")
    lines = listing.splitlines()[1:]
    assert [line.split(" · ")[0] for line in lines] == [
        "Thu 26 Nov",
        "Wed 25 Nov",
        "Tue 24 Nov",
        "Mon 23 Nov",
    ]
    titles = [card(bot, "ana", day).practice.title for day in (thursday, wednesday, tuesday)]
    assert lines[0] == f"Thu 26 Nov · “{titles[0]}” · not answered yet"
    assert lines[1] == f"Wed 25 Nov · “{titles[1]}” · skipped"
    assert lines[2] == f"Tue 24 Nov · “{titles[2]}” · replied"
    offered = buttons(bot)
    assert offered["Reply Mon 23 Nov"] == f"/reply #{card(bot, 'ana', monday).delivery_id}"
    assert "Bring back Wed 25 Nov" in offered and "Reply Wed 25 Nov" not in offered
    assert "Bring back Thu 26 Nov" not in offered and "Older" not in offered
    assert "/history" in bot.say("ana", "/help")


def test_a_skipped_practice_is_brought_back_and_then_takes_a_reply(bot: Harness) -> None:
    days_of_practice(bot, 3, "ana")
    skipped = card(bot, "ana", date(2026, 11, 24))
    assert "/history brings it back" in bot.say("ana", f"/skip #{skipped.delivery_id}")
    assert status_of(bot, skipped.delivery_id) == "skipped"

    bot.say("ana", "/history")
    answer = bot.say("ana", buttons(bot)["Bring back Tue 24 Nov"])
    assert "no longer skipped" in answer and skipped.practice.title in answer
    assert status_of(bot, skipped.delivery_id) == "sent"
    assert "Tue 24 Nov" in bot.say("ana", "/history") and "· skipped" not in bot.say(
        "ana", "/history"
    )
    assert "Reply Tue 24 Nov" in buttons(bot)

    saved = bot.say("ana", "I came back to this one after all")
    assert f"“{skipped.practice.title}” of Tuesday 24 November" in saved
    (reply,) = replies_of(bot, "ana")
    assert reply.delivery_id == skipped.delivery_id
    assert reply.practice_id == skipped.practice.id

    again = bot.say("ana", f"/history back #{skipped.delivery_id}")
    assert "isn't skipped, so there's nothing to bring back" in again


def test_a_reply_to_a_practice_three_days_ago_lands_there_and_the_partner_sees_which(
    bot: Harness,
) -> None:
    bot.clock.set(START)
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    bot.run_until(START + timedelta(days=3, hours=1), step=timedelta(hours=6))
    older, newest = card(bot, "ana", date(2026, 11, 23)), card(bot, "ana", date(2026, 11, 26))
    assert older.practice.id != newest.practice.id

    bot.say("ana", "/history")
    prompt = bot.say("ana", buttons(bot)["Reply Mon 23 Nov"])
    assert f"Write your reply to “{older.practice.title}” of Monday 23 November" in prompt
    saved = bot.say("ana", "We did it on the stairs, laughing")
    assert f"“{older.practice.title}” of Monday 23 November" in saved
    (reply,) = replies_of(bot, "ana")
    assert (reply.delivery_id, reply.practice_id) == (older.delivery_id, older.practice.id)
    assert "replied" in bot.say("ana", "/history").splitlines()[-1]

    bot.say("ana", "/share 1")
    (told,) = [t for t in bot.messenger.texts_for("ben") if "shared a reply" in t]
    assert f"about “{older.practice.title}” (the practice of Monday 23 November)" in told
    assert "Mon 23 Nov · " in bot.say("ana", "/history") and "replied, shared" in bot.say(
        "ana", "/history"
    )

    bot.say("ana", "/export")
    data: dict[str, Any] = json.loads(
        next(
            m for m in bot.last_replies if isinstance(m, Document) and m.filename.endswith("json")
        ).data.decode()
    )
    (exported,) = data["replies"]
    assert exported["practice_id"] == older.practice.id
    assert exported["practice_date"] == "2026-11-23"
    journal = next(
        m for m in bot.last_replies if isinstance(m, Document) and m.filename.endswith(".md")
    )
    assert "A reply to the practice of Monday 23 November 2026" in journal.data.decode()

    # Free text after the reply still goes to the chosen practice, until a newer one is shown.
    bot.say("ana", "and one more thought")
    assert {r.delivery_id for r in replies_of(bot, "ana")} == {older.delivery_id}
    bot.say("ana", "/today")
    bot.say("ana", "about today now")
    assert replies_of(bot, "ana")[-1].delivery_id == newest.delivery_id


def test_reread_shows_the_card_again_and_what_follows_replies_to_it(bot: Harness) -> None:
    days_of_practice(bot, 3, "ana")
    older = card(bot, "ana", date(2026, 11, 24))
    bot.say("ana", f"/skip #{older.delivery_id}")
    bot.say("ana", "/history")
    bot.say("ana", buttons(bot)["Reread Tue 24 Nov"])
    (shown,) = bot.last_replies
    assert isinstance(shown, PracticeCard) and shown.practice.id == older.practice.id
    assert "Tuesday 24 November, again" in shown.intro and "You skipped it" in shown.intro
    actions = {b.label: b.action for row in shown.buttons for b in row}
    assert actions["Bring back"] == f"/history back #{older.delivery_id}"
    assert "Snooze 1 h" not in actions and "Skip" not in actions  # not today's, and skipped

    bot.say("ana", "reading it again, it lands differently")
    (reply,) = replies_of(bot, "ana")
    assert reply.delivery_id == older.delivery_id


def test_every_wrong_use_gets_one_clear_sentence(bot: Harness) -> None:
    days_of_practice(bot, 2, "ana", "ben")
    bens = card(bot, "ben", date(2026, 11, 24)).delivery_id
    anas = card(bot, "ana", date(2026, 11, 24)).delivery_id
    wrong = {
        "/history reread": "Which practice?",
        "/history back": "Which practice?",
        "/history reread tuesday": "“tuesday” doesn't name a practice",
        f"/history reread #{bens}": f"I can't find practice #{bens} among yours",
        f"/history back #{bens}": f"I can't find practice #{bens} among yours",
        "/history reread #99999999999999999999": "doesn't name a practice",
        f"/history back #{anas}": "isn't skipped, so there's nothing to bring back",
        "/history 3": "no older practices in the last two weeks",
        "/history soon": "Type /history for your practices of the last two weeks",
        "/history 0": "Type /history for your practices of the last two weeks",
    }
    for line, sentence in wrong.items():
        assert sentence in bot.say("ana", line), line
    assert status_of(bot, bens) == "sent"
    assert replies_of(bot, "ana") == []

    bot.clock.advance(timedelta(days=14))  # Monday's practice is now more than two weeks old
    monday = card(bot, "ana", date(2026, 11, 23)).delivery_id
    too_old = bot.say("ana", f"/history reread #{monday}")
    assert "Monday 23 November, more than two weeks ago" in too_old and "/journal" in too_old
    assert "no practices in the last two weeks" in bot.say("ana", "/history")


def test_two_weeks_come_as_two_pages_and_work_as_discord_menus(bot: Harness) -> None:
    days_of_practice(bot, 9, "ana")
    first = bot.say("ana", "/history")
    assert len(first.splitlines()) == 1 + 7 + 2 and "Older ones: /history 2" in first
    offered = buttons(bot)
    assert offered["Older"] == "/history 2" and "Newer" not in offered
    second = bot.say("ana", "/history 2")
    assert second.splitlines()[1:] and "Tue 24 Nov" in second and "Mon 23 Nov" in second
    assert buttons(bot)["Newer"] == "/history 1"

    # On Discord, more than five rows of buttons become a menu: every action still there,
    # each option saying which practice it acts on.
    bot.say("ana", "/history")
    (message,) = bot.last_replies
    assert isinstance(message, Text) and len(message.buttons) > 5
    (view,) = views_for(message.buttons)
    (menu,) = [item for item in view.children if isinstance(item, ActionMenu)]
    options = menu.item.options
    actions = [b.action for row in message.buttons for b in row]
    assert [o.value for o in options] == actions
    assert len({o.label for o in options}) == len(options)
    reread = next(o.value for o in options if o.label == "Reread Sat 28 Nov")
    bot.say("ana", reread)
    (shown,) = bot.last_replies
    assert isinstance(shown, PracticeCard) and shown.practice_date == date(2026, 11, 28)
