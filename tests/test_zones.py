"""Time zones as people type them: cities, abbreviations, offsets and a shared location.

At commit 347445d only IANA names worked: Mumbai was refused with "Cuba or Asia/Dubai",
Delhi with "Australia/LHI", EST and MST were taken as fixed offsets (a New Yorker an hour
off all summer) and GMT+2 suggested Etc/GMT+2, which is UTC-2.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.catalog import Catalog
from bot.core.crypto import ReplyCipher
from bot.core.messages import Text
from bot.core.parsing import InputError
from bot.core.zones import Ask, Found, parse_zone, read_zone
from tests.harness import Harness
from tests.telegram_world import ANA, BEN, World, running_world

# The tests' clock: a Monday in November, when Europe and North America keep winter time.
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
JULY = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)


def asked(text: str, now: datetime = NOW) -> Ask:
    reading = read_zone(text, now)
    assert isinstance(reading, Ask), f"{text!r} was read as {reading}, not asked about"
    return reading


def zones_offered(reading: Ask) -> list[str]:
    return [choice.zone for choice in reading.choices]


# --- what is read, without a database ---------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("San Francisco", "America/Los_Angeles"),
        ("Munich", "Europe/Berlin"),
        ("Mumbai", "Asia/Kolkata"),
        ("Delhi", "Asia/Kolkata"),
        ("Beijing", "Asia/Shanghai"),
        ("Cape Town", "Africa/Johannesburg"),
        ("  cape   town ", "Africa/Johannesburg"),
        ("München", "Europe/Berlin"),
        ("Bombay", "Asia/Kolkata"),
        ("St. Petersburg", "Europe/Moscow"),
        ("Portland, Maine", "America/New_York"),
        ("Portland, ME", "America/New_York"),
        ("portland oregon", "America/Los_Angeles"),
        ("Paris", "Europe/Paris"),
        ("Paris, Texas", "America/Chicago"),
        ("London, Ontario", "America/Toronto"),
        ("Kansas City", "America/Chicago"),  # in Missouri and Kansas, one zone: no question
        ("India", "Asia/Kolkata"),
        ("Germany", "Europe/Berlin"),
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("america/new york", "America/New_York"),
        ("UTC", "UTC"),
        ("lord howe", "Australia/Lord_Howe"),  # too small for the city list, an IANA city
    ],
)
def test_places_as_people_write_them(typed: str, zone: str) -> None:
    assert parse_zone(typed, NOW) == zone


def test_a_city_says_which_place_it_was_read_as() -> None:
    assert read_zone("Mumbai", NOW) == Found("Asia/Kolkata", place="Mumbai, India")
    london = read_zone("London", NOW)
    assert isinstance(london, Found) and london.zone == "Europe/London"
    assert london.other == "London, Ontario"  # too small to ask about, but named


def test_a_name_in_two_zones_is_a_short_choice_largest_first() -> None:
    portland = asked("Portland")
    assert portland.question == "Portland, Oregon or Portland, Maine?"
    assert zones_offered(portland) == ["America/Los_Angeles", "America/New_York"]
    assert "Portland, Maine" in portland.sentence  # where no question can be asked
    springfield = asked("Springfield")
    assert len(springfield.choices) <= 4
    assert springfield.choices[0].label == "Springfield, Missouri"


def test_a_city_not_in_the_place_named_says_where_it_is() -> None:
    with pytest.raises(InputError) as error:
        read_zone("Paris, Germany", NOW)
    assert "I know Paris in France or Texas, not in Germany" in str(error.value)


@pytest.mark.parametrize(
    ("typed", "zone", "alternative"),
    [
        ("EST", "America/New_York", "America/Panama"),
        ("MST", "America/Denver", "America/Phoenix"),
        ("PST", "America/Los_Angeles", "Asia/Manila"),
        ("CET", "Europe/Berlin", "Africa/Algiers"),
    ],
)
def test_an_abbreviation_is_confirmed_never_taken_as_a_fixed_offset(
    typed: str, zone: str, alternative: str
) -> None:
    reading = asked(typed)
    assert f"By {typed} do you mean" in reading.question
    assert f"({zone}), which moves with summer time?" in reading.question
    first, *others = reading.choices
    assert first.label.startswith("Yes, ") and first.zone == zone
    assert alternative in [choice.zone for choice in others]
    assert reading.choices[-1].zone == ""  # "No, another zone" asks again
    assert typed not in zones_offered(reading)  # the fixed-offset IANA zone of that name


def test_mst_offers_phoenix_without_summer_time() -> None:
    phoenix = next(c for c in asked("MST").choices if c.zone == "America/Phoenix")
    assert phoenix.label == "Phoenix time (no summer time)"


def test_an_abbreviation_of_several_places_is_a_choice() -> None:
    ist = asked("IST")
    assert ist.question == "By IST do you mean India time, Ireland time or Israel time?"
    assert zones_offered(ist) == ["Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"]
    cst = asked("cst")
    assert zones_offered(cst)[:3] == ["America/Chicago", "Asia/Shanghai", "America/Havana"]
    assert not any(c.label.startswith("Yes") for c in (*ist.choices, *cst.choices))


@pytest.mark.parametrize("typed", ["GMT+2", "UTC+2", "utc +2", "+2", "+02:00", "+0200"])
def test_utc_plus_two_offers_the_zones_at_utc_plus_two_now(typed: str) -> None:
    reading = asked(typed)
    *places, fixed = reading.choices
    assert fixed.label == "UTC+2 all year" and fixed.zone == "Etc/GMT-2"
    assert places, "the places at that offset come first"
    for zone in zones_offered(reading):
        assert NOW.astimezone(ZoneInfo(zone)).utcoffset() == timedelta(hours=2), zone


def test_utc_minus_three_is_three_hours_behind() -> None:
    reading = asked("utc -3")
    assert reading.choices[-1].zone == "Etc/GMT+3"
    for zone in zones_offered(reading):
        assert NOW.astimezone(ZoneInfo(zone)).utcoffset() == timedelta(hours=-3), zone


@pytest.mark.parametrize("typed", ["+5:30", "UTC+5:30", "+0530", "GMT+05:30"])
def test_a_half_hour_offset_with_one_kind_of_zone_is_that_zone(typed: str) -> None:
    assert read_zone(typed, NOW) == Found("Asia/Kolkata", place="UTC+5:30")


def test_a_half_hour_offset_offers_only_real_zones() -> None:
    reading = asked("+9:30", JULY)  # Adelaide (winter there) and Darwin
    assert zones_offered(reading) == ["Australia/Adelaide", "Australia/Darwin"]
    assert "all year" not in reading.question


def test_an_offset_no_clock_keeps_is_refused_in_one_sentence() -> None:
    with pytest.raises(InputError, match="UTC\\+15 is not a time anywhere"):
        read_zone("GMT+15", NOW)


@pytest.mark.parametrize("typed", ["Mars", "asdfgh", "7pm", "blah blah"])
def test_unknown_input_gets_one_sentence_without_far_fetched_guesses(typed: str) -> None:
    with pytest.raises(InputError) as error:
        read_zone(typed, NOW)
    message = str(error.value)
    assert message.startswith(f"I don't know the time zone “{typed}”: type a city")
    assert "Did you mean" not in message and message.count(".") == 1


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("Berln", "Did you mean Berlin (Europe/Berlin)"),
        ("Kathmandoo", "Did you mean Kathmandu (Asia/Kathmandu)"),
        ("Europe/Berln", "Did you mean Europe/Berlin"),
    ],
)
def test_a_misspelt_name_gets_close_suggestions(typed: str, suggestion: str) -> None:
    with pytest.raises(InputError, match=suggestion.replace("(", "\\(").replace(")", "\\)")):
        read_zone(typed, NOW)


def test_where_no_question_can_be_asked_the_choices_are_named() -> None:
    with pytest.raises(InputError) as error:
        parse_zone("IST", NOW)
    assert "India time (Asia/Kolkata)" in str(error.value)
    assert "Israel time (Asia/Jerusalem)" in str(error.value)


# --- typed to the bot ---------------------------------------------------------------------


def buttons(bot: Harness) -> list[tuple[str, str]]:
    return [
        (button.label, button.action)
        for message in bot.last_replies
        if isinstance(message, Text)
        for row in message.buttons
        for button in row
    ]


def zone_of(bot: Harness, who: str) -> str:
    settings = bot.say(who, "/settings")
    return settings.split("Time zone: ", 1)[1].split("\n", 1)[0]


@pytest.mark.parametrize(
    ("city", "zone", "local"),
    [
        ("Mumbai", "Asia/Kolkata", "10:30"),
        ("San Francisco", "America/Los_Angeles", "21:00"),
        ("Cape Town", "Africa/Johannesburg", "07:00"),
    ],
)
def test_settings_zone_with_a_city(bot: Harness, city: str, zone: str, local: str) -> None:
    bot.onboard("ana")
    answer = bot.say("ana", f"/settings zone {city}")
    assert answer.startswith(f"Time zone set to {zone}, for {city}"), answer
    assert f"(it is {local} there now)" in answer
    assert zone_of(bot, "ana") == zone


def test_answering_the_zone_question_during_start_with_a_city(bot: Harness) -> None:
    bot.say("ana", "/start")
    bot.say("ana", "yes")
    assert "Which time zone" in bot.say("ana", "7:30")
    answer = bot.say("ana", "Munich")
    assert "Time zone set to Europe/Berlin, for Munich, Germany" in answer
    assert "Which days" in answer
    bot.say("ana", "daily")
    assert "all set" in bot.say("ana", "core")
    assert zone_of(bot, "ana") == "Europe/Berlin"


def test_portland_during_start_asks_which_and_maine_answers(bot: Harness) -> None:
    bot.say("ana", "/start")
    bot.say("ana", "yes")
    bot.say("ana", "7:30")
    assert bot.say("ana", "Portland") == "Portland, Oregon or Portland, Maine?"
    assert buttons(bot) == [
        ("Portland, Oregon", "/settings zone America/Los_Angeles"),
        ("Portland, Maine", "/settings zone America/New_York"),
    ]
    answer = bot.say("ana", "Maine")
    assert "Time zone set to America/New_York" in answer and "Which days" in answer


def test_portland_choice_by_button_after_onboarding(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/settings zone portland")
    answer = bot.say("ana", "/settings zone America/Los_Angeles")  # the Oregon button
    assert "Time zone set to America/Los_Angeles" in answer
    assert "Which days" not in answer  # set up already: nothing more is asked
    assert "Time zone set to America/New_York, for Portland, Maine" in bot.say(
        "ana", "/settings zone Portland, Maine"
    )


def test_est_is_confirmed_and_yes_sets_new_york_time(bot: Harness) -> None:
    bot.onboard("ana")
    question = bot.say("ana", "/settings zone EST")
    assert question == (
        "By EST do you mean New York time (America/New_York), which moves with summer time?"
    )
    assert buttons(bot)[0] == ("Yes, New York time", "/settings zone America/New_York")
    assert buttons(bot)[-1] == ("No, another zone", "/settings zone")
    assert zone_of(bot, "ana") == "UTC"  # nothing set before the answer
    bot.say("ana", "/settings zone EST")
    answer = bot.say("ana", "yes")
    assert "Time zone set to America/New_York, for New York time (it is 00:00" in answer
    assert zone_of(bot, "ana") == "America/New_York"


def test_no_to_an_abbreviation_asks_the_zone_question_again(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/settings zone PST")
    answer = bot.say("ana", "no")
    assert "Which time zone are you in?" in answer
    assert "Time zone set to America/Los_Angeles" in bot.say("ana", "San Francisco")


def test_mst_answered_with_phoenix(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/settings zone MST")
    assert "Time zone set to America/Phoenix" in bot.say("ana", "phoenix")


def test_ist_is_a_choice_and_yes_is_not_an_answer_to_it(bot: Harness) -> None:
    bot.onboard("ana")
    assert "India time, Ireland time or Israel time" in bot.say("ana", "/settings zone IST")
    again = bot.say("ana", "yes")
    assert again.startswith("Which one? Tap it, or type your city")
    assert "Which of these is your time zone?" in again
    labels = [label for label, _ in buttons(bot)]
    assert labels[-3:] == ["India time", "Ireland time", "Israel time"]
    assert "Time zone set to Europe/Dublin" in bot.say("ana", "Ireland")


def test_cet_confirmed_sets_berlin_time(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/settings zone CET")
    assert "Time zone set to Europe/Berlin" in bot.say("ana", "1")


def test_gmt_plus_two_offers_utc_plus_two_with_the_right_sign(bot: Harness) -> None:
    bot.onboard("ana")
    question = bot.say("ana", "/settings zone GMT+2")
    assert question.startswith("UTC+2 is the time now in ")
    assert buttons(bot)[-1] == ("UTC+2 all year", "/settings zone Etc/GMT-2")
    answer = bot.say("ana", "/settings zone Etc/GMT-2")  # the last button
    assert "(it is 07:00 there now)" in answer  # 05:00 UTC + 2


def test_half_hour_offset_typed_during_start(bot: Harness) -> None:
    bot.say("ana", "/start")
    bot.say("ana", "yes")
    bot.say("ana", "7:30")
    answer = bot.say("ana", "+5:30")
    assert "Time zone set to Asia/Kolkata, for UTC+5:30 (it is 10:30 there now)" in answer


def test_an_unknown_zone_is_one_sentence_and_the_question_again(bot: Harness) -> None:
    bot.say("ana", "/start")
    bot.say("ana", "yes")
    bot.say("ana", "7:30")
    answer = bot.say("ana", "Mars")
    assert answer.startswith("I don't know the time zone “Mars”: type a city (Berlin)")
    assert "Which time zone are you in?" in answer
    assert "Did you mean" not in answer


def test_words_while_a_zone_choice_is_open_are_kept_and_the_choice_stays(bot: Harness) -> None:
    bot.onboard("ana")
    bot.say("ana", "/settings zone Portland")
    answer = bot.say("ana", "we moved last spring and I still forget which coast I am on")
    assert "private note" in answer
    assert "Still open: which of these is your time zone?" in answer
    assert "Time zone set to America/New_York" in bot.say("ana", "maine")


def test_the_workshop_command_takes_the_same_zones(bot: Harness) -> None:
    started = bot.say_in_group("fay", "g1", "/workshop start 19:00 Mumbai", admin=True)
    assert "at 19:00 (Asia/Kolkata)" in started
    bot.say_in_group("fay", "g1", "/workshop stop", admin=True)
    portland = bot.say_in_group(
        "fay", "g1", "/workshop start lighten-up 19:00 Portland, Maine", admin=True
    )
    assert "at 19:00 (America/New_York)" in portland


def test_the_workshop_command_names_the_choices_it_cannot_ask(bot: Harness) -> None:
    answer = bot.say_in_group("fay", "g1", "/workshop start lighten-up 19:00 EST", admin=True)
    assert "New York time (America/New_York)" in answer and "Panama" in answer
    assert "is on" not in answer and "program" not in answer
    assert "is on" not in bot.say_in_group("fay", "g1", "/workshop start 8:00 Portland", admin=True)
    assert "No workshop has run here yet" in bot.say_in_group(
        "fay", "g1", "/workshop status", admin=True
    )


# --- a location shared on Telegram --------------------------------------------------------


@pytest.fixture
async def world(tmp_path: Path, catalog: Catalog, cipher: ReplyCipher) -> AsyncIterator[World]:
    async with running_world(tmp_path, catalog, cipher) as running:
        yield running


async def share_location(world: World, user: int, latitude: float, longitude: float) -> str:
    before = len(world.fake.sent(user))
    world.fake.location(user, "Ana", latitude, longitude)
    await world.fake.wait_for(lambda: len(world.fake.sent(user)) > before)
    await world.settled()
    return "\n".join(world.fake.texts(user)[before:])


async def test_a_shared_location_sets_the_zone_and_is_not_kept(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await world.say(ANA, "Ana", "/start", expect="Shall we begin")
    await world.say(ANA, "Ana", "yes", expect="What time")
    await world.say(ANA, "Ana", "7:30", expect="Which time zone")
    offer = world.fake.sent(ANA)[-1]
    assert "Share my location" in offer["text"]
    [button] = world.fake.buttons(offer, "keyboard")
    assert button["text"] == "Share my location" and button["request_location"] is True

    answer = await share_location(world, ANA, 52.5163, 13.3777)  # Berlin
    assert (
        "Your time zone is now Europe/Berlin, from the location you shared. The location "
        "itself was not kept." in answer
    )
    assert "Which days" in answer
    confirmation = next(p for p in world.fake.sent(ANA) if "from the location" in p["text"])
    assert world.fake.removes_keyboard(confirmation)  # the location button goes away
    person = world.person(ANA)
    assert person is not None and person.timezone == "Europe/Berlin"
    stored = repr({c.name: getattr(person, c.name) for c in person.__table__.columns})
    assert "52.51" not in stored and "13.37" not in stored
    assert "52.51" not in caplog.text and "13.37" not in caplog.text


async def test_a_location_at_sea_or_before_start_changes_nothing(world: World) -> None:
    before_start = await share_location(world, BEN, 48.8566, 2.3522)
    assert "Type /start to begin" in before_start and world.person(BEN) is None
    await world.onboard(ANA, "Ana", zone="Asia/Tokyo")
    at_sea = await share_location(world, ANA, 0.0, -150.0)  # the middle of the Pacific
    assert "I couldn't find a time zone at the location you shared" in at_sea
    person = world.person(ANA)
    assert person is not None and person.timezone == "Asia/Tokyo"
