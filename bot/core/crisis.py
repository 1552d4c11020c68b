"""Does a private reply sound like danger? Concepts per language, read from `content/crisis/`.

Why: when someone writes, in reply to a practice, that their partner hurts or frightens
them, controls them, or that they want to die, the bot answers privately with a safety
note instead of a cheerful "saved". A miss leaves a person in danger without that note,
so the rules lean towards flagging; but a note that fires on "this commute will kill
me" teaches people to ignore it, so idioms, denials, stories and play are ruled out.

People describe danger in endless phrasings, so the rules are not phrases but CONCEPTS
that must meet: a person in the writer's life + a harm verb + "me" ("my ex ... shoved
me"), the writer + a wish + death ("i ... would rather ... be dead"), a person + a
control verb + something of the writer's ("he ... keeps ... my bank card"). The
lexicons and rules are data (`content/crisis/<language>.yaml`), so someone who knows how
people talk about danger can improve them without reading Python, and
`bench/crisis.py` measures every change. A text is judged in five steps:

1. it is normalised (lower case, straight apostrophes, single spaces);
2. each rule of each kind is searched as a whole-word regular expression in which
   `<name>` stands for a lexicon from `concepts`, ` ... ` for up to `gap` words that stay
   in one clause (no punctuation, no clause word such as "but", nor "and" before a new
   subject: "he got drunk and hit me" is one clause, "he hit the ball and it hit me"
   two), and ` & ` joins parts that must all be found in one sentence, in any order
   (an expression is only searched in a sentence that holds one of the literal words
   all its matches need: most sentences hold none, so broad rules stay cheap);
3. a match is dropped when an idiom overlaps it ("hit me up"), when a denial stands
   right before it or inside one of its gaps ("he has never hit me", "i'm not scared of
   him"), when a story cue comes shortly before it in its sentence ("a film where..."),
   or when one of its kind's `unless` cues is in its sentence (play: "pillow fight");
4. a text that places the danger clearly in the past *and* says the writer is safe now,
   with nothing saying it still happens, is not flagged (see `resolved` in the file);
5. what is left are the hits;
6. the trained models beside the rules (a word model and a fine-tuned sentence encoder,
   averaged; `content/crisis/<language>-model.json` says where each is, see
   `bot.core.crisis_model`) have the last word: they flag a reply of five words or more
   on their own when confident, and a rule's hit counts when they find it likely enough.

A broken file raises `CatalogError` with one readable sentence per problem, as a broken
practice file does: a detector that silently matched nothing would be worse than a bot
that refuses to start. Call `check_rules()` at start-up (it reads the models too) to
find out before the first reply.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.catalog import CatalogError, default_content_dir
from bot.core.crisis_model import ALONE_MIN_WORDS, Model, load_model, model_file, word_count

DEFAULT_LANGUAGE = "en"
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
# `<name>` is a concept, except in Python's own `(?P<name>...)` syntax.
_CONCEPT = re.compile(r"(?<!\(\?P)<([a-z_]+)>")
_MAX_DEPTH = 5
# Sentences are judged in pieces of at most this many characters, overlapping by about
# `_OVERLAP`: far longer than any rule's words, short enough to keep judging linear.
_PIECE = 400
_OVERLAP = 120
_GAP = " ... "
_ALL_OF = " & "
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "“": '"', "”": '"'})
_SPACES = re.compile(r"\s+")
_NOT_A_WORD = re.compile(r"[\w']{40,}")
_LETTER = re.compile(r"[^\W\d_]")
# libyaml's parser when PyYAML was built with it, as the catalog does.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A quick test before each expression needs Python's own parse of it (see `_gate`).
try:
    _PARSER: Any = importlib.import_module("re._parser")
    _OPS: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - another Python: every expression just runs
    _PARSER = _OPS = None
# A gate of more literals than this costs about what it saves.
_GATE_SIZE = 40
_GATE_SHORTEST = 3


# --- the file as written ------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindSpec(_Strict):
    """One kind of danger: its name for people, the rules that find it, and look-alikes."""

    label: str = Field(min_length=1)
    rules: tuple[str, ...] = Field(min_length=1)
    # Overlapping a match, these cancel it ("kill me if i forget our anniversary").
    idioms: tuple[str, ...] = ()
    # Anywhere in the match's sentence, these cancel it ("pillow fight", "lol").
    unless: tuple[str, ...] = ()


class NegationSpec(_Strict):
    """A cue ("never", "didn't") cancels a match when only `bridge` words stand between."""

    cues: tuple[str, ...] = Field(min_length=1)
    bridge: tuple[str, ...] = ()
    max_bridge: int = Field(default=4, ge=0, le=10)
    # Right after the match, this keeps it despite the cue ("if he ever hits me again").
    unless_followed_by: str | None = None


class StorySpec(_Strict):
    """A film, a book, the news: what happens there does not happen to the writer."""

    cues: tuple[str, ...] = Field(min_length=1)
    window: int = Field(default=10, ge=1, le=30)


class ResolvedSpec(_Strict):
    """Danger that is over: a past cue and a safe-now cue, and no cue that it goes on."""

    past: tuple[str, ...] = Field(min_length=1)
    safe_now: tuple[str, ...] = Field(min_length=1)
    still: tuple[str, ...] = Field(min_length=1)


class CrisisFile(_Strict):
    language: str = Field(pattern=r"^[a-z]{2,3}$")
    # Lexicons: a list of alternatives (each a regular expression), or one expression.
    concepts: dict[str, tuple[str, ...] | str] = Field(default_factory=dict)
    boundary: str = Field(min_length=1)
    sentence: str = r"[.!?;\n]"
    gap: int = Field(default=5, ge=1, le=12)
    negation: NegationSpec
    stories: StorySpec | None = None
    resolved: ResolvedSpec | None = None
    idioms: tuple[str, ...] = ()
    kinds: dict[str, KindSpec] = Field(min_length=1)


# --- the compiled rules -------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One rule that matched and survived the idiom, negation, story and play checks."""

    kind: str
    phrase: str
    pattern: str


@dataclass(frozen=True)
class Part:
    """One compiled expression and its gate: literal words one of which every match
    contains ("custody", " me"), searched first. Most sentences have none of them, and
    a literal search is many times cheaper than the expression; so the rules can grow
    without the judging slowing down."""

    pattern: re.Pattern[str]
    gate: re.Pattern[str] | None

    def could_match(self, text: str) -> bool:
        return self.gate is None or self.gate.search(text) is not None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text) if self.could_match(text) else iter(())


@dataclass(frozen=True)
class Rule:
    """A rule as written in the file (for reports) and compiled: one expression per part
    that must be found in the same sentence."""

    source: str
    parts: tuple[Part, ...]

    def could_match(self, text: str) -> bool:
        """False when some part's gate rules the text out: the cheap test first."""
        return all(part.could_match(text) for part in self.parts)


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    rules: tuple[Rule, ...]
    idioms: tuple[Part, ...]
    unless: re.Pattern[str] | None


@dataclass(frozen=True)
class Rules:
    """One language's compiled rules; `hits` is where a text is judged."""

    language: str
    kinds: tuple[Kind, ...]
    idioms: tuple[Part, ...]
    boundary: re.Pattern[str]
    sentence: re.Pattern[str]
    negated_at_end: re.Pattern[str]
    negation_kept_by: re.Pattern[str] | None
    story_cue: re.Pattern[str] | None
    story_window: int
    past: re.Pattern[str] | None
    safe_now: re.Pattern[str] | None
    still: re.Pattern[str] | None

    def hits(self, text: str) -> list[Hit]:
        """Every surviving rule in `text`, at most one hit per rule.

        Judged one sentence at a time, a long one in overlapping pieces, so the time grows
        with the length of the text and not with its square (a reply may be 40,000
        characters, and it is judged inside the transaction that saves it)."""
        clean = normalise(text)
        if self._resolved(clean):
            return []
        found: dict[str, Hit] = {}
        for piece in self._pieces(clean):
            for hit in self._hits_in(piece):
                found.setdefault(hit.pattern, hit)
        return list(found.values())

    def _hits_in(self, sentence: str) -> list[Hit]:
        shared: list[tuple[int, int]] | None = None  # the idioms, found when first needed
        found: list[Hit] = []
        for kind in self.kinds:
            excused: list[tuple[int, int]] | None = None
            for rule in kind.rules:
                if not rule.could_match(sentence):
                    continue
                if excused is None:
                    shared = _spans(self.idioms, sentence) if shared is None else shared
                    excused = shared + _spans(kind.idioms, sentence)
                phrase = self._match(rule, kind, sentence, excused)
                if phrase is not None:
                    found.append(Hit(kind.name, phrase, rule.source))
        return found

    def _pieces(self, text: str) -> Iterator[str]:
        """The sentences of `text`; one longer than `_PIECE` characters is cut at spaces
        into pieces that overlap by about `_OVERLAP`, so no rule's words are cut apart."""
        for start, end in self._sentences(text):
            sentence = text[start:end]
            while len(sentence) > _PIECE:
                cut = sentence.rfind(" ", _PIECE // 2, _PIECE)
                cut = cut if cut > 0 else _PIECE
                if _LETTER.search(sentence, 0, cut):
                    yield sentence[:cut]
                restart = sentence.rfind(" ", 0, cut - _OVERLAP)
                sentence = sentence[restart + 1 if restart > 0 else cut :]
            if _LETTER.search(sentence):  # no letter, no word: nothing to judge
                yield sentence

    def _match(
        self, rule: Rule, kind: Kind, sentence: str, excused: list[tuple[int, int]]
    ) -> str | None:
        """The matched words if every part of `rule` survives in `sentence`."""
        words: list[str] = []
        for part in rule.parts:
            survivor = next(
                (
                    match.group(0)
                    for match in part.finditer(sentence)
                    if not _overlaps(match.span(), excused)
                    and not self._cancelled(sentence, match, kind)
                ),
                None,
            )
            if survivor is None:
                return None
            words.append(survivor)
        return " & ".join(words)

    def _clause_before(self, text: str, at: int) -> str:
        """The words before `at`, back to the start of their clause."""
        before = text[max(0, at - _PIECE) : at]
        cuts = [m.end() for m in self.boundary.finditer(before)]
        return before[cuts[-1] :] if cuts else before

    def _negated(self, text: str, at: int, end: int) -> bool:
        if not self.negated_at_end.search(self._clause_before(text, at)):
            return False
        kept = self.negation_kept_by
        return kept is None or not kept.match(text, end)

    def _cancelled(self, text: str, match: re.Match[str], kind: Kind) -> bool:
        """Denied ("never hit me", "he has never once hit me"), told of a story ("a film
        where..."), or play in the same sentence ("pillow fight")."""
        start, end = match.span()
        if self._negated(text, start, end):
            return True
        # A denial inside the match, just before the words after a gap.
        for name, value in match.groupdict().items():
            if name.startswith("gap") and value and self._negated(text, match.end(name) + 1, end):
                return True
        if kind.unless is not None and kind.unless.search(text):
            return True
        if self.story_cue is None:
            return False
        words = text[:start].split()
        recent = " ".join(words[-self.story_window :])
        return self.story_cue.search(recent) is not None

    def _sentences(self, text: str) -> list[tuple[int, int]]:
        spans, begin = [], 0
        for cut in self.sentence.finditer(text):
            spans.append((begin, cut.end()))
            begin = cut.end()
        spans.append((begin, len(text)))
        return spans

    def _resolved(self, text: str) -> bool:
        if self.past is None or self.safe_now is None or self.still is None:
            return False
        if self.still.search(text) or not self.past.search(text):
            return False
        return any(not self._negated(text, *m.span()) for m in self.safe_now.finditer(text))


def normalise(text: str) -> str:
    """Lower case, one kind of apostrophe, single spaces: how the rules are written. A
    "word" longer than any word (a run of 4,000 x's) becomes one `_`: no rule can match it,
    and the expressions' word patterns would otherwise try it from every position."""
    folded = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    return _SPACES.sub(" ", _NOT_A_WORD.sub("_", folded)).strip()


def _spans(patterns: tuple[Part, ...], text: str) -> list[tuple[int, int]]:
    return [m.span() for p in patterns for m in p.finditer(text)]


def _gate(pattern: str) -> re.Pattern[str] | None:
    """Literals one of which every match of `pattern` contains, as one expression; None
    when there are none worth searching for (shorter than 3 letters, or too many)."""
    if _PARSER is None:
        return None
    try:
        found = _literals(_PARSER.parse(pattern).data)
    except Exception:  # an unusual expression is simply not gated
        return None
    if not found or min(map(len, found)) < _GATE_SHORTEST:
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(found, key=len, reverse=True)))


def _literals(items: Any) -> set[str] | None:
    """For a parsed sequence: the best set of literals one of which every match contains.

    Candidates are each run of literal characters, each alternation whose every branch
    has such a set, and each group or repeat (at least once) that has one; zero-width
    assertions do not break a run. The best is the one with the longest shortest member,
    then the fewest members."""
    candidates: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is _OPS.LITERAL:
            run += chr(av)
            continue
        if op in (_OPS.AT, _OPS.ASSERT, _OPS.ASSERT_NOT):
            continue
        if run:
            candidates.append({run})
            run = ""
        inner: set[str] | None = None
        if op is _OPS.SUBPATTERN:
            if av[1] or av[2]:  # flags change how it matches: give up
                return None
            inner = _literals(av[3].data)
        elif op is _OPS.BRANCH:
            inner = set()
            for branch in av[1]:
                found = _literals(branch.data)
                if not found or len(inner | found) > _GATE_SIZE:
                    inner = None
                    break
                inner |= found
        elif op in (_OPS.MAX_REPEAT, _OPS.MIN_REPEAT) and av[0] >= 1:
            inner = _literals(av[2].data)
        if inner:
            candidates.append(inner)
    if run:
        candidates.append({run})
    candidates = [c for c in candidates if len(c) <= _GATE_SIZE]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(min(map(len, c)), 6), -len(c)))


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(o_start < end and start < o_end for o_start, o_end in others)


# --- loading ------------------------------------------------------------------------------


def crisis_dir(content_dir: Path | None = None) -> Path:
    return (content_dir or default_content_dir()) / "crisis"


def available_languages(content_dir: Path | None = None) -> list[str]:
    return sorted(p.stem for p in crisis_dir(content_dir).glob("*.yaml"))


def phrase_file(language: str = DEFAULT_LANGUAGE, content_dir: Path | None = None) -> Path:
    """The file that judges `language` ("de", "pt-BR"): its own, else the English one.

    A language without a file is judged in English: a person writing in another language
    may still use English words for danger, and some check is better than none.
    """
    code = language.strip().lower().replace("_", "-").split("-")[0]
    folder = crisis_dir(content_dir)
    path = folder / f"{code}.yaml"
    if _LANGUAGE_CODE.fullmatch(code) and path.exists():
        return path
    return folder / f"{DEFAULT_LANGUAGE}.yaml"


def load_rules(language: str = DEFAULT_LANGUAGE, content_dir: Path | None = None) -> Rules:
    """Read and compile the file for `language`; raise `CatalogError` naming each
    problem, one sentence each, as the practice catalog does."""
    return _load(phrase_file(language, content_dir))


def rules_for(language: str = DEFAULT_LANGUAGE, content_dir: Path | None = None) -> Rules:
    """`load_rules`, compiled once per file for the life of the process: the bot judges
    every reply, and compiling a few hundred expressions each time would be waste.

    Safe to call at start-up: a broken file raises `CatalogError` (its message is one
    sentence per problem, each naming the file and the field)."""
    return _load_once(phrase_file(language, content_dir))


def check_rules(content_dir: Path | None = None) -> list[str]:
    """Compile every language's file now (cached for later replies) and return the
    languages; raise `CatalogError` for the first broken file. For start-up."""
    languages = available_languages(content_dir) or [DEFAULT_LANGUAGE]
    for language in languages:
        rules_for(language, content_dir)
        model_for(language, content_dir)
    return languages


@lru_cache(maxsize=16)
def _load_once(path: Path) -> Rules:
    return _load(path)


def _load(path: Path) -> Rules:
    where = f"crisis/{path.name}"
    problems: list[str] = []
    try:
        raw: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())
        raise CatalogError([f"{where}: cannot be read as YAML ({reason})"]) from exc
    try:
        spec = CrisisFile.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(part) for part in err["loc"]) or "file"
            problems.append(f"{where}: field '{field}': {err['msg']}")
        raise CatalogError(problems) from exc
    if spec.language != path.stem:
        problems.append(f"{where}: field 'language': says '{spec.language}', not '{path.stem}'")
    rules = _compile(spec, where, problems)
    if problems or rules is None:
        raise CatalogError(problems or [f"{where}: could not be compiled"])
    return rules


class _Compiler:
    """Expands `<concept>`s and gaps and compiles, one readable problem per bad entry."""

    def __init__(
        self, concepts: dict[str, str], gap_word: str, gap: int, where: str, problems: list[str]
    ) -> None:
        self.concepts = concepts
        self.gap_word = gap_word
        self.gap = gap
        self.where = where
        self.problems = problems

    def expand(self, source: str, field: str) -> str | None:
        text = source
        for _ in range(_MAX_DEPTH + 1):
            names = _CONCEPT.findall(text)
            if not names:
                return text
            unknown = sorted({n for n in names if n not in self.concepts})
            if unknown:
                known = ", ".join(sorted(self.concepts)) or "none"
                self.problems.append(
                    f"{self.where}: field '{field}': '{source}' uses the unknown concept "
                    f"<{unknown[0]}> (concepts: {known})"
                )
                return None
            text = _CONCEPT.sub(lambda m: f"(?:{self.concepts[m.group(1)]})", text)
        self.problems.append(
            f"{self.where}: field '{field}': concepts nest more than {_MAX_DEPTH} deep"
        )
        return None

    def with_gaps(self, expanded: str) -> str:
        """` ... ` becomes up to `gap` words of one clause, in a group named gapN so that
        a denial inside it ("he has never hit me") can be seen."""
        pieces = expanded.split(_GAP)
        out = pieces[0]
        for number, piece in enumerate(pieces[1:], start=1):
            out += f"(?P<gap{number}>(?: {self.gap_word}){{0,{self.gap}}}?) {piece}"
        return out

    def regex(self, source: str, field: str, *, whole_words: bool = True) -> re.Pattern[str] | None:
        expanded = self.expand(source, field)
        if expanded is None:
            return None
        expanded = self.with_gaps(expanded)
        # Whole words: no word character may run on across either end ("he's " ends a
        # match before "drunk" as well as "he's" does).
        wrapped = rf"(?:(?<!\w)|(?!\w))(?:{expanded})(?!(?<=\w)\w)" if whole_words else expanded
        try:
            return re.compile(wrapped)
        except re.error as exc:
            self.problems.append(
                f"{self.where}: field '{field}': '{source}' is not a valid regular expression "
                f"({exc})"
            )
            return None

    def many(self, sources: tuple[str, ...], field: str) -> tuple[Part, ...]:
        found = []
        for index, source in enumerate(sources, start=1):
            compiled = self.regex(source, f"{field}.{index}")
            if compiled is not None:
                found.append(Part(compiled, _gate(compiled.pattern)))
        return tuple(found)

    def rules(self, sources: tuple[str, ...], field: str) -> tuple[Rule, ...]:
        found = []
        for index, source in enumerate(sources, start=1):
            parts = tuple(
                self.regex(part.strip(), f"{field}.{index}") for part in source.split(_ALL_OF)
            )
            if all(part is not None for part in parts):
                gated = tuple(Part(p, _gate(p.pattern)) for p in parts if p is not None)
                found.append(Rule(source, gated))
        return tuple(found)

    def alternation(self, sources: tuple[str, ...], field: str) -> re.Pattern[str] | None:
        """Several cues as one whole-word expression (each checked on its own first)."""
        if not sources or len(self.many(sources, field)) != len(sources):
            return None
        expanded = [self.expand(s, field) or "" for s in sources]
        return self.regex("|".join(f"(?:{e})" for e in expanded), field)


def _concepts(spec: CrisisFile) -> dict[str, str]:
    return {
        name: body if isinstance(body, str) else "|".join(f"(?:{alt})" for alt in body)
        for name, body in spec.concepts.items()
    }


def _compile(spec: CrisisFile, where: str, problems: list[str]) -> Rules | None:
    before = len(problems)
    try:
        boundary = re.compile(spec.boundary)
        sentence = re.compile(spec.sentence)
    except re.error as exc:
        problems.append(f"{where}: field 'boundary': not a valid regular expression ({exc})")
        return None
    # A gap word: no punctuation, and not a word that starts a new clause.
    gap_word = rf"(?!(?:{spec.boundary}))[^\s.,!?;:]+"
    compiler = _Compiler(_concepts(spec), gap_word, spec.gap, where, problems)
    for name in spec.concepts:
        compiler.regex(f"<{name}>", f"concepts.{name}")
    kinds = tuple(
        Kind(
            name=name,
            label=kind.label,
            rules=compiler.rules(kind.rules, f"kinds.{name}.rules"),
            idioms=compiler.many(kind.idioms, f"kinds.{name}.idioms"),
            unless=compiler.alternation(kind.unless, f"kinds.{name}.unless"),
        )
        for name, kind in spec.kinds.items()
    )
    idioms = compiler.many(spec.idioms, "idioms")
    cues = compiler.alternation(spec.negation.cues, "negation.cues")
    bridge = compiler.alternation(spec.negation.bridge or ("(?!x)x",), "negation.bridge")
    negated_at_end = None
    if cues is not None and bridge is not None:
        # A cue, then at most `max_bridge` small words, then the end of the clause.
        negated_at_end = re.compile(
            rf"{cues.pattern}(?:[ ,]+{bridge.pattern}){{0,{spec.negation.max_bridge}}}[ ,]*$"
        )
    kept_by = None
    if spec.negation.unless_followed_by is not None:
        kept_by = compiler.regex(
            spec.negation.unless_followed_by, "negation.unless_followed_by", whole_words=False
        )
        if kept_by is None:
            return None
    story = compiler.alternation(spec.stories.cues, "stories.cues") if spec.stories else None
    resolved = spec.resolved
    past = compiler.alternation(resolved.past, "resolved.past") if resolved else None
    safe_now = compiler.alternation(resolved.safe_now, "resolved.safe_now") if resolved else None
    still = compiler.alternation(resolved.still, "resolved.still") if resolved else None
    if len(problems) > before or negated_at_end is None:
        return None
    return Rules(
        language=spec.language,
        kinds=kinds,
        idioms=idioms,
        boundary=boundary,
        sentence=sentence,
        negated_at_end=negated_at_end,
        negation_kept_by=kept_by,
        story_cue=story,
        story_window=spec.stories.window if spec.stories else 0,
        past=past,
        safe_now=safe_now,
        still=still,
    )


# --- what the bot calls -------------------------------------------------------------------


def hits(text: str, language: str = DEFAULT_LANGUAGE) -> list[Hit]:
    """Each match that counts, with its kind and the words: for tests and the benchmark."""
    return rules_for(language).hits(text)


def matches(text: str, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """The kinds of danger `text` sounds like (e.g. ["violence", "fear"]), in file order."""
    return list(dict.fromkeys(hit.kind for hit in hits(text, language)))


def rules_hit(text: str, language: str = DEFAULT_LANGUAGE) -> bool:
    """True when a concept rule finds danger in `text` (the model aside)."""
    return bool(hits(text, language))


def model_for(language: str = DEFAULT_LANGUAGE, content_dir: Path | None = None) -> Model | None:
    """The trained model beside the rules that judge `language`, if there is one."""
    rules = phrase_file(language, content_dir)
    return load_model(model_file(rules.stem, rules.parent))


def sounds_like_crisis(text: str, language: str = DEFAULT_LANGUAGE) -> bool:
    """True when the bot should answer with the safety note rather than a plain "saved":
    when the model is confident, or a rule finds danger the model finds likely enough
    (see `bot.core.crisis_model` for why both). Without a model, the rules alone."""
    model = model_for(language)
    if model is None:
        return rules_hit(text, language)
    probability = model.probability(text)
    if probability >= model.threshold and word_count(text) >= ALONE_MIN_WORDS:
        return True
    return probability >= model.threshold_with_rule and rules_hit(text, language)
