"""Turning what people type into settings, with a helpful sentence for every miss.

People write times and days in many ways ("7pm", "19:00", "mon-fri"); each parser accepts
the common forms and, when it cannot, raises `InputError` whose message tells the person
exactly what to type instead. Time zones have a module of their own, `zones`.
"""

from __future__ import annotations

import re
from datetime import time

from bot.core.catalog import CORE_THEMES, Theme


class InputError(ValueError):
    """A person's input could not be understood; `str(error)` is the sentence to show them."""


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(range(7))

_TIME = re.compile(r"^(?P<hour>\d{1,2})(?:[:.h](?P<minute>\d{2}))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)?$")


def parse_time(text: str) -> time:
    """Accept 7:30, 07:30, 19:00, 7pm, 7:30 am, 7.30, noon and midnight."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned == "noon":
        return time(12, 0)
    if cleaned == "midnight":
        return time(0, 0)
    match = _TIME.match(cleaned)
    if match is None:
        raise InputError(f"“{text.strip()}” isn't a time I can read. Try 7:30, 19:00 or 7pm.")
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    ampm = (match["ampm"] or "").replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            raise InputError(f"“{text.strip()}” mixes a 24-hour time with am/pm. Try 7pm or 19:00.")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise InputError(
            f"“{text.strip()}” isn't a time of day: hours go from 0 to 23 and minutes from "
            "0 to 59. Try 7:30, 19:00 or 7pm."
        )
    return time(hour, minute)


def format_time(value: time) -> str:
    return value.strftime("%H:%M")


_DAY_ALIASES = {
    "daily": ALL_DAYS,
    "everyday": ALL_DAYS,
    "every day": ALL_DAYS,
    "all": ALL_DAYS,
    "weekdays": frozenset(range(5)),
    "workdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
    "weekend": frozenset({5, 6}),
}


def _weekday(token: str) -> int:
    for index, name in enumerate(WEEKDAY_NAMES):
        if token[:3] == name and len(token) >= 2:
            return index
    raise InputError(
        f"“{token}” isn't a day I know. Use mon, tue, wed, thu, fri, sat, sun, ranges like "
        "mon-fri, or daily."
    )


def parse_days(text: str) -> frozenset[int]:
    """Accept daily, weekdays, weekends, mon-fri, sat,sun and mixes like mon,wed-fri."""
    cleaned = text.strip().lower()
    if cleaned in _DAY_ALIASES:
        return _DAY_ALIASES[cleaned]
    days: set[int] = set()
    for token in re.split(r"[\s,;/]+", cleaned):
        if not token:
            continue
        if "-" in token:
            first, _, last = token.partition("-")
            start, end = _weekday(first), _weekday(last)
            day = start
            days.add(day)
            while day != end:
                day = (day + 1) % 7
                days.add(day)
        elif token in _DAY_ALIASES:
            days |= _DAY_ALIASES[token]
        else:
            days.add(_weekday(token))
    if not days:
        raise InputError("Tell me which days, for example daily, mon-fri or sat,sun.")
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    if days == ALL_DAYS:
        return "every day"
    if days == frozenset(range(5)):
        return "weekdays (mon-fri)"
    if days == frozenset({5, 6}):
        return "weekends (sat, sun)"
    return ", ".join(WEEKDAY_NAMES[d] for d in sorted(days))


def days_to_mask(days: frozenset[int]) -> int:
    return sum(1 << d for d in days)


def mask_to_days(mask: int) -> frozenset[int]:
    return frozenset(d for d in range(7) if mask & (1 << d))


_THEME_ALIASES: dict[str, tuple[Theme, ...]] = {
    "all": tuple(Theme),
    "core": CORE_THEMES,
    "play": (Theme.PLAYFULNESS,),
    "playful": (Theme.PLAYFULNESS,),
    "reflection": (Theme.SELF_REFLECTION,),
    "selfreflection": (Theme.SELF_REFLECTION,),
    "self reflection": (Theme.SELF_REFLECTION,),
    "vulnerability": (Theme.COURAGE,),
    "courage and vulnerability": (Theme.COURAGE,),
    "conflict as opportunity": (Theme.CONFLICT,),
    "emotional resilience": (Theme.RESILIENCE,),
}


def parse_themes(text: str) -> tuple[Theme, ...]:
    """Accept theme names separated by commas, plus `all` and `core`."""
    chosen: list[Theme] = []
    for raw in re.split(r"[,;/]+", text.strip().lower()):
        token = raw.strip()
        if not token:
            continue
        matches = _THEME_ALIASES.get(token)
        if matches is None:
            try:
                matches = (Theme(token.replace(" ", "-")),)
            except ValueError:
                names = ", ".join(t.value for t in Theme)
                raise InputError(
                    f"“{token}” isn't a theme. Choose from {names} (or all, or core)."
                ) from None
        chosen.extend(t for t in matches if t not in chosen)
    if not chosen:
        raise InputError("Name at least one theme, for example playfulness,individuality.")
    return tuple(t for t in Theme if t in chosen)
