"""Choosing the day's practice: fair, gentle at first, steerable, and reproducible.

The choice is a pure function of the catalog, the owner's history and a seed made from
the owner and the day, so both partners (and any worker process) arrive at the same
practice, and a test can say exactly which one comes next.
"""

from __future__ import annotations

import hashlib
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


def adjust_weight(weights: Mapping[str, float], theme: Theme, more: bool) -> dict[str, float]:
    """Nudge one theme's weight after "more like this" or "less like this"."""
    current = float(weights.get(theme.value, 1.0))
    changed = current * STEP if more else current / STEP
    return {**weights, theme.value: min(MAX_WEIGHT, max(MIN_WEIGHT, changed))}


def choose_practice(
    catalog: Catalog,
    *,
    audience: Audience,
    themes: Iterable[Theme],
    history: Sequence[str],
    weights: Mapping[str, float],
    seed: str,
) -> Practice:
    """Pick the next practice for an owner.

    Practices that fit the audience and themes are used up before any repeats (the pool
    refills once all were met); depth is capped by how many practices the owner has met;
    the theme weights tilt the draw without ever excluding a theme.
    """
    wanted = set(themes)
    pool = [p for p in catalog.for_audience(audience) if p.theme in wanted]
    if not pool:
        pool = catalog.for_audience(audience) or list(catalog.practices.values())
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
