"""Time zone abbreviations (EST, IST, CET), which are never taken as they are.

In IANA an abbreviation is a fixed offset (`EST` is UTC-5 all year), while a New Yorker who
writes EST means New York time, summer time included; and some stand for several places
(IST: India, Ireland or Israel). So the person confirms the zone an abbreviation stands
for, or picks one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.zones.answers import NONE_OF_THESE, Ask, Choice, join_or
from bot.core.zones.behaviour import behaviour

# Each abbreviation (or its other names, after "|") with the zones it stands for, what
# nearly everyone means first; "?" first when there is no such meaning and the person picks.
_MEANINGS: dict[str, str] = {
    "est": "America/New_York America/Panama",
    "edt|et|eastern|eastern time": "America/New_York",
    "cst": "? America/Chicago Asia/Shanghai America/Havana America/Mexico_City",
    "cdt|ct|central|central time": "America/Chicago",
    "mst": "America/Denver America/Phoenix",
    "mdt|mt|mountain|mountain time": "America/Denver",
    "pst": "America/Los_Angeles Asia/Manila",
    "pdt|pt|pacific|pacific time": "America/Los_Angeles",
    "akst|akdt": "America/Anchorage",
    "hst": "Pacific/Honolulu",
    "ast": "? America/Halifax America/Puerto_Rico Asia/Riyadh",
    "adt": "America/Halifax",
    "nst|ndt": "America/St_Johns",
    "gmt": "? Europe/London UTC",
    "bst": "Europe/London Asia/Dhaka",
    "uk time": "Europe/London",
    "wet|west": "Europe/Lisbon",
    "cet": "Europe/Berlin Africa/Algiers",
    "cest|met|mest": "Europe/Berlin",
    "eet": "Europe/Athens Africa/Cairo Europe/Kaliningrad",
    "eest": "Europe/Athens",
    "msk": "Europe/Moscow",
    "trt": "Europe/Istanbul",
    "ist": "? Asia/Kolkata Europe/Dublin Asia/Jerusalem",
    "gst": "Asia/Dubai",
    "pkt": "Asia/Karachi",
    "npt": "Asia/Kathmandu",
    "ict": "Asia/Bangkok",
    "wib": "Asia/Jakarta",
    "wita": "Asia/Makassar",
    "wit": "Asia/Jayapura",
    "sgt": "Asia/Singapore",
    "hkt": "Asia/Hong_Kong",
    "pht|phst": "Asia/Manila",
    "jst": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "awst": "Australia/Perth",
    "acst": "Australia/Adelaide Australia/Darwin",
    "acdt": "Australia/Adelaide",
    "aest": "Australia/Sydney Australia/Brisbane",
    "aedt|aet": "Australia/Sydney",
    "nzst|nzdt|nzt": "Pacific/Auckland",
    "sast": "Africa/Johannesburg",
    "cat": "Africa/Maputo",
    "eat": "Africa/Nairobi",
    "wat": "Africa/Lagos",
    "brt": "America/Sao_Paulo",
    "art": "America/Argentina/Buenos_Aires",
}
# How each of those zones is named in a question; "New York time" for America/New_York.
_LABELS: dict[str, str] = {
    "America/Panama": "Panama and Cancún time",
    "America/Chicago": "US Central time (Chicago)",
    "Asia/Shanghai": "China time",
    "America/Havana": "Cuba time",
    "America/Mexico_City": "Mexico and Central America time",
    "Asia/Manila": "Philippine time",
    "America/Halifax": "Atlantic time (Halifax)",
    "America/Puerto_Rico": "Puerto Rico and Caribbean time",
    "Asia/Riyadh": "Arabia time",
    "America/St_Johns": "Newfoundland time",
    "Europe/London": "UK time",
    "UTC": "UTC all year",
    "Asia/Dhaka": "Bangladesh time",
    "Europe/Berlin": "Central European time",
    "Africa/Algiers": "Algeria and Tunisia time",
    "Europe/Athens": "Eastern European time",
    "Africa/Cairo": "Egypt time",
    "Asia/Kolkata": "India time",
    "Europe/Dublin": "Ireland time",
    "Asia/Jerusalem": "Israel time",
    "Asia/Dubai": "Gulf time (Dubai)",
    "Asia/Karachi": "Pakistan time",
    "Asia/Kathmandu": "Nepal time",
    "Asia/Bangkok": "Indochina time (Bangkok)",
    "Asia/Jakarta": "Western Indonesia time (Jakarta)",
    "Asia/Makassar": "Central Indonesia time (Makassar)",
    "Asia/Jayapura": "Eastern Indonesia time (Jayapura)",
    "Asia/Tokyo": "Japan time",
    "Asia/Seoul": "Korea time",
    "Pacific/Auckland": "New Zealand time",
    "Africa/Johannesburg": "South Africa time",
    "Africa/Maputo": "Central Africa time (Maputo)",
    "Africa/Nairobi": "East Africa time (Nairobi)",
    "Africa/Lagos": "West Africa time (Lagos)",
    "America/Sao_Paulo": "Brasília time (São Paulo)",
    "America/Argentina/Buenos_Aires": "Argentina time",
}


def _label(zone: str) -> str:
    return _LABELS.get(zone) or zone.rsplit("/", 1)[-1].replace("_", " ") + " time"


def _summer(zone: str, year: int) -> str:
    if len(set(behaviour(zone, year))) > 1:
        return "which moves with summer time"
    return "which stays the same all year"


@dataclass(frozen=True)
class _Abbreviation:
    """The zones an abbreviation stands for. With `usual`, the first is what nearly
    everyone means and is confirmed with a Yes; without, the person picks one."""

    zones: tuple[str, ...]
    usual: bool

    def reading(self, typed: str, year: int) -> Ask:
        shown = typed if typed.isupper() else f"“{typed}”"
        first = self.zones[0]
        if self.usual:
            question = f"By {shown} do you mean {_label(first)} ({first}), {_summer(first, year)}?"
            others = [Choice(_label(zone) + _flat(zone, year), zone) for zone in self.zones[1:]]
            choices = (Choice(f"Yes, {_label(first)}", first), *others, Choice(NONE_OF_THESE, ""))
        else:
            question = f"By {shown} do you mean {join_or([_label(z) for z in self.zones])}?"
            choices = tuple(Choice(_label(zone), zone) for zone in self.zones)
        named = join_or([f"{_label(zone)} ({zone})" for zone in self.zones])
        if len(self.zones) == 1:
            sentence = f"{shown} is not a zone of its own: for {_label(first)}, type {first}."
        else:
            sentence = (
                f"{shown} is not a zone of its own: it could mean {named}; type the zone "
                f"name, for example {first}."
            )
        return Ask(question, choices, sentence)


def _flat(zone: str, year: int) -> str:
    return " (no summer time)" if len(set(behaviour(zone, year))) == 1 else ""


def _table(rows: dict[str, str]) -> dict[str, _Abbreviation]:
    table: dict[str, _Abbreviation] = {}
    for names, zones in rows.items():
        listed = zones.split()
        entry = _Abbreviation(tuple(z for z in listed if z != "?"), usual=listed[0] != "?")
        table.update(dict.fromkeys(names.split("|"), entry))
    return table


ABBREVIATIONS = _table(_MEANINGS)
