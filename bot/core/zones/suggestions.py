"""Close names for a misspelt city, country or zone, so an unknown zone is answered with
what the person probably meant, or with an example when nothing is close."""

from __future__ import annotations

import difflib

from bot.core.zones.answers import join_or
from bot.core.zones.folding import fold
from bot.core.zones.names import iana_names
from bot.core.zones.places import known_places


def unknown_zone(typed: str) -> str:
    """The sentence for a zone not known: close names when there are some, else examples."""
    shown = typed if len(typed) <= 40 else typed[:40] + "…"
    suggestions = suggest(typed)
    if suggestions:
        return f"I don't know the time zone “{shown}”. Did you mean {join_or(suggestions)}?"
    return (
        f"I don't know the time zone “{shown}”: type a city (Berlin), a zone name "
        "(America/New_York) or an offset (UTC+2)."
    )


def suggest(typed: str, limit: int = 2) -> list[str]:
    """Close names for a misspelt city, country or zone, closest first; none rather than
    a far-fetched one."""
    folded = fold(typed)
    if not 3 <= len(folded) <= 40:
        return []
    if "/" in folded:
        names = {name.casefold(): name for name in iana_names().values()}
        close = difflib.get_close_matches(folded.replace(" ", "_"), names, limit, 0.8)
        return [names[name] for name in close]
    spread, cutoff = (1, 0.85) if len(folded) <= 5 else (2, 0.8)
    by_length = known_places().suggestions()
    matcher = difflib.SequenceMatcher(b=folded)
    scored: list[tuple[float, int, str]] = []
    for length in range(len(folded) - spread, len(folded) + spread + 1):
        for name, display in by_length.get(length, []):
            matcher.set_seq1(name)
            if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
                continue
            ratio = matcher.ratio()
            if ratio >= cutoff:
                scored.append((-ratio, len(scored), display))
    return [display for _, _, display in sorted(scored)[:limit]]
