"""The zone of a shared location (a Telegram location message), looked up offline.

timezonefinder takes half a second to load and only location messages need it, so it is
loaded the first time a location arrives, before that message's transaction.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder


@cache
def _finder() -> TimezoneFinder:
    from timezonefinder import TimezoneFinder  # half a second to load: only when needed

    return TimezoneFinder()


def zone_at(latitude: float, longitude: float) -> str | None:
    """The zone of a point on land, looked up offline; None at sea or off the map."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return _finder().timezone_at_land(lat=latitude, lng=longitude)


def load_location_lookup() -> None:
    """Load the location lookup now, outside any transaction: it is slow the first time."""
    _finder()
