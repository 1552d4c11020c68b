"""Tools for authors of the practice library: the checker and the JSON export.

The checker holds the library to the rules an author cannot see by eye: every card fits
both platforms, programs name real group practices, no run of eight words is taken from the
source articles, and the editorial rules of `bot.core.library_rules` (audience, duration,
near-duplicates, ...) hold, since loading the catalog applies them. The articles themselves are not
in this repository; `content/seed-fingerprints.txt` holds one-way hashes of their eight-word
runs, which is enough to check against without shipping their text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.core.catalog import (
    Audience,
    Catalog,
    CatalogError,
    Depth,
    Practice,
    Theme,
    default_content_dir,
    load_catalog,
)
from bot.core.deliveries import practice_buttons
from bot.core.messages import PracticeCard
from bot.core.rendering import DISCORD_LIMIT, TELEGRAM_LIMIT, render_html, render_markdown

RUN_LENGTH = 8
FINGERPRINTS = "seed-fingerprints.txt"
MINIMUMS: dict[Theme, int] = {
    Theme.INDIVIDUALITY: 45,
    Theme.PLAYFULNESS: 45,
    Theme.SELF_REFLECTION: 45,
    Theme.COURAGE: 15,
    Theme.CONFLICT: 15,
    Theme.RESILIENCE: 15,
}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))


def _run_hash(words: Iterable[str]) -> str:
    return hashlib.blake2b(" ".join(words).encode(), digest_size=8).hexdigest()


def fingerprint_seeds(seeds_dir: Path) -> list[str]:
    """Hashes of every eight-word run in the source articles."""
    hashes: set[str] = set()
    for path in sorted(seeds_dir.glob("*.txt")):
        if path.name.lower() == "readme.txt":
            continue
        words = _words(path.read_text(encoding="utf-8"))
        hashes.update(
            _run_hash(words[i : i + RUN_LENGTH]) for i in range(len(words) - RUN_LENGTH + 1)
        )
    return sorted(hashes)


def practice_text(practice: Practice) -> str:
    return " ".join([practice.title, *practice.steps, practice.question, practice.caution or ""])


def copied_runs(practice: Practice, fingerprints: set[str]) -> list[str]:
    words = _words(practice_text(practice))
    return [
        " ".join(words[i : i + RUN_LENGTH])
        for i in range(len(words) - RUN_LENGTH + 1)
        if _run_hash(words[i : i + RUN_LENGTH]) in fingerprints
    ]


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    summary: str = ""


def check_content(content_dir: Path | None = None, seeds_dir: Path | None = None) -> Report:
    root = content_dir or default_content_dir()
    report = Report()
    try:
        catalog = load_catalog(root)
    except CatalogError as error:
        report.problems.extend(error.problems)
        return report
    where = catalog.files
    practices = sorted(catalog.practices.values(), key=lambda p: p.id)

    def problem(practice: Practice, reason: str) -> None:
        report.problems.append(f"{where.get(practice.id, '?')}: {practice.id}: {reason}")

    if seeds_dir is not None:
        fingerprints = set(fingerprint_seeds(seeds_dir))
    else:
        path = root / FINGERPRINTS
        if not path.exists():
            report.problems.append(
                f"{FINGERPRINTS}: missing; run `wholehearted content "
                "fingerprint SEEDS_DIR` to make it"
            )
            return report
        fingerprints = set(path.read_text(encoding="ascii").split())

    for practice in practices:
        expected_theme = where.get(practice.id, "").removesuffix(".yaml")
        if expected_theme and expected_theme != practice.theme.value:
            problem(practice, f"theme '{practice.theme.value}' written in {expected_theme}.yaml")
        if not practice.id.startswith(practice.theme.value + "-"):
            problem(practice, f"id should start with '{practice.theme.value}-'")
        if not practice.question.rstrip().endswith("?"):
            problem(practice, "the reflection question does not end with '?'")
        for run in copied_runs(practice, fingerprints):
            problem(practice, f"copied from a source article: “{run}”")
        card = PracticeCard(
            practice=practice,
            source=catalog.source_of(practice),
            practice_date=date(2026, 12, 31),
            delivery_id=999_999_999,
            intro="Here is today's practice again · Wednesday 30 September:",
            buttons=practice_buttons(999_999_999),
        )
        if len(render_html(card)) > TELEGRAM_LIMIT:
            problem(practice, f"longer than Telegram's {TELEGRAM_LIMIT} characters")
        if len(render_markdown(card)) > DISCORD_LIMIT:
            problem(practice, f"longer than Discord's {DISCORD_LIMIT} characters")
    for theme, minimum in MINIMUMS.items():
        count = sum(1 for p in practices if p.theme is theme)
        if count < minimum:
            report.problems.append(f"practices: theme {theme.value} has {count}, needs {minimum}")
    report.summary = summary_line(catalog)
    return report


def summary_line(catalog: Catalog) -> str:
    practices = list(catalog.practices.values())
    per_theme = ", ".join(
        f"{theme.value} {sum(1 for p in practices if p.theme is theme)}" for theme in Theme
    )
    per_depth = ", ".join(
        f"{depth.value} {sum(1 for p in practices if p.depth is depth)}" for depth in Depth
    )
    per_audience = ", ".join(
        f"{audience.value} {sum(1 for p in practices if audience in p.audiences)}"
        for audience in Audience
    )
    return (
        f"{len(practices)} practices ({per_theme}; {per_depth}; {per_audience}), "
        f"{len(catalog.programs)} programs"
    )


def export_json(catalog: Catalog) -> str:
    data: dict[str, Any] = {
        "sources": {key: source.model_dump() for key, source in catalog.sources.items()},
        "practices": [
            {
                **practice.model_dump(mode="json", by_alias=True),
                "for": sorted(a.value for a in practice.audiences),
                "source": catalog.sources[practice.source].model_dump(),
            }
            for practice in sorted(catalog.practices.values(), key=lambda p: p.id)
        ],
        "programs": [program.model_dump(mode="json") for program in catalog.programs.values()],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)
