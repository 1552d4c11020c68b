"""A facilitator's own workshop program: sent as a YAML or JSON file in a private chat,
checked like the library, kept for its author alone, and started in the groups they run.

The file is the library's format: one program as `content/programs.yaml` writes them
(under `program:`, or a `programs:` list holding one) and, under `practices:`, the
facilitator's own practices as `content/practices/*.yaml` writes them. A day may name one
of those or a library practice marked for groups.

Two choices differ from the library, because facilitators write their own practices:
`source` may be left out (the card then credits the facilitator; naming one of the
library's sources still works), and `for` may be left out (it means `[group]`). Straight
quotes are made curly, the library's one style, rather than refused: keyboards have none.
Ids may not be the library's: a post and every reply to it name their practice and
program by id alone, so one id must mean one thing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import library_rules, people
from bot.core.catalog import Audience, Catalog, Depth, Practice, Program, Source
from bot.core.context import UPLOAD_LIMIT, Context, Incoming, Upload
from bot.core.messages import Outcome
from bot.core.parsing import InputError
from db.models import CustomProgram, Person, Workshop

SUFFIXES = (".yaml", ".yml", ".json")
# A program's title is shown in every post's heading and in Discord's choices.
TITLE_LIMIT = 80
# Enough for any facilitator; a bound so nobody fills the database with files.
PROGRAMS_PER_PERSON = 50
# `source` of a practice that names none: its author, the facilitator, is credited.
OWN_SOURCE = ""
_TOP_LEVEL = {"program", "programs", "practices"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UploadProblems(Exception):
    """Everything wrong with one file, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class OwnProgram:
    """A facilitator's program as it is kept: checked, with its own practices."""

    row_id: int
    program: Program
    practices: Mapping[str, Practice]
    author: str

    def practice(self, catalog: Catalog, practice_id: str) -> tuple[Practice, Source] | None:
        """A day's practice and whom its card credits: the facilitator, unless it names
        one of the library's sources; a library practice as the library has it."""
        own = self.practices.get(practice_id)
        if own is None:
            found = catalog.get(practice_id)
            return (found, catalog.source_of(found)) if found else None
        if own.source in catalog.sources:
            return own, catalog.sources[own.source]
        return own, Source(title=self.program.title, author=self.author)


# --- checking a file -----------------------------------------------------------------------


def read_document(name: str, content: bytes) -> Any:
    """The file's data, or one sentence saying why it cannot be read."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            f"“{name}” isn't UTF-8 text. Save it as UTF-8 (most editors offer it under "
            "“Save as”) and send it again."
        ) from None
    if PurePath(name).suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(
                f"“{name}” isn't valid JSON: line {error.lineno}, column {error.colno}: "
                f"{error.msg.lower()}."
            ) from None
    try:
        # An alias can stand for a list of aliases, and so on: a few lines that expand to
        # billions of items. Program files have no need for them.
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, _LOADER)):
            raise InputError(f"“{name}” uses YAML aliases (*name); write each value out instead.")
        return yaml.load(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(
            f"“{name}” isn't valid YAML{where}: {error.problem or error.context}."
        ) from None
    except yaml.YAMLError:
        raise InputError(f"“{name}” isn't valid YAML.") from None


def check(
    ctx: Context, name: str, data: Any, others: Mapping[str, str] | None = None
) -> tuple[Program, dict[str, Practice]]:
    """The program and its own practices, checked by the library's models and rules;
    `UploadProblems` lists every problem. `others` maps the author's other programs'
    titles (lowercased) to their ids, so two of theirs never share a title."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise UploadProblems(
            [
                "The file needs a “program” (its id, title, description and days) and may list "
                "your own “practices”; see /help programs."
            ]
        )
    for key in sorted(set(map(str, data)) - _TOP_LEVEL):
        problems.append(
            f"The file has “{key}”, which I don't know: only “program” (or “programs”) and "
            "“practices” belong at the top."
        )
    # Practices whose own problems are listed already: days naming them say nothing more.
    broken: set[str] = set()
    practices = _practices(ctx, data.get("practices"), problems, broken)
    raw = _program_record(data, problems)
    program = None
    if raw is not None:
        label = _label("Program", raw)
        try:
            program = Program.model_validate(_curly(raw))
        except ValidationError as error:
            problems.extend(_plain(label, error, days=True))
        if program is not None:
            _check_program(ctx, program, others or {}, problems)
        days = raw.get("days") if isinstance(raw, dict) else None
        _check_days(ctx, label, days if isinstance(days, list) else [], practices, broken, problems)
    if program is not None and not problems:
        problems += _rules(ctx, name, program, practices)
    if problems or program is None:
        raise UploadProblems(problems)
    return program, practices


# The words people read, where straight quotes are made curly.
_WORDS = frozenset({"title", "description", "steps", "question", "caution"})


def _curly(record: Any) -> Any:
    """A record with the library's quotation style in its words (`typographic`), days
    included; anything that is not words is left as written for the models to judge."""
    if not isinstance(record, dict):
        return record
    fixed = dict(record)
    for key, value in record.items():
        if key in _WORDS and isinstance(value, str):
            fixed[key] = library_rules.typographic(value)
        elif key == "steps" and isinstance(value, list):
            fixed[key] = [library_rules.typographic(v) if isinstance(v, str) else v for v in value]
        elif key == "days" and isinstance(value, list):
            fixed[key] = [_curly(day) for day in value]
    return fixed


def _program_record(data: dict[str, Any], problems: list[str]) -> Any:
    if "program" in data and "programs" in data:
        problems.append("The file has both “program” and “programs”; keep one.")
        return None
    if "programs" in data:
        listed = data["programs"]
        if not isinstance(listed, list) or len(listed) != 1:
            count = len(listed) if isinstance(listed, list) else 0
            problems.append(f"“programs” holds {count} programs; send one program per file.")
            return None
        return listed[0]
    if "program" not in data:
        problems.append("The file has no “program”: its id, title, description and days.")
        return None
    return data["program"]


def _practices(
    ctx: Context, raw: Any, problems: list[str], broken: set[str]
) -> dict[str, Practice]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        problems.append("“practices” must be a list of practices, each starting with “- id:”.")
        return {}
    practices: dict[str, Practice] = {}
    for number, record in enumerate(raw, start=1):
        if not isinstance(record, dict):
            problems.append(f"Practice {number} in the list isn't a set of fields.")
            continue
        label = _label("Practice", record, number)
        try:
            practice = Practice.model_validate(
                {"for": [Audience.GROUP.value], "source": OWN_SOURCE, **_curly(record)}
            )
        except ValidationError as error:
            problems.extend(_plain(label, error))
            broken.add(str(record.get("id")))
            continue
        if practice.id in ctx.catalog.practices:
            problems.append(
                f"{label}: the library already has a practice with this id. Give yours its "
                "own id, or leave it out of your file and name the library's on a day."
            )
        elif practice.id in practices:
            problems.append(f"{label}: the id is used twice in your file.")
        if practice.source != OWN_SOURCE and practice.source not in ctx.catalog.sources:
            problems.append(
                f"{label}: “source” is “{practice.source}”, which is not one of the library's "
                f"sources ({', '.join(sorted(ctx.catalog.sources))}). Leave it out to credit "
                "yourself."
            )
        if "replaces" in record:
            problems.append(
                f"{label}: “replaces” is for the library's own practices; leave it out."
            )
        if practice.depth is Depth.BRAVE and not practice.caution:
            problems.append(
                f"{label}: a brave practice needs a “caution”: a sentence on when to skip it."
            )
        practices.setdefault(practice.id, practice)
    return practices


def _check_program(
    ctx: Context, program: Program, others: Mapping[str, str], problems: list[str]
) -> None:
    label = f"Program “{program.id}”"
    if len(program.id) > TITLE_LIMIT:
        problems.append(f"{label}: the id is longer than {TITLE_LIMIT} characters.")
    if len(program.title) > TITLE_LIMIT:
        problems.append(f"{label}: the title is longer than {TITLE_LIMIT} characters.")
    if program.id in ctx.catalog.programs:
        problems.append(
            f"{label}: the library already has a program with this id; give yours its own."
        )
    title = program.title.strip().lower()
    if any(title == p.title.lower() for p in ctx.catalog.programs.values()):
        problems.append(
            f"{label}: the library already has a program called “{program.title}”; give "
            "yours its own title, so /workshop start can tell them apart."
        )
    if others.get(title, program.id) != program.id:
        problems.append(
            f"{label}: your program “{others[title]}” already has the title "
            f"“{program.title}”; give this one its own."
        )


def _check_days(
    ctx: Context,
    label: str,
    days: list[Any],
    practices: Mapping[str, Practice],
    broken: set[str],
    problems: list[str],
) -> None:
    """Each day's practice: the file's own or the library's, and for groups. Read from
    the days as written, so a problem elsewhere in the program hides none of these."""
    for number, day in enumerate(days, start=1):
        named_id = day.get("practice") if isinstance(day, dict) else None
        if not isinstance(named_id, str) or named_id in broken:
            continue  # its own problem is listed already
        where = f"{label}, day {number}"
        mine = practices.get(named_id)
        named = mine or ctx.catalog.practices.get(named_id)
        if named is None:
            problems.append(
                f"{where} names the practice “{named_id}”, which is neither in your file "
                "nor in the library."
            )
        elif Audience.GROUP not in named.audiences:
            whose = "your" if mine else "the library's"
            problems.append(
                f"{where}: {whose} practice “{named_id}” is not for groups (its “for” "
                "has no “group”)."
            )


def _rules(
    ctx: Context, name: str, program: Program, practices: Mapping[str, Practice]
) -> list[str]:
    """The library's own editorial rules, run on the library with this file added. The
    library alone breaks none (`load_catalog` refuses to start otherwise), so whatever
    they find is the file's."""
    together = {**ctx.catalog.practices, **practices}
    files = {**ctx.catalog.files, **dict.fromkeys(practices, name)}
    return library_rules.problems(together, {program.id: program}, files=files)


def _label(kind: str, record: Any, number: int | None = None) -> str:
    named = record.get("id") if isinstance(record, dict) else None
    if isinstance(named, str) and named.strip():
        return f"{kind} “{named}”"
    return f"{kind} {number}" if number is not None else kind


def _plain(label: str, error: ValidationError, *, days: bool = False) -> list[str]:
    """pydantic's errors in plain words, one sentence each, naming the field."""
    sentences = []
    for detail in error.errors():
        where, field = _where(detail["loc"], days=days)
        sentences.append(f"{label}{where}: {field}{_explain(detail)}.")
    return sentences


def _where(loc: tuple[int | str, ...], *, days: bool) -> tuple[str, str]:
    """(", day 3", "“title” ") from a location such as ("days", 2, "title")."""
    parts = list(loc)
    where = ""
    if days and len(parts) >= 2 and parts[0] == "days" and isinstance(parts[1], int):
        where, parts = f", day {parts[1] + 1}", parts[2:]
    if len(parts) >= 2 and parts[0] == "steps" and isinstance(parts[1], int):
        return where, f"step {parts[1] + 1} "
    named = [str(p) for p in parts if not isinstance(p, int)]
    return where, (f"“{'.'.join(named)}” " if named else "")


def _explain(detail: ErrorDetails) -> str:
    kind, limits = detail["type"], detail.get("ctx") or {}
    simple = {
        "missing": "is missing",
        "extra_forbidden": "is not a field I know",
        "string_type": "must be text",
        "string_pattern_mismatch": "must be lowercase letters, digits and single dashes, "
        "such as “slow-breath”",
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "tuple_type": "must be a list",
        "list_type": "must be a list",
        "frozen_set_type": "must be a list",
        "model_type": "must be a set of fields",
        "model_attributes_type": "must be a set of fields",
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_short":
        least = limits.get("min_length", 1)
        return "is empty" if least == 1 else f"must be at least {least} characters"
    if kind == "string_too_long":
        return f"is longer than {limits.get('max_length')} characters"
    if kind == "enum":
        return f"must be one of {limits.get('expected')}"
    if kind == "greater_than_equal":
        return f"must be at least {limits.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {limits.get('le')}"
    if kind == "too_short":
        return f"needs at least {limits.get('min_length')}"
    if kind == "too_long":
        return f"may have at most {limits.get('max_length')}"
    message = str(detail["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


# --- receiving, listing and deleting --------------------------------------------------------


def receive(session: Session, ctx: Context, incoming: Incoming, upload: Upload) -> Outcome:
    """A file sent to the bot: checked, and kept only when it has no problem at all."""
    program_file = PurePath(upload.name).suffix.lower() in SUFFIXES
    if incoming.chat_id is not None:
        if not program_file:
            return Outcome()  # the group's own files are none of the bot's business
        return Outcome().say(
            "Send your program file to me in a private chat: I keep nothing posted in a "
            "group. Then /workshop start runs it here."
        )
    if not program_file:
        return Outcome().say(
            f"I can't use “{upload.name}”: the only files I take are workshop programs, as "
            ".yaml, .yml or .json files (/help programs). Replies are kept as written messages."
        )
    if upload.content is None or len(upload.content) > UPLOAD_LIMIT:
        return Outcome().say(
            f"“{upload.name}” is {_size(upload.size)}, more than the {UPLOAD_LIMIT // 1024} KB "
            "a program file may be. Nothing was kept."
        )
    data = read_document(upload.name, upload.content)
    person = people.find_person(session, incoming.platform, incoming.user_id)
    mine = mine_of(session, person) if person else []
    try:
        program, practices = check(
            ctx, upload.name, data, {p.title.lower(): p.program_id for p in mine}
        )
    except UploadProblems as found:
        listed = "\n".join(f"{n}. {p}" for n, p in enumerate(found.problems, start=1))
        return Outcome().say(
            f"I didn't keep “{upload.name}”: {_count(len(found.problems), 'problem')} to fix, "
            f"then send it again.\n\n{listed}"
        )
    earlier = next((row for row in mine if row.program_id == program.id), None)
    if earlier is None and len(mine) >= PROGRAMS_PER_PERSON:
        raise InputError(
            f"You have {PROGRAMS_PER_PERSON} programs already, as many as I keep for one "
            "person. /programs delete ID makes room."
        )
    person = person or people.create_person(session, ctx, incoming)
    document = {
        "program": program.model_dump(mode="json"),
        "practices": [p.model_dump(mode="json", by_alias=True) for p in practices.values()],
    }
    if earlier is None:
        session.add(
            CustomProgram(
                person_id=person.id,
                program_id=program.id,
                title=program.title,
                document=document,
                created_at=ctx.clock.now(),
            )
        )
    else:
        earlier.title, earlier.document, earlier.created_at = (
            program.title,
            document,
            ctx.clock.now(),
        )
    verb = "Replaced your earlier" if earlier else "Saved your"
    return Outcome().say(
        f"{verb} program “{program.title}” ({_count(len(program.days), 'day')}). Start it in "
        f"a group you run with /workshop start {program.id}. Only you can see or start it; "
        "/programs lists yours."
    )


def mine_of(session: Session, person: Person) -> list[CustomProgram]:
    return list(
        session.scalars(
            select(CustomProgram)
            .where(CustomProgram.person_id == person.id)
            .order_by(CustomProgram.program_id)
        )
    )


def of_starter(session: Session, platform: str, user_id: str) -> list[OwnProgram]:
    """The programs of the person starting a workshop: theirs alone, never another's."""
    person = people.find_person(session, platform, user_id)
    return [load(row, person.display_name) for row in mine_of(session, person)] if person else []


def load(row: CustomProgram, author: str) -> OwnProgram:
    """A kept program, as checked when it was sent."""
    practices = (Practice.model_validate(p) for p in row.document.get("practices", []))
    return OwnProgram(
        row_id=row.id,
        program=Program.model_validate(row.document["program"]),
        practices={p.id: p for p in practices},
        author=author,
    )


def of_workshop(session: Session, workshop: Workshop) -> OwnProgram | None:
    """The facilitator's program a workshop runs; None once it was deleted or its author
    forgotten (the foreign key has set `custom_program_id` to NULL)."""
    if workshop.custom_program_id is None:
        return None
    row = session.get(CustomProgram, workshop.custom_program_id)
    if row is None:
        return None
    author = session.get(Person, row.person_id)
    return load(row, author.display_name if author else "your facilitator")


def handle(session: Session, ctx: Context, incoming: Incoming, args: str) -> Outcome:
    """`/programs` lists the person's own programs; `/programs delete ID` deletes one."""
    person = people.find_person(session, incoming.platform, incoming.user_id)
    mine = mine_of(session, person) if person else []
    word, _, rest = args.strip().partition(" ")
    if word.lower() == "delete":
        return _delete(session, ctx, mine, rest.strip())
    if word:
        raise InputError(
            "Type /programs to list your programs, or /programs delete ID to delete one."
        )
    if not mine:
        return Outcome().say(
            "You have no programs of your own yet. Send me one as a .yaml or .json file, in "
            "the format of the library's programs (/help programs), and I'll check it and keep "
            "it for the groups you run."
        )
    assert person is not None
    zone = ZoneInfo(person.timezone)
    lines = ["Your programs (only you can see or start them):"]
    for row in mine:
        days = len(row.document["program"]["days"])
        lines.append(
            f"{row.program_id} — {row.title} ({_count(days, 'day')}), sent "
            f"{_day(row.created_at, zone)}"
        )
    lines.append(
        "\nIn a group you run: /workshop start ID. To delete one: /programs delete ID. "
        "Sending a file with the same id replaces it."
    )
    return Outcome().say("\n".join(lines))


def _delete(session: Session, ctx: Context, mine: list[CustomProgram], wanted: str) -> Outcome:
    if not wanted:
        raise InputError("Type /programs delete ID, with one of the ids /programs lists.")
    row = next((r for r in mine if wanted.lower() in {r.program_id, r.title.lower()}), None)
    if row is None:
        raise InputError(f"You have no program “{wanted}”. /programs lists yours.")
    running = list(
        session.scalars(
            select(Workshop).where(
                Workshop.custom_program_id == row.id, Workshop.ended_at.is_(None)
            )
        )
    )
    for workshop in running:
        # The next planning ends it and tells the group, now rather than at its next day.
        workshop.next_due_at = ctx.clock.now()
    session.delete(row)
    ended = (
        f" It was running in {_count(len(running), 'group')}: "
        f"{'that workshop ends' if len(running) == 1 else 'those workshops end'} now, and "
        "the group is told."
        if running
        else ""
    )
    return Outcome().say(f"Deleted your program “{row.title}”.{ended}")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _size(size: int) -> str:
    return f"{size:,} bytes" if size < 1024 * 1024 else f"{size / (1024 * 1024):,.1f} MB"


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%d %b %Y}".lstrip("0")
