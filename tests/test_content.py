"""The practice library passes its own checker, and the checker catches what it promises."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from bot.content_tools import check_content
from bot.core.catalog import Audience, Catalog, Depth, default_content_dir
from bot.core.messages import PracticeCard
from bot.core.rendering import render_html, render_markdown, render_text
from tests.test_terminal import run_cli


def test_the_library_passes_the_check_with_every_minimum() -> None:
    report = check_content()
    assert report.problems == []
    assert report.summary.startswith(tuple(f"{n} practices" for n in range(180, 1000)))


def test_checking_against_a_folder_of_articles_finds_a_copied_run(tmp_path: Path) -> None:
    """`content check --seeds DIR` reads the articles themselves (CI runs it against the
    real ones when they are present; a clone has none, so this writes its own)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    article = "a kettle sings on the stove while two people argue kindly about the map"
    (seeds / "article.txt").write_text(f"Title\n\n{article}.\n", encoding="utf-8")
    content = _library_copy(tmp_path)
    assert check_content(content, seeds_dir=seeds).problems == []
    _append(
        content,
        "playfulness.yaml",
        f"""
  - id: playfulness-kettle
    theme: playfulness
    title: The singing kettle
    steps: ["Notice how {article}."]
    question: What did you notice?
    minutes: 3
    depth: gentle
    for: [solo]
    source: blair
""",
    )
    problems = "\n".join(check_content(content, seeds_dir=seeds).problems)
    assert "playfulness-kettle: copied from a source article" in problems


def test_the_cli_check_prints_one_summary_line(tmp_path: Path) -> None:
    result = run_cli(["content", "check"], tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("content ok:") and "individuality" in line and "gentle" in line


def test_export_holds_every_practice_and_program(tmp_path: Path, catalog: Catalog) -> None:
    result = run_cli(["content", "export", "--format", "json"], tmp_path)
    data = json.loads(result.stdout)
    assert len(data["practices"]) == len(catalog.practices)
    assert {p["id"] for p in data["programs"]} == set(catalog.programs)
    first = data["practices"][0]
    assert set(first) >= {
        "id",
        "theme",
        "title",
        "steps",
        "question",
        "minutes",
        "depth",
        "for",
        "source",
        "caution",
    }
    assert set(first["source"]) == {"title", "author"}


def test_programs_are_the_three_promised(catalog: Catalog) -> None:
    lengths = {pid: len(p.days) for pid, p in catalog.programs.items()}
    assert lengths == {"intimacy-not-closeness": 7, "wholehearted": 21, "lighten-up": 5}
    wholehearted = catalog.programs["wholehearted"]
    themes = {catalog.practices[d.practice].theme for d in wholehearted.days}
    assert len(themes) == 6
    assert all(
        catalog.practices[d.practice].theme.value == "playfulness"
        for d in catalog.programs["lighten-up"].days
    )
    for program in catalog.programs.values():
        ids = [d.practice for d in program.days]
        assert len(ids) == len(set(ids))
        assert all(Audience.GROUP in catalog.practices[i].audiences for i in ids)


def test_brave_practices_carry_a_caution(catalog: Catalog) -> None:
    brave = [p for p in catalog.practices.values() if p.depth is Depth.BRAVE]
    assert brave and all(p.caution for p in brave)


def _library_copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(default_content_dir(), content)
    return content


def _append(content: Path, file: str, record: str) -> None:
    path = content / "practices" / file
    path.write_text(path.read_text(encoding="utf-8") + record, encoding="utf-8")


def test_the_checker_names_file_id_and_reason_for_each_problem(tmp_path: Path) -> None:
    content = _library_copy(tmp_path)
    seeds_sentence = "View yourself and your partner as sovereign beings, each with a unique nature"
    _append(
        content,
        "playfulness.yaml",
        f"""
  - id: playfulness-copied
    theme: playfulness
    title: Something borrowed
    steps: ["{seeds_sentence}."]
    question: What did you notice?
    minutes: 3
    depth: gentle
    for: [solo]
    source: blair
  - id: playfulness-too-long
    theme: playfulness
    title: A very long one
    steps: ["{"*_* " * 120}", "{"*_* " * 120}"]
    question: "{"Why " * 90}?"
    minutes: 3
    depth: gentle
    for: [solo]
    source: blair
""",
    )
    report = check_content(content)
    text = "\n".join(report.problems)
    assert "playfulness.yaml: playfulness-copied: copied from a source article" in text
    assert "playfulness.yaml: playfulness-too-long: longer than Discord's 2000" in text


def test_the_checker_finds_near_duplicates(tmp_path: Path, catalog: Catalog) -> None:
    content = _library_copy(tmp_path)
    original = next(p for p in catalog.practices.values() if p.theme.value == "conflict")
    steps = json.dumps(list(original.steps))
    _append(
        content,
        "conflict.yaml",
        f"""
  - id: conflict-copy-of-another
    theme: conflict
    title: A different title entirely
    steps: {steps}
    question: {json.dumps(original.question)}
    minutes: 3
    depth: gentle
    for: [solo]
    source: blair
""",
    )
    text = "\n".join(check_content(content).problems)
    assert "conflict-copy-of-another" in text and original.id in text and "too close" in text


def test_the_checker_finds_programs_naming_missing_or_private_practices(
    tmp_path: Path, catalog: Catalog
) -> None:
    content = _library_copy(tmp_path)
    private = next(p.id for p in catalog.practices.values() if Audience.GROUP not in p.audiences)
    days = catalog.programs["lighten-up"].days
    programs = content / "programs.yaml"
    programs.write_text(
        programs.read_text()
        .replace(days[0].practice, "playfulness-does-not-exist", 1)
        .replace(days[1].practice, private, 1)
    )
    text = "\n".join(check_content(content).problems)
    assert "lighten-up: day 1: no practice 'playfulness-does-not-exist'" in text
    assert f"lighten-up: day 2: '{private}' is not marked for groups" in text


def test_a_broken_library_fails_the_cli_check(tmp_path: Path) -> None:
    content = _library_copy(tmp_path)
    _append(content, "resilience.yaml", "\n  - id: resilience-broken\n    theme: nope\n")
    result = run_cli(["content", "check", "--content", str(content)], tmp_path)
    assert result.returncode == 1
    assert "resilience.yaml: resilience-broken: field 'theme'" in result.stderr
    assert "content check failed" in result.stderr and "Traceback" not in result.stderr


def test_the_source_line_never_doubles_a_full_stop(catalog: Catalog) -> None:
    practice = next(p for p in catalog.practices.values() if p.source == "blair")
    card = PracticeCard(
        practice=practice,
        source=catalog.source_of(practice),
        practice_date=date(2026, 11, 23),
        delivery_id=1,
    )
    for drawn in (render_text(card), render_html(card), render_markdown(card)):
        assert "Lisa Blair, M.A." in drawn and "M.A.." not in drawn
    other = next(p for p in catalog.practices.values() if p.source == "cluff")
    card = PracticeCard(
        practice=other,
        source=catalog.source_of(other),
        practice_date=date(2026, 11, 23),
        delivery_id=2,
    )
    assert render_text(card).endswith("by Stephanie Renee Cluff.")


def test_the_checker_applies_the_library_rules(tmp_path: Path) -> None:
    content = _library_copy(tmp_path)
    _append(
        content,
        "playfulness.yaml",
        """
  - id: playfulness-staring-match
    theme: playfulness
    title: A staring match
    steps: ["Next time you are both home, take turns staring for fifteen minutes."]
    question: Who blinked?
    minutes: 3
    depth: gentle
    for: [solo]
    source: blair
""",
    )
    result = run_cli(["content", "check", "--content", str(content)], tmp_path)
    assert result.returncode == 1
    problems = [line for line in result.stderr.splitlines() if "staring-match" in line]
    assert any("field 'for': marked for solo" in line for line in problems)
    assert any("field 'minutes': 3, but the steps speak of 15 minutes" in line for line in problems)
    assert any("step 1 opens with “Next time”" in line for line in problems)
