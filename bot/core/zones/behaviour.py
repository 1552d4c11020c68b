"""How a zone keeps time through a year, which is what makes two zones the same for the bot.

Places in different IANA zones often keep the same time all year (Berlin and Paris): they
are never a question to ask, and a region or an offset is offered one zone per behaviour.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache


@cache
def behaviour(zone: str, year: int) -> tuple[timedelta | None, ...]:
    """The zone's offsets through `year`: two zones alike in this are alike for the bot."""
    info = zoneinfo.ZoneInfo(zone)
    instants = (
        datetime(year, month, day, 12, tzinfo=UTC) for month in range(1, 13) for day in (1, 15)
    )
    return tuple(instant.astimezone(info).utcoffset() for instant in instants)
