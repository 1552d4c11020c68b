"""UTC offsets as people write them ("GMT+2", "utc -3", "+5:30", "+0530").

An offset does not follow summer time, and IANA writes it with the opposite sign (UTC+2 is
`Etc/GMT-2`). So the zones at that offset now are offered by their main city, with the
plain fixed offset last.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.core.parsing import InputError
from bot.core.zones.answers import MOST_CHOICES, Ask, Choice, Found, Reading, join_or
from bot.core.zones.places import known_places

_OFFSET = re.compile(
    r"(?:utc|gmt|z)?(?P<sign>[+\-−–])(?P<hours>\d{1,4})"
    r"(?:[:h](?P<minutes>\d{2})|\.(?P<fraction>5|75))?"
)
# Clocks go from UTC-12 to UTC+14.
_EARLIEST, _LATEST = -12 * 60, 14 * 60


def offset_minutes(typed: str) -> int | None:
    """Minutes east of UTC in "GMT+2", "utc -3", "UTC+5:30", "+0530", "+2"; else None."""
    match = _OFFSET.fullmatch("".join(typed.casefold().split()))
    if match is None:
        return None
    digits = match["hours"]
    if len(digits) >= 3 and match["minutes"] is None and match["fraction"] is None:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    elif len(digits) >= 3:
        return None
    else:
        hours = int(digits)
        fraction = {"5": 30, "75": 45}.get(match["fraction"] or "", 0)
        minutes = int(match["minutes"]) if match["minutes"] is not None else fraction
    if minutes >= 60:
        return None
    total = hours * 60 + minutes
    return total if match["sign"] == "+" else -total


def _offset_name(minutes: int) -> str:
    """UTC+2, UTC-3, UTC+5:30."""
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def _fixed_zone(minutes: int) -> str | None:
    """The IANA zone of a whole-hour offset, whose sign is the opposite of UTC's."""
    if minutes == 0:
        return "UTC"
    if minutes % 60:
        return None
    return f"Etc/GMT{-minutes // 60:+d}"


def at_offset(minutes: int, now: datetime) -> Reading:
    """The kinds of zone at this offset now, by their main city, and the fixed offset last."""
    name = _offset_name(minutes)
    if not _EARLIEST <= minutes <= _LATEST:
        raise InputError(
            f"{name} is not a time anywhere: clocks go from UTC-12 to UTC+14. Try your "
            "city instead, such as Berlin."
        )
    places = known_places()
    cities = places.main_cities_at(timedelta(minutes=minutes), now)[:MOST_CHOICES]
    choices = [Choice(places.label(city), city.zone) for city in cities]
    fixed = _fixed_zone(minutes)
    if fixed is not None:
        choices.append(Choice(f"{name} all year", fixed))
    if not choices:
        raise InputError(
            f"No place keeps {name} at the moment: type your city instead, such as Berlin."
        )
    if len(choices) == 1:
        return Found(choices[0].zone, place=name)
    question = (
        f"{name} is the time now in {join_or([c.label for c in choices if c.zone != fixed])}, "
        "and some places change it for summer. Which is yours?"
    )
    if fixed is not None:
        question += f" The last choice stays at {name} all year."
    sentence = (
        f"{name} does not follow summer time: type your city instead, for example "
        f"{cities[0].name}"
        + (f", or {fixed} to keep {name} all year." if fixed is not None else ".")
    )
    return Ask(question, tuple(choices), sentence)
