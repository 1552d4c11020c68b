"""Local times become the right UTC instants, on daylight-saving days too."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.schedule import local_instant, next_occurrence


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected_utc"),
    [
        # Spring forward: 02:30 does not exist, the first valid minute after it is 03:00.
        ("America/New_York", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), datetime(2026, 3, 29, 1, 0)),
        # Lord Howe moves only 30 minutes: 02:00-02:29 do not exist.
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), datetime(2026, 10, 3, 15, 30)),
        # Fall back: 01:30 happens twice; the first one is used.
        ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30)),
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30)),
        ("Australia/Lord_Howe", date(2026, 4, 5), time(1, 45), datetime(2026, 4, 4, 14, 45)),
        # +05:45 all year.
        ("Asia/Kathmandu", date(2026, 6, 1), time(7, 0), datetime(2026, 6, 1, 1, 15)),
        # An ordinary day.
        ("Europe/Berlin", date(2026, 11, 23), time(19, 0), datetime(2026, 11, 23, 18, 0)),
    ],
)
def test_local_instant(zone: str, day: date, at: time, expected_utc: datetime) -> None:
    assert local_instant(day, at, ZoneInfo(zone)) == expected_utc.replace(tzinfo=UTC)


def test_next_occurrence_respects_weekdays_and_not_before() -> None:
    zone = ZoneInfo("Europe/Berlin")
    # Monday 23 Nov 2026 at 20:00 Berlin: 19:00 has passed, weekdays only.
    after = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    weekdays = frozenset(range(5))
    found = next_occurrence(
        zone=zone, at=time(19), weekdays=weekdays, from_date=date(2026, 11, 23), not_before=after
    )
    assert found is not None and found.practice_date == date(2026, 11, 24)
    friday = next_occurrence(
        zone=zone, at=time(19), weekdays=weekdays, from_date=date(2026, 11, 28), not_before=None
    )
    assert friday is not None and friday.practice_date == date(2026, 11, 30)  # skips sat/sun
    assert (
        next_occurrence(zone=zone, at=time(19), weekdays=frozenset(), from_date=date(2026, 11, 23))
        is None
    )
