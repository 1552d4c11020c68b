"""When a practice is due: local wall-clock rules turned into one instant in UTC.

People choose a local time and days; the database keeps one indexed UTC instant per
recipient, so the ticker only asks "who is due by now?". All calendar subtleties
(daylight saving gaps and repeats, odd offsets such as +05:45) are settled here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MAX_GAP_MINUTES = 24 * 60


@dataclass(frozen=True)
class Occurrence:
    """A practice day (in the recipient's own calendar) and the UTC instant it is due."""

    practice_date: date
    due_at: datetime


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of `at` on `day` in `zone`.

    A time skipped by a daylight-saving change moves to the first valid minute after it;
    a time that happens twice resolves to its first occurrence, so it is used once.
    """
    naive = datetime.combine(day, at)
    for _ in range(_MAX_GAP_MINUTES):
        if _exists(naive, zone):
            return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
        naive = naive.replace(second=0, microsecond=0) + timedelta(minutes=1)
    raise ValueError(f"no valid local time near {day} {at} in {zone.key}")


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def next_occurrence(
    *,
    zone: ZoneInfo,
    at: time,
    weekdays: frozenset[int],
    from_date: date,
    not_before: datetime | None = None,
) -> Occurrence | None:
    """The first chosen day on or after `from_date` whose due instant is not before `not_before`.

    Returns None only when no weekday is chosen.
    """
    if not weekdays:
        return None
    day = from_date
    for _ in range(15):
        if day.weekday() in weekdays:
            due = local_instant(day, at, zone)
            if not_before is None or due >= not_before:
                return Occurrence(practice_date=day, due_at=due)
        day += timedelta(days=1)
    return None
