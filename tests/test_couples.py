"""Pairing by invite code, with one clear sentence for every way it can go wrong."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import Harness


def code_from(answer: str) -> str:
    return answer.split("code is ", 1)[1].split(".", 1)[0]


def test_codes_are_short_and_free_of_look_alike_characters(bot: Harness) -> None:
    bot.onboard("ana")
    for _ in range(20):
        code = code_from(bot.say("ana", "/pair"))
        assert len(code) == 7 and code[3] == "-"
        assert not set(code) & set("0O1IL5S2Z8B")


def test_join_pairs_both_and_tells_the_inviter(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    code = code_from(bot.say("ana", "/pair"))
    answer = bot.say("ben", f"/join {code.lower().replace('-', '')}")
    assert "You're paired with Ana" in answer
    assert any("Ben joined you" in t for t in bot.messenger.texts_for("ana"))


def test_joining_yourself_is_refused(bot: Harness) -> None:
    bot.onboard("ana")
    code = code_from(bot.say("ana", "/pair"))
    assert "your own invite code" in bot.say("ana", f"/join {code}")


def test_used_expired_and_unknown_codes(bot: Harness) -> None:
    for who in ("ana", "ben", "cat"):
        bot.onboard(who)
    code = code_from(bot.say("ana", "/pair"))
    bot.say("ben", f"/join {code}")
    assert "doesn't work" in bot.say("cat", f"/join {code}")
    assert "doesn't work" in bot.say("cat", "/join QQQ-QQQ")
    assert "Type the code" in bot.say("cat", "/join")
    bot.onboard("dan")
    old = code_from(bot.say("dan", "/pair"))
    bot.clock.advance(timedelta(hours=48, seconds=1))
    assert "doesn't work" in bot.say("cat", f"/join {old}")


def test_a_new_code_replaces_the_old_one(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    old = code_from(bot.say("ana", "/pair"))
    new = code_from(bot.say("ana", "/pair"))
    assert "doesn't work" in bot.say("ben", f"/join {old}")
    assert "paired with" in bot.say("ben", f"/join {new}")


def test_nobody_can_be_in_two_couples(bot: Harness) -> None:
    for who in ("ana", "ben", "cat"):
        bot.onboard(who)
    bot.pair("ana", "ben")
    assert "already paired with Ben" in bot.say("ana", "/pair")
    cat_code = code_from(bot.say("cat", "/pair"))
    assert "already paired" in bot.say("ben", f"/join {cat_code}")
    bot.say("ana", "/unpair")
    assert "paired with Cat" in bot.say("ben", f"/join {cat_code}")


def test_unpair_tells_the_partner_only_that_it_ended(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    bot.say("ana", "/today")
    bot.say("ana", "Something private about Ben")
    assert "pairing has ended" in bot.say("ana", "/unpair")
    last = bot.messenger.texts_for("ben")[-1]
    assert last == "Your pairing has ended."
    assert "not paired" in bot.say("ben", "/unpair")
