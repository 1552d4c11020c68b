"""Onboarding, help and mistakes, as a person typing would meet them."""

from __future__ import annotations

from bot.core.command_help import Style, usage
from bot.core.commands import COMMANDS
from tests.harness import Harness


def test_onboarding_by_typing_instead_of_tapping(bot: Harness) -> None:
    assert "Shall we begin" in bot.say("ana", "/start")
    assert "What time of day" in bot.say("ana", "yes")
    refusal = bot.say("ana", "25:00")
    assert "isn't a time of day" in refusal and "What time of day" in refusal
    assert "Which time zone" in bot.say("ana", "7:30 am")
    wrong_zone = bot.say("ana", "Berln")
    assert "Did you mean" in wrong_zone and "Europe/Berlin" in wrong_zone
    assert "Which days" in bot.say("ana", "Berlin")
    assert "Which themes" in bot.say("ana", "mon-fri")
    done = bot.say("ana", "playfulness, individuality")
    assert "all set" in done
    settings = bot.say("ana", "/settings")
    assert "07:30" in settings and "Europe/Berlin" in settings
    assert "weekdays" in settings and "Playfulness" in settings


def test_region_buttons_lead_to_cities(bot: Harness) -> None:
    bot.say("ana", "/start")
    bot.say("ana", "/start agree")
    bot.say("ana", "/settings time 7pm")
    bot.say("ana", "/settings zone Oceania")
    actions = [b.action for m in bot.last_replies for row in m.buttons for b in row]  # type: ignore[union-attr]
    assert "/settings zone Australia/Lord_Howe" in actions


def test_theme_buttons_toggle(bot: Harness) -> None:
    bot.onboard("ana")
    assert "Courage and vulnerability" in bot.say("ana", "/settings themes +courage")
    answer = bot.say("ana", "/settings themes -playfulness")
    assert "Playfulness" not in answer.split("from now")[0].split("Themes:")[1].split(".")[0]


def test_settings_typed_forms(bot: Harness) -> None:
    bot.onboard("ana")
    assert "Time set to 19:00" in bot.say("ana", "/settings time 7pm")
    assert "Europe/Berlin" in bot.say("ana", "/settings zone berlin")
    assert "sat, sun" in bot.say("ana", "/settings days sat,sun")
    assert "isn't a setting" in bot.say("ana", "/settings colour blue")
    assert "isn't a time" in bot.say("ana", "/settings time whenever")


def test_unknown_command_gets_help_and_a_suggestion(bot: Harness) -> None:
    answer = bot.say("ana", "/jurnal")
    assert "Did you mean /journal" in answer and "/help" in answer
    assert "/settings" in bot.say("ana", "/help")
    assert "/settings zone Europe/Berlin" in bot.say("ana", "/help settings")


def test_every_command_has_help_text(bot: Harness) -> None:
    for spec in COMMANDS:
        text = bot.say("ana", f"/help {spec.name}")
        shown = usage(spec, None, Style.TYPED)
        assert text.startswith(shown) and len(text) > len(shown) + 20


def test_commands_before_start_point_to_start(bot: Harness) -> None:
    assert "/start first" in bot.say("bo", "/journal")
    assert "Type /start" in bot.say("cy", "hi")
    consent_first = bot.say("ana", "/today")
    assert "Shall we begin" in consent_first and "/safety" in consent_first
    assert "Today's practice" not in consent_first
    assert "emergency" in bot.say("ana", "/safety")


def test_pause_mistakes(bot: Harness) -> None:
    bot.onboard("ana")
    assert "number of days" in bot.say("ana", "/pause soon")
    assert "1 to 365" in bot.say("ana", "/pause 0")


def test_more_and_less_need_a_practice(bot: Harness) -> None:
    bot.onboard("ana")
    assert "no recent practice" in bot.say("ana", "/more")
    bot.say("ana", "/today")
    assert "a little more" in bot.say("ana", "/more")
    assert "a little less" in bot.say("ana", "/less")


def test_an_old_button_for_someone_elses_delivery_is_refused(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.say("ana", "/today")
    assert "no longer in your history" in bot.say("ben", "/skip #1")


def test_every_button_fits_telegram_callback_data(bot: Harness) -> None:
    from bot.core.zones import ZONE_REGIONS

    bot.onboard("ana")
    bot.say("ana", "/today")
    actions = [b.action for m in bot.last_replies for row in m.buttons for b in row]  # type: ignore[union-attr]
    for region in ZONE_REGIONS:
        bot.say("ana", f"/settings zone {region}")
        actions += [b.action for m in bot.last_replies for row in m.buttons for b in row]  # type: ignore[union-attr]
    for field in ("time", "days", "themes"):
        bot.say("ana", f"/settings {field}")
        actions += [b.action for m in bot.last_replies for row in m.buttons for b in row]  # type: ignore[union-attr]
    assert len(actions) > 40
    assert all(len(action.encode()) <= 64 for action in actions)
