"""The practice library, loaded from `content/` and validated before the bot serves anyone.

A broken file must stop start-up with the file and the field named, because a practice
that fails at 7 a.m. on someone's phone is far worse than a bot that refuses to start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class Theme(StrEnum):
    INDIVIDUALITY = "individuality"
    PLAYFULNESS = "playfulness"
    SELF_REFLECTION = "self-reflection"
    COURAGE = "courage"
    CONFLICT = "conflict"
    RESILIENCE = "resilience"

    @property
    def label(self) -> str:
        return THEME_LABELS[self]


THEME_LABELS: dict[Theme, str] = {
    Theme.INDIVIDUALITY: "Individuality",
    Theme.PLAYFULNESS: "Playfulness",
    Theme.SELF_REFLECTION: "Self-reflection",
    Theme.COURAGE: "Courage and vulnerability",
    Theme.CONFLICT: "Conflict as opportunity",
    Theme.RESILIENCE: "Emotional resilience",
}
CORE_THEMES: tuple[Theme, ...] = (Theme.INDIVIDUALITY, Theme.PLAYFULNESS, Theme.SELF_REFLECTION)


class Depth(StrEnum):
    GENTLE = "gentle"
    DEEPER = "deeper"
    BRAVE = "brave"

    @property
    def rank(self) -> int:
        return list(Depth).index(self)


class Audience(StrEnum):
    SOLO = "solo"
    COUPLE = "couple"
    GROUP = "group"


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    author: str = Field(min_length=1)


class Practice(BaseModel):
    """One practice as an author writes it; `source` is resolved to the article at load."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)
    theme: Theme
    title: str = Field(min_length=3, max_length=80)
    steps: tuple[str, ...] = Field(min_length=1, max_length=2)
    question: str = Field(min_length=5, max_length=400)
    minutes: int = Field(ge=2, le=5)
    depth: Depth
    audiences: frozenset[Audience] = Field(alias="for", min_length=1)
    source: str
    caution: str | None = Field(default=None, max_length=300)
    # Ids of practices merged into this one: old deliveries and buttons still find it.
    replaces: tuple[str, ...] = ()

    @field_validator("steps")
    @classmethod
    def _steps_not_blank(cls, steps: tuple[str, ...]) -> tuple[str, ...]:
        for step in steps:
            if not step.strip():
                raise ValueError("a step is empty")
            if len(step) > 500:
                raise ValueError("a step is longer than 500 characters")
        return steps


class ProgramDay(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    practice: str
    title: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1, max_length=200)


class Program(BaseModel):
    """A workshop: a fixed sequence of group practices that a facilitator starts by id."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    days: tuple[ProgramDay, ...] = Field(min_length=1)


class CatalogError(Exception):
    """The content cannot be served; each problem names its file, practice and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Catalog:
    practices: dict[str, Practice]
    sources: dict[str, Source]
    programs: dict[str, Program]
    # Which file each practice was read from, so problems can name it.
    files: dict[str, str] = field(default_factory=dict)

    def get(self, practice_id: str) -> Practice | None:
        """The practice with this id, or the one that replaced it when it was retired."""
        found = self.practices.get(practice_id)
        if found is None:
            found = next((p for p in self.practices.values() if practice_id in p.replaces), None)
        return found

    def source_of(self, practice: Practice) -> Source:
        return self.sources[practice.source]

    def for_audience(self, audience: Audience) -> list[Practice]:
        return [p for p in self.practices.values() if audience in p.audiences]


def default_content_dir() -> Path:
    """The `content` package's folder, wherever the project is installed or started from."""
    return Path(str(resources.files("content")))


# libyaml's parser when PyYAML was built with it: ten times faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{path.name}: cannot be read as YAML ({exc})")
        return None


def _field_errors(path: Path, record_id: str, exc: ValidationError) -> Iterable[str]:
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "record"
        yield f"{path.name}: {record_id}: field '{field}': {err['msg']}"


def load_catalog(content_dir: Path | None = None) -> Catalog:
    """Read sources, practices and programs; raise `CatalogError` listing every problem."""
    root = content_dir or default_content_dir()
    problems: list[str] = []

    sources: dict[str, Source] = {}
    raw_sources = _read_yaml(root / "sources.yaml", problems)
    if isinstance(raw_sources, dict) and isinstance(raw_sources.get("sources"), dict):
        for key, value in raw_sources["sources"].items():
            try:
                sources[str(key)] = Source.model_validate(value)
            except ValidationError as exc:
                problems.extend(_field_errors(root / "sources.yaml", str(key), exc))
    elif raw_sources is not None:
        problems.append("sources.yaml: expected a mapping under 'sources'")

    practices: dict[str, Practice] = {}
    where: dict[str, str] = {}
    files = sorted((root / "practices").glob("*.yaml"))
    if not files:
        problems.append(f"{root / 'practices'}: no practice files (*.yaml) found")
    for path in files:
        data = _read_yaml(path, problems)
        if data is None:
            continue
        records = data.get("practices") if isinstance(data, dict) else None
        if not isinstance(records, list):
            problems.append(f"{path.name}: expected a list under 'practices'")
            continue
        for index, record in enumerate(records, start=1):
            record_id = str(record.get("id")) if isinstance(record, dict) else f"record {index}"
            try:
                practice = Practice.model_validate(record)
            except ValidationError as exc:
                problems.extend(_field_errors(path, record_id, exc))
                continue
            if practice.id in practices:
                problems.append(f"{path.name}: {practice.id}: field 'id': used twice")
            elif practice.source not in sources:
                problems.append(
                    f"{path.name}: {practice.id}: field 'source': '{practice.source}' is not "
                    f"one of {', '.join(sorted(sources))}"
                )
            elif practice.depth is Depth.BRAVE and not practice.caution:
                problems.append(
                    f"{path.name}: {practice.id}: field 'caution': brave practices need one"
                )
            else:
                practices[practice.id] = practice
                where[practice.id] = path.name

    programs: dict[str, Program] = {}
    programs_path = root / "programs.yaml"
    raw_programs = _read_yaml(programs_path, problems) if programs_path.exists() else None
    if raw_programs is not None:
        records = raw_programs.get("programs") if isinstance(raw_programs, dict) else None
        for index, record in enumerate(records or [], start=1):
            record_id = str(record.get("id")) if isinstance(record, dict) else f"program {index}"
            try:
                program = Program.model_validate(record)
            except ValidationError as exc:
                problems.extend(_field_errors(programs_path, record_id, exc))
                continue
            for day_number, day in enumerate(program.days, start=1):
                listed = practices.get(day.practice)
                if listed is None:
                    problems.append(
                        f"programs.yaml: {program.id}: day {day_number}: no practice "
                        f"'{day.practice}'"
                    )
                elif Audience.GROUP not in listed.audiences:
                    problems.append(
                        f"programs.yaml: {program.id}: day {day_number}: '{day.practice}' "
                        "is not marked for groups"
                    )
            programs[program.id] = program

    if not problems:
        # Imported here because the rules are written against this module's models.
        from bot.core import library_rules

        named = {**where, **dict.fromkeys(programs, programs_path.name)}
        problems.extend(library_rules.problems(practices, programs, files=named))
    if problems:
        raise CatalogError(problems)
    return Catalog(practices=practices, sources=sources, programs=programs, files=where)
