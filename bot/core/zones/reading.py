"""Reading a time zone the way people write it: a city, a country, an abbreviation, an
offset or an IANA name.

`read_zone` tries each way in turn and answers `Found` (one zone) or `Ask` (a short
choice); anything unreadable is an `InputError` whose sentence suggests only close names,
or none. `parse_zone` and `is_zone` are for commands, which cannot ask a question.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.parsing import InputError
from bot.core.zones.abbreviations import ABBREVIATIONS
from bot.core.zones.answers import Ask, Found, Reading
from bot.core.zones.folding import fold
from bot.core.zones.names import iana_names
from bot.core.zones.offsets import at_offset, offset_minutes
from bot.core.zones.places import known_places
from bot.core.zones.suggestions import unknown_zone

# Words people answer questions with, which are also the other name of some town ("yes" is
# Yasuj's airport code, "no" a name of Ho, "time" a town in Norway): never a place here.
_NOT_PLACES = frozenset(
    {"yes", "no", "ok", "okay", "sure", "yep", "yeah", "nope", "the", "time", "done", "help"}
)


def read_zone(text: str, now: datetime) -> Reading:
    """What `text` means as a time zone at `now` (which zones are at an offset depends on it)."""
    typed = " ".join(text.split())
    if not typed:
        raise InputError(
            "Tell me a time zone: a city (Berlin), a zone name (America/New_York) or an "
            "offset (UTC+2)."
        )
    folded = fold(typed)
    if folded in {"utc", "z", "zulu"}:
        return Found("UTC")
    abbreviation = ABBREVIATIONS.get(folded)
    if abbreviation is not None:
        return abbreviation.reading(typed, now.year)
    offset = offset_minutes(typed)
    if offset is not None:
        return at_offset(offset, now)
    iana = iana_names().get(folded.replace(" ", "_"))
    if iana is not None:
        return Found(iana)
    found = None if folded in _NOT_PLACES else known_places().read(typed, now.year)
    if found is not None:
        return found
    raise InputError(unknown_zone(typed))


def parse_zone(text: str, now: datetime | None = None) -> str:
    """The zone `text` names, where no question can be asked: a text with several
    meanings is refused with the sentence naming them."""
    reading = read_zone(text, now or datetime.now(UTC))
    if isinstance(reading, Ask):
        raise InputError(reading.sentence)
    return reading.zone


def is_zone(text: str, now: datetime | None = None) -> bool:
    """Whether `text` reads as a time zone, one that needs a choice included."""
    try:
        read_zone(text, now or datetime.now(UTC))
    except InputError:
        return False
    return True
