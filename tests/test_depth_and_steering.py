"""Depth, steering and a couple's themes, as people set them and notice them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.core.catalog import Depth, Theme
from bot.core.messages import Document, PracticeCard, Text
from tests.harness import Harness


def today(bot: Harness, who: str) -> PracticeCard:
    """`/today`, and the card it brought."""
    bot.say(who, "/today")
    (card,) = [m for m in bot.last_replies if isinstance(m, PracticeCard)]
    return card


def days_of_practices(bot: Harness, who: str, days: int, partner: str = "") -> list[PracticeCard]:
    """One practice a day for `days` days, as someone who types /today every morning."""
    cards = []
    for _ in range(days):
        cards.append(today(bot, who))
        if partner:
            assert today(bot, partner).practice == cards[-1].practice
        bot.clock.advance(timedelta(days=1))
    return cards


def settings(bot: Harness, who: str) -> str:
    return bot.say(who, "/settings")


def buttons(bot: Harness) -> set[str]:
    """What the buttons under the last answer do."""
    (shown,) = [m for m in bot.last_replies if isinstance(m, Text) and m.buttons]
    return {b.action for row in shown.buttons for b in row}


def setting_buttons(bot: Harness, who: str) -> set[str]:
    bot.say(who, "/settings")
    return buttons(bot)


# --- depth --------------------------------------------------------------------------------


def test_gentle_only_never_brings_a_deeper_or_brave_practice(bot: Harness) -> None:
    bot.onboard("ana", themes="all")
    answer = bot.say("ana", "/settings depth gentle")
    assert answer == "Depth set: gentle only."
    cards = days_of_practices(bot, "ana", 60)
    assert {c.practice.depth for c in cards} == {Depth.GENTLE}
    assert len({c.practice.id for c in cards}) == 60
    assert "Depth: gentle only" in settings(bot, "ana")


@pytest.mark.parametrize(("typed", "brave_seen"), [("all", True), ("no-brave", False)])
def test_no_brave_keeps_brave_practices_away_and_all_lets_them_come(
    bot: Harness, typed: str, brave_seen: bool
) -> None:
    bot.onboard("ana", themes="all")
    bot.say("ana", f"/settings depth {typed}")
    depths = {c.practice.depth for c in days_of_practices(bot, "ana", 45)}
    assert (Depth.BRAVE in depths) is brave_seen
    assert Depth.DEEPER in depths


def test_depth_is_offered_with_buttons_and_a_wrong_word_gets_one_sentence(bot: Harness) -> None:
    bot.onboard("ana")
    assert "/settings depth" in setting_buttons(bot, "ana")
    bot.say("ana", "/settings depth")
    assert buttons(bot) == {
        "/settings depth all",
        "/settings depth no-brave",
        "/settings depth gentle",
    }
    assert bot.say("ana", "/settings depth deep") == (
        "Depth is all (as you go, brave ones included), no-brave or gentle, for example "
        "/settings depth no-brave."
    )
    assert bot.say("ana", "/settings depth No Brave") == "Depth set: no brave practices."


def test_for_a_couple_the_stricter_choice_applies_and_both_are_told(bot: Harness) -> None:
    bot.onboard("ana", themes="all")
    bot.onboard("ben", themes="all")
    bot.say("ana", "/settings depth gentle")
    bot.say("ben", "/settings depth all")
    bot.pair("ana", "ben")
    assert "Depth together: gentle only (Ana's choice; for a couple the stricter choice " in (
        settings(bot, "ben")
    )
    assert "Depth together: gentle only (your choice;" in settings(bot, "ana")
    cards = days_of_practices(bot, "ben", 40, partner="ana")
    assert {c.practice.depth for c in cards} == {Depth.GENTLE}


# --- steering -----------------------------------------------------------------------------


def test_a_tap_moves_steering_once_per_card_and_switching_undoes_it(bot: Harness) -> None:
    bot.onboard("ana", themes="playfulness")
    card = today(bot, "ana")
    assert "Steering: none" in settings(bot, "ana")
    first = bot.say("ana", f"/more #{card.delivery_id}")
    assert first.startswith("Noted: a little more playfulness from now on.")
    assert "Your steering now: A little more playfulness." in first
    again = bot.say("ana", f"/more #{card.delivery_id}")
    assert again.startswith("Already noted for this practice: a little more playfulness.")
    assert "Steering: A little more playfulness" in settings(bot, "ana")

    bot.say("ana", f"/less #{card.delivery_id}")
    assert "Steering: A little less playfulness" in settings(bot, "ana")

    bot.clock.advance(timedelta(days=1))
    second = today(bot, "ana")
    bot.say("ana", f"/less #{second.delivery_id}")
    assert "Steering: Less playfulness" in settings(bot, "ana")


def test_steering_is_shown_in_words_and_reset_by_command_or_button(bot: Harness) -> None:
    bot.onboard("ana", themes="all")
    seen: dict[Theme, int] = {}
    for card in days_of_practices(bot, "ana", 12):
        theme = card.practice.theme
        if seen.get(theme, 0) < 3:
            bot.say("ana", f"/more #{card.delivery_id}")
            seen[theme] = seen.get(theme, 0) + 1
    assert "/settings steering reset" in setting_buttons(bot, "ana")
    shown = settings(bot, "ana").split("Steering: ", 1)[1].split("\n", 1)[0]
    for theme, taps in seen.items():
        size = {1: "a little more", 2: "more", 3: "much more"}[taps]
        assert f"{size} {theme.label.lower()}" in shown.lower()

    assert bot.say("ana", "/settings steering reset") == (
        "Steering reset: every theme you get is drawn evenly again."
    )
    assert "Steering: none" in settings(bot, "ana")
    assert "/settings steering reset" not in setting_buttons(bot, "ana")
    # After a reset a card's tap counts again, once.
    card = today(bot, "ana")
    bot.say("ana", f"/more #{card.delivery_id}")
    bot.say("ana", f"/more #{card.delivery_id}")
    theme = card.practice.theme.label.lower()
    assert f"Steering: A little more {theme}" in settings(bot, "ana")


# --- a couple's themes --------------------------------------------------------------------


def pair_and_read(bot: Harness, inviter: str, joiner: str) -> tuple[str, str]:
    """(what the joiner is told, the notice the inviter gets)."""
    code = bot.say(inviter, "/pair").split("code is ", 1)[1].split(".", 1)[0]
    told = bot.say(joiner, f"/join {code}")
    return told, bot.messenger.texts_for(inviter)[-1]


def test_a_couple_gets_the_themes_both_chose_and_is_told_so_on_pairing(bot: Harness) -> None:
    bot.onboard("ana", themes="playfulness")
    bot.onboard("ben", themes="all")
    told, notice = pair_and_read(bot, "ana", "ben")
    assert "Together with Ana you get playfulness: the theme you both chose." in told
    assert "Together with Ben you get playfulness: the theme you both chose." in notice
    assert "Together with Ana you get playfulness" in settings(bot, "ben")
    cards = days_of_practices(bot, "ana", 30, partner="ben")
    assert {c.practice.theme for c in cards} == {Theme.PLAYFULNESS}


def test_a_couple_with_no_theme_in_common_gets_both_choices(bot: Harness) -> None:
    bot.onboard("ana", themes="playfulness")
    bot.onboard("ben", themes="conflict")
    told, notice = pair_and_read(bot, "ana", "ben")
    sentence = (
        "you get playfulness and conflict as opportunity: you chose no theme in common, so "
        "both your choices count."
    )
    assert f"Together with Ana {sentence}" in told
    assert f"Together with Ben {sentence}" in notice
    cards = days_of_practices(bot, "ben", 20, partner="ana")
    assert {c.practice.theme for c in cards} == {Theme.PLAYFULNESS, Theme.CONFLICT}


def test_the_export_holds_depth_steering_and_look_back_in_words(bot: Harness) -> None:
    bot.onboard("ana", themes="playfulness")
    bot.say("ana", "/settings depth no-brave")
    bot.say("ana", "/settings lookback friday")
    bot.say("ana", f"/less #{today(bot, 'ana').delivery_id}")
    bot.say("ana", "/export")
    (data,) = [
        json.loads(m.data)
        for m in bot.last_replies
        if isinstance(m, Document) and m.data[:1] == b"{"
    ]
    assert data["settings"]["depth"] == "no brave practices"
    assert data["settings"]["steering"] == "A little less playfulness"
    assert data["settings"]["weekly_lookback"] == "Fridays, at 07:00"
    assert data["person"]["depth_limit"] == "deeper"
    assert data["person"]["lookback_weekday"] == 4
