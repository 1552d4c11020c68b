"""What people type for times, days and themes is understood, or answered helpfully.

Time zones have their own tests, in test_zones.py."""

from datetime import time

import pytest

from bot.core.catalog import Theme
from bot.core.parsing import InputError, parse_days, parse_themes, parse_time


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("7:30", time(7, 30)),
        ("07:30", time(7, 30)),
        ("19:00", time(19, 0)),
        ("7pm", time(19, 0)),
        ("7 PM", time(19, 0)),
        ("7:30 am", time(7, 30)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("7.45", time(7, 45)),
        ("noon", time(12, 0)),
        ("0", time(0, 0)),
    ],
)
def test_common_time_forms_are_accepted(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize("typed", ["25:00", "24:00", "7:60", "13pm", "soon", "", "7:3"])
def test_impossible_times_are_refused_with_examples(typed: str) -> None:
    with pytest.raises(InputError) as error:
        parse_time(typed)
    assert "7pm" in str(error.value)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("daily", set(range(7))),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("sat,sun", {5, 6}),
        ("Weekends", {5, 6}),
        ("mon, wed-fri", {0, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("tuesday thursday", {1, 3}),
    ],
)
def test_days(typed: str, expected: set[int]) -> None:
    assert parse_days(typed) == expected


def test_unknown_day_is_named() -> None:
    with pytest.raises(InputError, match="“someday” isn't a day"):
        parse_days("mon,someday")


def test_themes_by_name_alias_and_group() -> None:
    assert parse_themes("playfulness,individuality") == (Theme.INDIVIDUALITY, Theme.PLAYFULNESS)
    assert parse_themes("all") == tuple(Theme)
    assert parse_themes("self reflection") == (Theme.SELF_REFLECTION,)
    with pytest.raises(InputError, match="isn't a theme"):
        parse_themes("romance")
