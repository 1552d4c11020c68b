"""Train the crisis model (`content/crisis/en-model.json`) and say how well it generalises.

Why: the concept rules catch about 57 in 100 danger replies written by people who never
saw them. A model trained on replies from many writers catches phrasings nobody wrote
a rule for. What matters is how it does on a writer it has never seen, so every figure
here is *leave-one-writer-out*: for each training file (one writer, or one batch of the
project's own), a model is trained on all the others and judged on it, alone and
together with the rules, as the bot uses them. The threshold is chosen from those
held-out scores, so that the rules and the model together raise at most
`--false-alarm-budget` false alarms on writers they never saw; the shipped model is
then trained on every file.

The files are `bench/data/crisis-eval-en.yaml` and every `bench/data/crisis-writers/*.yaml`
(same format: items with text, label, kind). The blind sets in bench/blind/ are never
read here: they measure the result (`bench/crisis.py`).

Needs scikit-learn (`pip install -e '.[train]'`); the bot itself reads the JSON with
`bot.core.crisis_model` and does not.

    PYTHONPATH=. .venv/bin/python bench/crisis_train.py
"""

from __future__ import annotations

import argparse
import json
import random
import signal
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bench.crisis import DATA, RESULTS, TARGET_FALSE_ALARMS, TARGET_RECALL
from bot.core import crisis, crisis_model
from bot.core.catalog import default_content_dir

ROOT = Path(__file__).resolve().parent
WRITERS = ROOT / "data" / "crisis-writers"
CHECKS = 60
# Ordinary replies to the practices are most of what the bot reads: at most 1 in 50 may
# get the safety note.
EVERYDAY_FALSE_ALARMS = 0.02
SEED = 7


@dataclass(frozen=True)
class Batch:
    """One writer's labelled replies."""

    name: str
    texts: list[str]
    danger: np.ndarray

    @property
    def words(self) -> np.ndarray:
        return np.array([crisis_model.word_count(text) for text in self.texts])


def figures(flags: np.ndarray, danger: np.ndarray) -> tuple[float | None, float]:
    """Recall (None for a file of ordinary replies, which has no danger) and false-alarm
    rate."""
    recall = float(flags[danger].mean()) if danger.any() else None
    return recall, float(flags[~danger].mean())


def cell(figure: tuple[float | None, float]) -> str:
    recall, alarms = figure
    return f"{'-' if recall is None else f'{recall:.3f}':>6s}/{alarms:6.3f}"


def load_batches() -> list[Batch]:
    """Every training file, one batch each. A text already in an earlier file is left
    out of the later one (two writers can write "i said no and he kept going"); the
    same text with two labels stops the run."""
    batches: list[Batch] = []
    seen: dict[str, str] = {}
    for path in [DATA, *sorted(WRITERS.glob("*.yaml"))]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts, labels = [], []
        for item in data["items"]:
            text, label = str(item["text"]), str(item["label"])
            if label not in ("danger", "harmless"):
                raise SystemExit(f"{path.name}: a label is neither danger nor harmless: {label}")
            if text in seen:
                if seen[text] != label:
                    raise SystemExit(f"{path.name}: {text!r} is labelled both ways")
                continue
            seen[text] = label
            texts.append(text)
            labels.append(label == "danger")
        batches.append(Batch(path.stem, texts, np.array(labels)))
    return batches


def pipeline(c: float) -> Pipeline:
    """Word 1-2-grams catch what is said; letter 3-5-grams inside words catch spellings,
    typos and word forms nobody listed ("hitt", "slapped", "unaliving")."""
    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                        (
                            "char_wb",
                            TfidfVectorizer(
                                analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True
                            ),
                        ),
                    ]
                ),
            ),
            ("model", LogisticRegression(C=c, max_iter=5000, class_weight="balanced")),
        ]
    )


def held_out(batches: list[Batch], c: float) -> list[np.ndarray]:
    """Each batch's probabilities from a model trained on all the other batches."""
    scores = []
    for index, batch in enumerate(batches):
        rest = [b for i, b in enumerate(batches) if i != index]
        model = pipeline(c).fit(
            [t for b in rest for t in b.texts], np.concatenate([b.danger for b in rest])
        )
        scores.append(model.predict_proba(batch.texts)[:, 1])
    return scores


@dataclass(frozen=True)
class Thresholds:
    """Flag a reply of at least `crisis_model.ALONE_MIN_WORDS` words when the model's
    probability reaches `alone`, or any reply when a rule finds danger and the
    probability reaches `with_rule`: a rule's hit is trusted only when the model does not
    find it unlikely ("she beats me at chess"), and the model alone is not trusted on a
    fragment ("he says"), where one word decides everything."""

    alone: float
    with_rule: float

    def flags(self, scores: np.ndarray, rules: np.ndarray, words: np.ndarray) -> np.ndarray:
        alone = (scores >= self.alone) & (words >= crisis_model.ALONE_MIN_WORDS)
        return np.asarray(alone | (rules & (scores >= self.with_rule)))


def choose_thresholds(
    batches: list[Batch],
    scores: list[np.ndarray],
    rules: list[np.ndarray],
    budget: float,
    everyday_budget: float,
) -> Thresholds:
    """The pair that flags the most danger of unseen writers (pooled) while flagging at
    most `budget` of their harmless replies, which are hard on purpose ("she beats me at
    chess"), and at most `everyday_budget` of ordinary replies to the practices (files
    with no danger in them): a note on "I want to be seen" would teach everyone to
    ignore it. The rules' own tuning file is left out: the rules were written against
    it, so their hits there say nothing."""
    unseen = [i for i, b in enumerate(batches) if b.name != DATA.stem]
    hard = [i for i in unseen if batches[i].danger.any()]
    everyday = [i for i in unseen if not batches[i].danger.any()]

    def pooled(indices: list[int]) -> tuple[np.ndarray, ...]:
        if not indices:
            return np.zeros(0, bool), np.zeros(0), np.zeros(0, bool), np.zeros(0, int)
        return (
            np.concatenate([batches[i].danger for i in indices]),
            np.concatenate([scores[i] for i in indices]),
            np.concatenate([rules[i] for i in indices]),
            np.concatenate([batches[i].words for i in indices]),
        )

    danger, score, rule, words = pooled(hard)
    _, everyday_score, everyday_rule, everyday_words = pooled(everyday)
    best, best_recall = Thresholds(0.99, 0.99), -1.0
    for alone in np.round(np.arange(0.50, 0.995, 0.01), 2):
        for with_rule in np.round(np.arange(0.0, 0.61, 0.05), 2):
            pair = Thresholds(float(alone), float(with_rule))
            flags = pair.flags(score, rule, words)
            quiet_enough = not everyday or (
                pair.flags(everyday_score, everyday_rule, everyday_words).mean() <= everyday_budget
            )
            if (
                quiet_enough
                and flags[~danger].mean() <= budget
                and flags[danger].mean() > best_recall
            ):
                best, best_recall = pair, float(flags[danger].mean())
    return best


def export(
    model: Pipeline, thresholds: Thresholds, texts: list[str], language: str
) -> dict[str, Any]:
    union: FeatureUnion = model.named_steps["features"]
    weights = model.named_steps["model"].coef_[0]
    blocks, offset = [], 0
    for name, vectorizer in union.transformer_list:
        terms = vectorizer.get_feature_names_out()
        idf = vectorizer.idf_
        block_weights = weights[offset : offset + len(terms)]
        offset += len(terms)
        blocks.append(
            {
                "analyzer": name,
                "ngram_range": list(vectorizer.ngram_range),
                "terms": {
                    str(term): [round(float(i), 6), round(float(w), 6)]
                    for term, i, w in zip(terms, idf, block_weights, strict=True)
                },
            }
        )
    sample = random.Random(SEED).sample(texts, min(CHECKS, len(texts)))
    probabilities = model.predict_proba(sample)[:, 1]
    return {
        "format": crisis_model.FORMAT,
        "language": language,
        "about": (
            "Written by bench/crisis_train.py: TF-IDF (word 1-2-grams, letter 3-5-grams in "
            "words) and logistic regression. terms: n-gram -> [idf, weight]. checks: texts "
            "with the probability scikit-learn gave them, which bot/core/crisis_model.py "
            "must reproduce."
        ),
        "intercept": round(float(model.named_steps["model"].intercept_[0]), 6),
        "threshold": thresholds.alone,
        "threshold_with_rule": thresholds.with_rule,
        "blocks": blocks,
        "checks": [[t, round(float(p), 6)] for t, p in zip(sample, probabilities, strict=True)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--c", type=float, default=16.0, help="inverse regularisation strength")
    parser.add_argument(
        "--false-alarm-budget",
        type=float,
        default=TARGET_FALSE_ALARMS,
        help="false alarms allowed on writers the model never saw",
    )
    parser.add_argument(
        "--everyday-budget",
        type=float,
        default=EVERYDAY_FALSE_ALARMS,
        help="false alarms allowed on ordinary replies (files with no danger in them)",
    )
    parser.add_argument("--dry-run", action="store_true", help="report, but write no model")
    args = parser.parse_args()
    batches = load_batches()
    rules = [np.array([crisis.rules_hit(t) for t in b.texts]) for b in batches]
    scores = held_out(batches, args.c)
    thresholds = choose_thresholds(
        batches, scores, rules, args.false_alarm_budget, args.everyday_budget
    )
    print(
        f"leave-one-writer-out, C={args.c}: flag when the model says >= {thresholds.alone:.2f}, "
        f"or a rule hits and it says >= {thresholds.with_rule:.2f}"
    )
    print(f"{'held-out file':16s} {'danger':>6s} {'harmless':>8s}  {'rules':>13s}  {'model':>13s}"
          f"  {'both':>13s}   (recall / false alarms)")  # fmt: skip
    report: dict[str, Any] = {"c": args.c, "thresholds": asdict(thresholds), "held_out": {}}
    names = ("rules", "model", "both")
    pooled: dict[str, dict[str, list[np.ndarray]]] = {
        part: {name: [] for name in (*names, "danger")} for part in ("hard", "everyday")
    }
    for batch, score, rule in zip(batches, scores, rules, strict=True):
        flags = {
            "rules": rule,
            "model": (score >= thresholds.alone) & (batch.words >= crisis_model.ALONE_MIN_WORDS),
            "both": thresholds.flags(score, rule, batch.words),
        }
        row = {name: figures(f, batch.danger) for name, f in flags.items()}
        report["held_out"][batch.name] = row
        print(f"{batch.name:16s} {int(batch.danger.sum()):6d} {int((~batch.danger).sum()):8d}  "
              + "  ".join(cell(row[n]) for n in names))  # fmt: skip
        if batch.name != DATA.stem:
            part = pooled["hard" if batch.danger.any() else "everyday"]
            for name, f in flags.items():
                part[name].append(f)
            part["danger"].append(batch.danger)
    for part, columns in pooled.items():
        if not columns["danger"]:
            continue
        danger = np.concatenate(columns["danger"])
        report[f"pooled_{part}"] = {n: figures(np.concatenate(columns[n]), danger) for n in names}
        label = "unseen, pooled" if part == "hard" else "everyday, pooled"
        print(f"{label:16s} {'':6s} {'':8s}  "
              + "  ".join(cell(report[f"pooled_{part}"][n]) for n in names))  # fmt: skip
    print(f"({DATA.stem} is left out of the pooled figures: the rules were written against it)")
    print(
        f"goal: recall >= {TARGET_RECALL}, false alarms <= {TARGET_FALSE_ALARMS} "
        f"(on ordinary replies <= {args.everyday_budget})"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "crisis_train.json").write_text(json.dumps(report, indent=2) + "\n")
    if args.dry_run:
        return
    texts = [t for b in batches for t in b.texts]
    final = pipeline(args.c).fit(texts, np.concatenate([b.danger for b in batches]))
    path = crisis_model.model_file("en", default_content_dir() / "crisis")
    payload = export(final, thresholds, texts, "en")
    path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
