"""Reading a time zone the way people write it, and asking when what they wrote has more
than one meaning.

People rarely type IANA names. They write a city ("Mumbai", "Portland, Maine"), a country
("India"), an abbreviation ("EST", "IST") or an offset ("GMT+2", "+5:30"). Each has a trap,
and a module of its own here: `places` (a city name in several zones), `abbreviations` (a
fixed offset in IANA, and often several places) and `offsets` (no summer time, and IANA's
opposite sign). `reading` tries them in turn and answers with the types of `answers`;
`suggestions` names what a misspelt name was probably meant to be, `names` holds the IANA
names and the zone question's regions, and `location` reads a shared location.

`load_places` loads the city data at start-up, outside any transaction; the location
lookup is loaded the first time a location arrives (`load_location_lookup`).
"""

from bot.core.zones.answers import Ask, Choice, Found
from bot.core.zones.folding import fold
from bot.core.zones.location import load_location_lookup, zone_at
from bot.core.zones.names import ZONE_REGIONS, zone_choices
from bot.core.zones.places import load_places
from bot.core.zones.reading import is_zone, parse_zone, read_zone

__all__ = [
    "ZONE_REGIONS",
    "Ask",
    "Choice",
    "Found",
    "fold",
    "is_zone",
    "load_location_lookup",
    "load_places",
    "parse_zone",
    "read_zone",
    "zone_at",
    "zone_choices",
]
