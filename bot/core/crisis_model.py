"""A learned second opinion on danger: a word model and a fine-tuned encoder, averaged.

Why: the concept rules in `content/crisis/<language>.yaml` are readable and precise,
but people describe danger in more ways than any list of rules holds. Measured on replies
written by people who never saw the rules, they caught about 57 in 100. Models trained
on thousands of labelled replies from many different writers generalise to phrasings
nobody wrote a rule for ("he gives me slaps", "i have to ask before i see my sister").
Two models, because they miss different things: a linear model over words and letter
groups (below) knows spellings, typos and slang its writers used; a fine-tuned sentence
encoder (`bot.core.crisis_encoder`) knows phrasings that mean the same in other words.
Their average found more danger on writers neither had seen than either alone, at the
same false alarms (`bench/crisis_train.py`).

The models and the rules are combined as they work best on writers none has seen: the
bot flags a reply of five words or more when the models are confident on their own, or
any reply when a rule finds danger and the models do not find it unlikely (a rule's "she
beats me" is trusted unless the words around it look like "at chess").
`bench/crisis_train.py` picks both thresholds.

The word model is data, not code: `content/crisis/<language>-model.json`, written by
`bench/crisis_train.py` with scikit-learn (a TF-IDF of word 1-2-grams and of letter
3-5-grams inside words, then logistic regression). Reading it needs only this module:
the arithmetic of that pipeline is short, and keeping scikit-learn out of the bot keeps
the install small and the file plain, inspectable JSON instead of a pickle. The same file
names the encoder's files and carries texts with the probability the two models gave
them together when they were written; a test checks that the bot reproduces them.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.core.catalog import CatalogError
from bot.core.crisis_encoder import Encoder, load_encoder

FORMAT = 2
# The model alone is trusted only on replies of at least this many words: on a fragment
# ("he says", "note to self") one word decides everything, and ordinary fragments are
# common. Shorter danger ("he hits me") is for the rules, which the model then confirms.
ALONE_MIN_WORDS = 5
_WORD = re.compile(r"\w+")
# scikit-learn's default token pattern: words of two or more letters or digits.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class Features:
    """One TF-IDF block: which n-grams it counts and, per n-gram, (idf, weight)."""

    analyzer: str  # "word" or "char_wb"
    ngram_range: tuple[int, int]
    terms: dict[str, tuple[float, float]]

    def grams(self, text: str) -> Iterator[str]:
        low, high = self.ngram_range
        if self.analyzer == "word":
            tokens = _TOKEN.findall(text)
            for n in range(low, high + 1):
                for start in range(len(tokens) - n + 1):
                    yield " ".join(tokens[start : start + n])
            return
        for word in _SPACES.sub(" ", text).split():
            padded = f" {word} "
            for n in range(low, high + 1):
                for start in range(max(1, len(padded) - n + 1)):
                    yield padded[start : start + n]
                if len(padded) <= n:  # a short word counts once, as scikit-learn does
                    break

    def score(self, text: str) -> float:
        """This block's share of the decision: the L2-normalised sublinear TF-IDF of
        `text`, dotted with the weights."""
        counts = Counter(gram for gram in self.grams(text) if gram in self.terms)
        dot = norm = 0.0
        for gram, count in counts.items():
            idf, weight = self.terms[gram]
            value = (1.0 + math.log(count)) * idf
            dot += value * weight
            norm += value * value
        return dot / math.sqrt(norm) if norm else 0.0


@dataclass(frozen=True)
class Model:
    language: str
    intercept: float
    threshold: float  # enough on its own
    threshold_with_rule: float  # enough when a concept rule also finds danger
    blocks: tuple[Features, ...]
    encoder: Encoder | None
    checks: tuple[tuple[str, float], ...]

    def word_probability(self, text: str) -> float:
        """How likely the word model thinks `text` describes danger, 0..1."""
        low = text.lower()
        z = self.intercept + sum(block.score(low) for block in self.blocks)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def probability(self, text: str) -> float:
        """How likely the models together think `text` describes danger, 0..1: the
        average of the two, or the word model's alone where no encoder was trained. A
        reply too long for the encoder is judged run of sentences by run, and its most
        worrying run counts (see `bot.core.crisis_encoder`)."""
        encoder = self.encoder
        if encoder is None:
            return self.word_probability(text)
        return max(
            (self.word_probability(run) + encoder.probability(run)) / 2
            for run in encoder.runs(text)
        )


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def model_file(language: str, folder: Path) -> Path:
    return folder / f"{language}-model.json"


@lru_cache(maxsize=16)
def load_model(path: Path) -> Model | None:
    """The model at `path`, read once per process; None when there is no such file (a
    language with rules but no trained model yet). A broken file raises `CatalogError`
    with one sentence, so start-up stops rather than a reply going unjudged."""
    if not path.exists():
        return None
    where = f"crisis/{path.name}"
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise CatalogError([f"{where}: format {raw.get('format')!r} is not {FORMAT}"])
        blocks = tuple(
            Features(
                str(block["analyzer"]),
                (int(block["ngram_range"][0]), int(block["ngram_range"][1])),
                {term: (float(v[0]), float(v[1])) for term, v in block["terms"].items()},
            )
            for block in raw["blocks"]
        )
        spec = raw.get("encoder")
        encoder_files = (
            None
            if spec is None
            else (path.parent / str(spec["model"]), path.parent / str(spec["tokenizer"]))
        )
        window = 0 if spec is None else int(spec["window"])
        model = Model(
            str(raw["language"]),
            float(raw["intercept"]),
            float(raw["threshold"]),
            float(raw["threshold_with_rule"]),
            blocks,
            None,
            tuple((str(text), float(p)) for text, p in raw["checks"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise CatalogError([f"{where}: cannot be read ({type(exc).__name__}: {exc})"]) from exc
    if any(block.analyzer not in ("word", "char_wb") for block in blocks):
        raise CatalogError([f"{where}: an analyzer is neither 'word' nor 'char_wb'"])
    if encoder_files is None:
        return model
    if window < 8:
        raise CatalogError([f"{where}: the encoder's window is {window} pieces, fewer than 8"])
    return replace(model, encoder=load_encoder(*encoder_files, window))
