"""The editorial rules a practice library keeps beyond its schema.

A practice can be valid YAML and still fail the person who receives it: a game sent to
someone alone, "five minutes" on a card that promises three, a step that can only be done
"next time", a near-copy of yesterday's card, a workshop day that repeats another program.
These rules catch what can be measured, for the shipped library at start-up and for a
facilitator's own program when it is uploaded (same rules, same sentences).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from bot.core.catalog import Audience, Practice, Program

# Wording that only makes sense when both partners take part, so never on a practice for
# someone using the bot alone (whose partner does not receive it).
TWO_PEOPLE = re.compile(
    r"\b(both of you|you both|each of you|together|each other|take turns|taking turns|"
    r"in turn|whoever|with your partner,|challenge your partner)\b"
    r"|(?:^|[.;:!?]\s+|\bthen\s+)your partner (does|tells|asks|shares|answers|says|picks|"
    r"chooses|describes|gives|takes|writes|reads)\b",
    re.IGNORECASE,
)
# Openings that wait for a moment which may not come on the day the card arrives.
WAITS_FOR_A_MOMENT = re.compile(
    r"^\s*(the next time|next time|if your partner is|in your next|at your next|"
    r"after your next|before your next|after the next|when you next)\b",
    re.IGNORECASE,
)
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "forty-five": 45, "sixty": 60, "ninety": 90,
}  # fmt: skip
DURATION = re.compile(
    r"\b(\d+|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")[\s-]+(minute|hour)s?\b",
    re.IGNORECASE,
)
# Words said aloud ("I need an hour to myself") are not the practice's own duration.
_QUOTED = re.compile(r"“[^”]*”")
STRAIGHT_QUOTES = re.compile(r"[\"']")
# How a problem names a practice: with its file when the file is known.
_Namer = Callable[[Practice], str]

# Two practices whose words overlap this much (rare words weighing more), or whose titles
# share this much, read as the same card twice. Tuned on the library: every pair above
# these lines was a merge or a rewrite.
SIMILAR_STEPS = 0.15
SIMILAR_TITLES = 0.60
_STOP = frozenset(
    "a an the and or but of to in on at for with your you it is be that this what one when as "
    "if how do did does about into from by them they their just which who would could can so "
    "not no yes than then there was were are me my we our its it's have has had more less "
    "some any all each own out up down off over once only very too now today you're they're "
    "don't i i'm it’s like".split()
)


def problems(
    practices: Mapping[str, Practice],
    programs: Mapping[str, Program],
    *,
    files: Mapping[str, str] | None = None,
) -> list[str]:
    """Every way the library breaks the editorial rules, one sentence each.

    `files` maps a practice or program id to the file it was read from, when there is one.
    """
    where = files or {}

    def named(practice: Practice) -> str:
        file = where.get(practice.id)
        return f"{file}: {practice.id}" if file else practice.id

    found: list[str] = []
    for practice in practices.values():
        found.extend(f"{named(practice)}: {reason}" for reason in practice_problems(practice))
    found.extend(_retired_problems(practices, named))
    found.extend(_duplicate_problems(practices, named))
    found.extend(_program_problems(programs, where))
    return found


def practice_problems(practice: Practice) -> Iterable[str]:
    """What is wrong with one practice on its own, each as "field 'x': reason"."""
    if Audience.SOLO in practice.audiences:
        for text in practice.steps:
            match = TWO_PEOPLE.search(text)
            if match:
                yield (
                    f"field 'for': marked for solo, but the steps need both partners "
                    f"(“{match.group(0).strip()}”)"
                )
                break
    for text in practice.steps:
        longest = max(_durations(text), default=0)
        if longest > practice.minutes:
            yield f"field 'minutes': {practice.minutes}, but the steps speak of {longest} minutes"
            break
    for number, text in enumerate(practice.steps, start=1):
        match = WAITS_FOR_A_MOMENT.match(text)
        if match:
            yield (
                f"field 'steps': step {number} opens with “{match.group(1)}”, so it cannot "
                "be done on the day it arrives"
            )
    for name, text in _texts(practice):
        if STRAIGHT_QUOTES.search(text):
            yield f"field '{name}': use curly quotes and apostrophes (“ ” ’), not straight ones"


def _texts(practice: Practice) -> Iterable[tuple[str, str]]:
    yield "title", practice.title
    for step in practice.steps:
        yield "steps", step
    yield "question", practice.question
    if practice.caution:
        yield "caution", practice.caution


def _durations(text: str) -> Iterable[int]:
    for match in DURATION.finditer(_QUOTED.sub("", text)):
        amount, unit = match.group(1).lower(), match.group(2).lower()
        value = int(amount) if amount.isdigit() else _NUMBERS[amount]
        yield value * 60 if unit == "hour" else value


def _retired_problems(practices: Mapping[str, Practice], named: _Namer) -> Iterable[str]:
    replaced_by: dict[str, str] = {}
    for practice in practices.values():
        for old in practice.replaces:
            if old in practices:
                yield f"{named(practice)}: field 'replaces': '{old}' is still a practice"
            elif old in replaced_by:
                yield (
                    f"{named(practice)}: field 'replaces': '{old}' is already replaced by "
                    f"{replaced_by[old]}"
                )
            else:
                replaced_by[old] = practice.id


def words(text: str) -> set[str]:
    """Content words, lower-cased and crudely stemmed, for comparing two practices."""
    found = re.findall(r"[a-z0-9’']+", text.lower())
    return {_stem(w) for w in found if w.replace("’", "'") not in _STOP and len(w) > 2}


def _stem(word: str) -> str:
    word = word.replace("’", "'").removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def similarity(
    first: set[str], second: set[str], weights: Mapping[str, float] | None = None
) -> float:
    """Weighted Jaccard: the share of the two word sets, by weight, that they have in
    common (every word weighs 1 without `weights`)."""

    def weight(found: set[str]) -> float:
        return sum(weights.get(w, 1.0) for w in found) if weights else float(len(found))

    union = weight(first | second)
    return weight(first & second) / union if union else 0.0


def _duplicate_problems(practices: Mapping[str, Practice], named: _Namer) -> Iterable[str]:
    ordered = sorted(practices.values(), key=lambda p: p.id)
    texts = {p.id: words(" ".join([p.title, *p.steps, p.question])) for p in ordered}
    titles = {p.id: words(p.title) for p in ordered}
    rarity = _rarity(texts.values())
    weight = {pid: sum(rarity[w] for w in text) for pid, text in texts.items()}
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            # similarity(..., rarity), without summing the union of every pair again
            shared = sum(rarity[w] for w in texts[first.id] & texts[second.id])
            union = weight[first.id] + weight[second.id] - shared
            overlap = shared / union if union else 0.0
            if overlap >= SIMILAR_STEPS:
                yield (
                    f"{named(first)}: field 'steps': too close to {named(second)} "
                    f"(they share {', '.join(sorted(texts[first.id] & texts[second.id]))})"
                )
            elif (
                len(titles[first.id] & titles[second.id]) >= 2
                and similarity(titles[first.id], titles[second.id]) >= SIMILAR_TITLES
            ):
                yield (
                    f"{named(first)}: field 'title': too close to {named(second)} "
                    f"(“{first.title}” and “{second.title}” read almost the same)"
                )


def _rarity(texts: Iterable[set[str]]) -> dict[str, float]:
    """How telling each word is: one that appears in few practices weighs more than one
    in many ("critic" says more about a practice than "partner")."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        counts.update(text)
        total += 1
    return {word: math.log(1 + total / count) for word, count in counts.items()}


def _program_problems(programs: Mapping[str, Program], where: Mapping[str, str]) -> Iterable[str]:
    used_in: dict[str, str] = {}
    for program in programs.values():
        file = where.get(program.id)
        named = f"{file}: {program.id}" if file else program.id
        if any(STRAIGHT_QUOTES.search(text) for text in (program.title, program.description)):
            yield f"{named}: use curly quotes and apostrophes (“ ” ’), not straight ones"
        for number, day in enumerate(program.days, start=1):
            if any(STRAIGHT_QUOTES.search(text) for text in (day.title, day.description)):
                yield (
                    f"{named}: day {number}: use curly quotes and apostrophes (“ ” ’), "
                    "not straight ones"
                )
            other = used_in.get(day.practice)
            if other is not None and other != program.id:
                yield (
                    f"{named}: day {number}: '{day.practice}' is already a day of {other}; "
                    "programs should not repeat one another"
                )
            used_in.setdefault(day.practice, program.id)


def typographic(text: str) -> str:
    """Straight quotes and apostrophes made curly, the library's one style: “quoted”,
    don’t. Single-quoted phrases ('fine') become double-quoted (“fine”)."""
    out: list[str] = []
    double_open = False
    for index, char in enumerate(text):
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if char == '"':
            double_open = not double_open
            out.append("“" if double_open else "”")
        elif char == "'":
            if before.isalnum() and after.isalnum():
                out.append("’")
            elif before.isspace() or before in "(“[—":
                out.append("“")
            elif _opened_single(out):
                out.append("”")
            else:
                out.append("’")
        else:
            out.append(char)
    return "".join(out)


def _opened_single(done: list[str]) -> bool:
    """Whether a quotation opened by a single quote is still open (so ' closes it)."""
    text = "".join(done)
    return text.count("“") > text.count("”")
