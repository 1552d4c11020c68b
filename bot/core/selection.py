"""Choosing the day's practice: fair, gentle at first, steerable, and reproducible.

The choice is a pure function of the catalog, the owner's history and a seed made from
the owner and the day, so both partners (and any worker process) arrive at the same
practice, and a test can say exactly which one comes next. The rules a couple's two sets
of choices are combined by (depth, themes) live here too, so the selector, `/settings`
and the pairing message all say and do the same thing.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from bot.core.catalog import Audience, Catalog, Depth, Practice, Theme

# How many practices someone has met before a deeper, then a brave one may appear.
DEEPER_AFTER = 7
BRAVE_AFTER = 28

MIN_WEIGHT = 0.25
MAX_WEIGHT = 4.0
STEP = 1.5


def depth_ceiling(practices_met: int) -> Depth:
    if practices_met < DEEPER_AFTER:
        return Depth.GENTLE
    if practices_met < BRAVE_AFTER:
        return Depth.DEEPER
    return Depth.BRAVE


def stricter(*limits: Depth | None) -> Depth | None:
    """The depth limit a couple gets: the stricter of the partners' (None: as earned)."""
    chosen = [limit for limit in limits if limit is not None]
    return min(chosen, key=lambda d: d.rank) if chosen else None


def together_themes(mine: Iterable[Theme], theirs: Iterable[Theme]) -> tuple[Theme, ...]:
    """The themes a couple gets: those both chose, or all of either's when they share none.

    Someone who chose only playfulness should not get mostly other themes because their
    partner chose five; when they have nothing in common, neither choice is dropped.
    """
    a, b = set(mine), set(theirs)
    both = (a & b) or (a | b)
    return tuple(t for t in Theme if t in both)


def adjust_weight(weights: Mapping[str, float], theme: Theme, more: bool) -> dict[str, float]:
    """Nudge one theme's weight after "more like this" or "less like this"."""
    current = float(weights.get(theme.value, 1.0))
    changed = current * STEP if more else current / STEP
    return {**weights, theme.value: min(MAX_WEIGHT, max(MIN_WEIGHT, changed))}


def steering_in_words(weights: Mapping[str, float]) -> str:
    """ "A little more playfulness, much less conflict as opportunity"; "" when unsteered."""
    parts = []
    for theme in Theme:
        steps = round(math.log(float(weights.get(theme.value, 1.0))) / math.log(STEP))
        if steps:
            size = {1: "a little ", 2: ""}.get(abs(steps), "much ")
            parts.append(f"{size}{'more' if steps > 0 else 'less'} {theme.label.lower()}")
    return ", ".join(parts).capitalize()


def choose_practice(
    catalog: Catalog,
    *,
    audience: Audience,
    themes: Iterable[Theme],
    history: Sequence[str],
    weights: Mapping[str, float],
    seed: str,
    depth_limit: Depth | None = None,
) -> Practice:
    """Pick the next practice for an owner.

    Practices that fit the audience and themes are used up before any repeats (the pool
    refills once all were met); depth is capped by how many practices the owner has met,
    and never goes past the owner's `depth_limit`, which is a promise, not a preference;
    the theme weights tilt the draw without ever excluding a theme.
    """
    wanted = set(themes)
    within = [
        p
        for p in catalog.for_audience(audience) or list(catalog.practices.values())
        if depth_limit is None or p.depth.rank <= depth_limit.rank
    ]
    pool = [p for p in within if p.theme in wanted] or within
    seen = Counter(history)
    least = min(seen[p.id] for p in pool)
    fresh = [p for p in pool if seen[p.id] == least]
    ceiling = depth_ceiling(len(set(history)))
    allowed = [p for p in fresh if p.depth.rank <= ceiling.rank]
    if not allowed:
        lowest = min(p.depth.rank for p in fresh)
        allowed = [p for p in fresh if p.depth.rank == lowest]
    allowed.sort(key=lambda p: p.id)
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))
    draw_weights = [float(weights.get(p.theme.value, 1.0)) for p in allowed]
    return rng.choices(allowed, weights=draw_weights, k=1)[0]
