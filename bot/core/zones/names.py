"""IANA zone names: the index a typed name is looked up in, the zone question's regions,
and the names an autocomplete menu offers.

People rarely type IANA names, but a menu that completes them as they type, and a list
of main cities by region, let them pick one without knowing how it is spelt.
"""

from __future__ import annotations

import zoneinfo
from functools import cache


@cache
def iana_names() -> dict[str, str]:
    """Lower-case name -> IANA name, for names with a region (Europe/Berlin, US/Eastern).
    The bare legacy names (EST, Cuba, Japan) are left out: they are read as the
    abbreviations and countries they are."""
    return {
        name.casefold(): name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("posix/", "right/"))
    }


# The zone question's regions, each with its main cities (buttons, and Discord's list).
ZONE_REGIONS: dict[str, tuple[str, ...]] = {
    "Europe": (
        "Europe/London",
        "Europe/Dublin",
        "Europe/Lisbon",
        "Europe/Paris",
        "Europe/Berlin",
        "Europe/Madrid",
        "Europe/Rome",
        "Europe/Warsaw",
        "Europe/Athens",
        "Europe/Kyiv",
        "Europe/Istanbul",
        "Europe/Moscow",
    ),
    "Americas": (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "America/Anchorage",
        "Pacific/Honolulu",
        "America/Toronto",
        "America/Mexico_City",
        "America/Bogota",
        "America/Lima",
        "America/Sao_Paulo",
        "America/Argentina/Buenos_Aires",
    ),
    "Asia": (
        "Asia/Dubai",
        "Asia/Karachi",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Asia/Dhaka",
        "Asia/Bangkok",
        "Asia/Jakarta",
        "Asia/Singapore",
        "Asia/Shanghai",
        "Asia/Manila",
        "Asia/Seoul",
        "Asia/Tokyo",
    ),
    "Africa": (
        "Africa/Casablanca",
        "Africa/Lagos",
        "Africa/Cairo",
        "Africa/Johannesburg",
        "Africa/Nairobi",
        "Africa/Accra",
    ),
    "Oceania": (
        "Australia/Perth",
        "Australia/Adelaide",
        "Australia/Brisbane",
        "Australia/Sydney",
        "Australia/Melbourne",
        "Australia/Lord_Howe",
        "Pacific/Auckland",
        "Pacific/Fiji",
    ),
}


@cache
def _iana_zones() -> tuple[str, ...]:
    return tuple(sorted(iana_names().values()))


def zone_choices(typed: str, limit: int = 25) -> list[str]:
    """IANA names containing what was typed, best first: for autocomplete menus."""
    wanted = typed.strip().lower().replace(" ", "_")
    if not wanted:
        return [zone for region in ZONE_REGIONS.values() for zone in region][:limit]
    starts = [n for n in _iana_zones() if n.lower().split("/")[-1].startswith(wanted)]
    contains = [n for n in _iana_zones() if wanted in n.lower() and n not in starts]
    return (starts + contains)[:limit]
