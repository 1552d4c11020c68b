"""What one person can learn about another through the bot: nothing they were not given.

An old invite code says nothing about its maker, codes cannot be guessed, a workshop counts
only its own members and shows small counts as "fewer than 3" to administrators alone, and a
reply that got the safety note is shared only when its author confirms.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.core.couples import CODE_DOES_NOT_WORK
from bot.core.messages import PracticeCard
from db.models import Person
from tests.harness import Harness

GROUP = "-100777"
OTHER_GROUP = "-100888"


def _code(answer: str) -> str:
    found = re.search(r"code is ([A-Z0-9-]+)\.", answer)
    assert found is not None, answer
    return found.group(1)


def test_a_spent_code_says_nothing_about_the_person_who_made_it(bot: Harness) -> None:
    for who in ("ana", "ben", "cy", "dee", "fif", "eve"):
        bot.onboard(who)
    used = _code(bot.say("ana", "/pair"))
    assert "paired with Ana" in bot.say("ben", f"/join {used}")
    maker_paired = _code(bot.say("cy", "/pair"))
    assert "paired with Dee" in bot.say("cy", f"/join {_code(bot.say('dee', '/pair'))}")
    expired = _code(bot.say("fif", "/pair"))
    answers = {
        "used": bot.say("eve", f"/join {used}"),
        "maker paired": bot.say("eve", f"/join {maker_paired}"),
        "never made": bot.say("eve", "/join QQQ-QQQ"),
    }
    bot.clock.advance(timedelta(hours=49))
    answers["expired"] = bot.say("eve", f"/join {expired}")
    for case, answer in answers.items():
        assert answer == CODE_DOES_NOT_WORK, case
    assert "paired" not in CODE_DOES_NOT_WORK and "used" not in CODE_DOES_NOT_WORK


def test_failed_codes_are_limited_per_person(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("eve")
    good = _code(bot.say("ana", "/pair"))
    for guess in ("AAA-AAA", "CCC-CCC", "DDD-DDD", "EEE-EEE", "FFF-FFF"):
        assert bot.say("eve", f"/join {guess}") == CODE_DOES_NOT_WORK
    refused = bot.say("eve", f"/join {good}")
    assert "5 codes that didn't work" in refused and "Try again in 60 minutes" in refused
    bot.clock.advance(timedelta(minutes=59))
    assert "Try again in 1 minute," in bot.say("eve", f"/join {good}")
    bot.clock.advance(timedelta(minutes=1))
    assert "paired with Ana" in bot.say("eve", f"/join {good}")


def test_a_typo_then_the_right_code_pairs_and_clears_the_count(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    good = _code(bot.say("ana", "/pair"))
    assert bot.say("ben", "/join K7P-3QX") == CODE_DOES_NOT_WORK
    assert "paired with Ana" in bot.say("ben", f"/join {good.lower()}")
    with bot.core.db.transaction() as session:
        ben = session.scalar(select(Person).where(Person.platform_user_id == "ben"))
        assert ben is not None and ben.failed_joins == 0


def _post(bot: Harness, chat: str) -> str:
    """Start a workshop in `chat` and post its first day; the post's reference."""
    bot.say_in_group("fay", chat, "/workshop start lighten-up", admin=True)
    bot.run_until(bot.clock.now() + timedelta(days=1), step=timedelta(minutes=30))
    posts = [m for to, m in bot.messenger.sent if to == chat and isinstance(m, PracticeCard)]
    (button,) = [b for row in posts[0].buttons for b in row]
    return button.action.removeprefix("/reply ")


def test_only_members_of_the_group_are_counted(bot: Harness) -> None:
    post = _post(bot, GROUP)
    for member in ("mia", "leo", "kai"):
        bot.join_group(member, GROUP)
    bot.join_group("zed", OTHER_GROUP)

    refused = bot.say("zed", f"/start {post}")
    assert "couldn't confirm you're a member" in refused
    # Words written with the reference are kept all the same, as a note no group counts.
    kept = bot.say("zed", f"/reply {post} counting myself in")
    assert "couldn't confirm" in kept and "private note" in kept
    assert "counting myself in" in bot.say("zed", "/journal")
    assert "fewer than 3 people replied" in bot.say_in_group(
        "fay", GROUP, "/workshop status", admin=True
    )

    assert "next message" in bot.say("mia", f"/start {post}")
    assert "Nobody in the group sees it" in bot.say("mia", "a first thought")
    assert "Saved privately" in bot.say("leo", f"/reply {post} a second thought")
    assert "fewer than 3 people replied" in bot.say_in_group(
        "fay", GROUP, "/workshop status", admin=True
    )
    bot.say("kai", f"/reply {post} a third thought")
    status = bot.say_in_group("fay", GROUP, "/workshop status", admin=True)
    assert "Day 1" in status and "3 people replied" in status


def test_workshop_counts_are_for_administrators_alone(bot: Harness) -> None:
    post = _post(bot, GROUP)
    bot.join_group("mia", GROUP)
    bot.say("mia", f"/reply {post} only for me")
    refused = bot.say_in_group("mia", GROUP, "/workshop status")
    assert "Only this chat's administrators" in refused and "people replied" not in refused
    # The administrator's answer is marked for them alone (Telegram sends it privately).
    bot.say_in_group("fay", GROUP, "/workshop status", admin=True)
    (answer,) = bot.last_outcome.replies
    assert bot.last_outcome.private and "fewer than 3" in answer.body  # type: ignore[union-attr]


def test_a_reply_that_got_the_safety_note_is_shared_only_after_confirming(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    bot.say("ana", "/today")
    note = bot.say("ana", "I am scared of my husband when he drinks")
    assert "safety note" in note and "only you can read it" in note
    assert "findahelpline.com" in note
    asked = bot.say("ana", "/share 1")
    assert "Before it goes to Ben" in asked and "Type yes to share it" in asked
    assert "scared of my husband" not in "\n".join(bot.messenger.texts_for("ben"))
    assert "Kept reply #1 private" in bot.say("ana", "no")
    bot.say("ana", "/share 1")
    assert "Shared reply #1 with Ben" in bot.say("ana", "yes")
    assert any("scared of my husband" in t for t in bot.messenger.texts_for("ben"))


def test_a_button_confirms_sharing_too(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    bot.say("ana", "/today")
    bot.say("ana", "he pushed me against the wall last night")
    bot.say("ana", "/share")
    (question,) = bot.last_outcome.replies
    actions = [b.action for row in question.buttons for b in row]  # type: ignore[union-attr]
    assert actions == ["/share 1 yes", "/share 1 no"]
    assert "Shared reply #1" in bot.say("ana", "/share 1 yes")


def test_closed_messages_are_explained_only_to_the_person(bot: Harness) -> None:
    bot.onboard("ana", time="07:00")
    from bot.core.ports import RecipientGone

    bot.fail_for("ana", RecipientGone("discord 50007"))
    bot.run_until(bot.clock.now() + timedelta(days=1))
    with bot.core.db.transaction() as session:
        ana = session.scalar(select(Person).where(Person.platform_user_id == "ana"))
        assert ana is not None and ana.unreachable
    # Nothing was posted anywhere on her behalf.
    assert all(to == "ana" for to, _ in bot.messenger.sent)
    bot.heal("ana")
    answer = bot.say("ana", "/journal", in_channel=True)
    assert answer.startswith("I couldn't reach you by direct message")
    assert "couldn't reach you" not in bot.say("ana", "/journal", in_channel=True)
