"""Which practice comes next: no repeats, gentle first, steered by more/less."""

from __future__ import annotations

from collections import Counter

from bot.core.catalog import Audience, Catalog, Depth, Practice, Source, Theme
from bot.core.selection import BRAVE_AFTER, DEEPER_AFTER, adjust_weight, choose_practice


def make_catalog(per_theme_depth: int = 4) -> Catalog:
    practices = {}
    for theme in (Theme.PLAYFULNESS, Theme.INDIVIDUALITY, Theme.COURAGE):
        for depth in Depth:
            for n in range(per_theme_depth):
                pid = f"{theme.value}-{depth.value}-{n}"
                practices[pid] = Practice.model_validate(
                    {
                        "id": pid,
                        "theme": theme,
                        "title": f"Title {pid}",
                        "steps": ["Do it."],
                        "question": "What did you notice?",
                        "minutes": 3,
                        "depth": depth,
                        "for": ["solo", "couple"],
                        "source": "s",
                        "caution": "Go gently." if depth is Depth.BRAVE else None,
                    }
                )
    return Catalog(practices=practices, sources={"s": Source(title="T", author="A")}, programs={})


def run(
    catalog: Catalog,
    days: int,
    themes: set[Theme],
    weights: dict[str, float] | None = None,
) -> list[Practice]:
    history: list[str] = []
    chosen: list[Practice] = []
    for day in range(days):
        practice = choose_practice(
            catalog,
            audience=Audience.COUPLE,
            themes=themes,
            history=history,
            weights=weights or {},
            seed=f"c:{day}",
        )
        history.append(practice.id)
        chosen.append(practice)
    return chosen


def test_no_repeat_until_every_fitting_practice_was_used() -> None:
    catalog = make_catalog()
    themes = {Theme.PLAYFULNESS, Theme.INDIVIDUALITY}
    fitting = 2 * 3 * 4
    picks = run(catalog, fitting + 5, themes)
    assert len({p.id for p in picks[:fitting]}) == fitting
    assert all(p.theme in themes for p in picks)
    assert len({p.id for p in picks[fitting:]}) == 5, "the second round also does not repeat"


def test_depth_grows_gently() -> None:
    catalog = make_catalog(per_theme_depth=12)
    picks = run(catalog, BRAVE_AFTER + 10, {Theme.PLAYFULNESS, Theme.INDIVIDUALITY})
    assert all(p.depth is Depth.GENTLE for p in picks[:DEEPER_AFTER])
    assert all(p.depth is not Depth.BRAVE for p in picks[:BRAVE_AFTER])
    assert any(p.depth is Depth.BRAVE for p in picks[BRAVE_AFTER:])


def test_more_and_less_shift_the_mix() -> None:
    catalog = make_catalog(per_theme_depth=30)
    themes = {Theme.PLAYFULNESS, Theme.INDIVIDUALITY}
    weights: dict[str, float] = {}
    for _ in range(3):
        weights = adjust_weight(weights, Theme.PLAYFULNESS, more=True)
        weights = adjust_weight(weights, Theme.INDIVIDUALITY, more=False)
    counts = Counter(p.theme for p in run(catalog, 40, themes, weights))
    assert counts[Theme.PLAYFULNESS] > 2 * counts[Theme.INDIVIDUALITY]
    assert counts[Theme.INDIVIDUALITY] > 0, "less never means never"


def test_the_choice_is_deterministic() -> None:
    catalog = make_catalog()
    assert run(catalog, 10, {Theme.COURAGE}) == run(catalog, 10, {Theme.COURAGE})


def test_real_library_first_weeks_are_gentle_and_fit_the_audience(catalog: Catalog) -> None:
    picks = run(catalog, DEEPER_AFTER, {Theme.INDIVIDUALITY, Theme.PLAYFULNESS})
    assert all(p.depth is Depth.GENTLE and Audience.COUPLE in p.audiences for p in picks)
