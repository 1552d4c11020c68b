"""Train the crisis models (`content/crisis/en-model.json` and `en-encoder.onnx`) and say
how well they generalise.

Why: the concept rules catch about 57 in 100 danger replies written by people who never
saw them. Models trained on replies from many writers catch phrasings nobody wrote a
rule for. What matters is how they do on writers they have never seen, so the thresholds
are chosen on *validation writers*: six training files (`--validation`: five writers who
mix danger with hard look-alikes, in different voices, and one file of ordinary replies)
are held back, both models are trained on the rest, and the pair of thresholds is chosen
on the held-back files from the probabilities the bot itself computes (the quantized
encoder through ONNX Runtime, the word model through `bot.core.crisis_model`). Then both
are trained again on every file and written, with those thresholds.

The word model (TF-IDF and logistic regression, seconds to train) could be judged
leave-one-writer-out; the encoder (`bench/crisis_encoder_train.py`, about 11 minutes a
pass on two cores) cannot, 29 times over. One held-back set of writers judges both.

The files are `bench/data/crisis-eval-en.yaml` and every `bench/data/crisis-writers/*.yaml`
(same format: items with text, label, kind). The blind sets in bench/blind/ are never
read here: they measure the result (`bench/crisis.py`).

Needs `pip install -e '.[train]'` (scikit-learn, PyTorch, transformers, ONNX); the bot
itself reads the JSON with `bot.core.crisis_model` and the encoder with ONNX Runtime.

    PYTHONPATH=. .venv/bin/python bench/crisis_train.py
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bench import crisis_encoder_train
from bench.crisis import DATA, RESULTS, TARGET_FALSE_ALARMS, TARGET_RECALL
from bot.core import crisis, crisis_model
from bot.core.catalog import default_content_dir

ROOT = Path(__file__).resolve().parent
WRITERS = ROOT / "data" / "crisis-writers"
CHECKS = 60
ENCODER = "en-encoder.onnx"
TOKENIZER = "en-tokenizer.json"
# Five writers who mix danger with look-alikes, each in a different voice (c: people who
# minimise and hint; h: self-harm, with low mood and dark humour that are not; n: English
# from a dozen countries; q: danger to someone else; t: people over 55), and a file of
# ordinary replies (bench/data/crisis-writers/README.md).
VALIDATION = ("c-en", "h-en", "n-en", "q-en", "t-en", "o3-en")
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


@dataclass(frozen=True)
class Thresholds:
    """Flag a reply of at least `crisis_model.ALONE_MIN_WORDS` words when the models'
    probability reaches `alone`, or any reply when a rule finds danger and the
    probability reaches `with_rule`: a rule's hit is trusted only when the models do not
    find it unlikely ("she beats me at chess"), and the models alone are not trusted on a
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
    """The pair that flags the most danger of the validation writers (pooled) while
    flagging at most `budget` of their harmless replies, which are hard on purpose ("she
    beats me at chess"), and at most `everyday_budget` of ordinary replies to the
    practices (files with no danger in them): a note on "I want to be seen" would teach
    everyone to ignore it."""
    hard = [i for i, b in enumerate(batches) if b.danger.any()]
    everyday = [i for i, b in enumerate(batches) if not b.danger.any()]

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
    for alone in np.round(np.arange(0.30, 0.995, 0.01), 2):
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


def word_model(model: Pipeline) -> dict[str, Any]:
    """The fitted TF-IDF pipeline as `bot.core.crisis_model` reads it."""
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
    return {
        "intercept": round(float(model.named_steps["model"].intercept_[0]), 6),
        "blocks": blocks,
    }


def write_models(
    folder: Path, batches: list[Batch], thresholds: Thresholds, epochs: float, log: str
) -> crisis_model.Model:
    """Train both models on `batches`, write them into `folder` as the bot reads them, and
    return them read back by the bot's own code. The JSON carries sample texts with the
    probability the written files gave them, which the bot must reproduce."""
    texts = [t for b in batches for t in b.texts]
    danger = np.concatenate([b.danger for b in batches])
    words = pipeline(16.0).fit(texts, danger)
    encoder = crisis_encoder_train.fine_tune(texts, [bool(d) for d in danger], epochs, log=log)
    crisis_encoder_train.export(encoder, folder / ENCODER)
    shutil.copyfile(crisis_encoder_train.base_tokenizer_file(), folder / TOKENIZER)
    path = crisis_model.model_file("en", folder)
    payload: dict[str, Any] = {
        "format": crisis_model.FORMAT,
        "language": "en",
        "about": (
            "Written by bench/crisis_train.py. The word model: TF-IDF (word 1-2-grams, "
            "letter 3-5-grams in words) and logistic regression; terms: n-gram -> [idf, "
            "weight]. The encoder: all-MiniLM-L6-v2 fine-tuned (bench/crisis_encoder_train.py), "
            "8-bit ONNX. The probability is the average of the two. checks: texts with the "
            "probability these files gave them, which bot/core/crisis_model.py must reproduce."
        ),
        "threshold": thresholds.alone,
        "threshold_with_rule": thresholds.with_rule,
        **word_model(words),
        "encoder": {
            "model": ENCODER,
            "tokenizer": TOKENIZER,
            "window": crisis_encoder_train.WINDOW,
        },
        "checks": [],
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n")
    crisis_model.load_model.cache_clear()
    model = crisis_model.load_model(path)
    assert model is not None
    sample = random.Random(SEED).sample(texts, min(CHECKS, len(texts)))
    payload["checks"] = [[t, round(model.probability(t), 6)] for t in sample]
    path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n")
    crisis_model.load_model.cache_clear()
    return model


def report(
    batches: list[Batch], model: crisis_model.Model, budget: float, everyday_budget: float
) -> tuple[Thresholds, dict[str, Any]]:
    """Choose the thresholds on the validation `batches` and print, per file and pooled,
    what the rules, each model and the bot's combination would flag there."""
    rules = [np.array([crisis.rules_hit(t) for t in b.texts]) for b in batches]
    scores = {
        "words": [np.array([model.word_probability(t) for t in b.texts]) for b in batches],
        "encoder": [
            np.array([model.encoder.probability(t) if model.encoder else 0.0 for t in b.texts])
            for b in batches
        ],
        "both": [np.array([model.probability(t) for t in b.texts]) for b in batches],
    }
    thresholds = choose_thresholds(batches, scores["both"], rules, budget, everyday_budget)
    print(
        f"validation writers: flag when the models say >= {thresholds.alone:.2f}, "
        f"or a rule hits and they say >= {thresholds.with_rule:.2f}"
    )
    names = ("rules", "words", "encoder", "both")
    print(f"{'file':16s} {'danger':>6s} {'harmless':>8s}  "
          + "  ".join(f"{n:>13s}" for n in names) + "   (recall / false alarms)")  # fmt: skip
    result: dict[str, Any] = {"thresholds": asdict(thresholds), "validation": {}}
    pooled: dict[str, dict[str, list[np.ndarray]]] = {
        part: {name: [] for name in (*names, "danger")} for part in ("hard", "everyday")
    }
    for index, batch in enumerate(batches):
        flags = {"rules": rules[index]}
        for name in ("words", "encoder", "both"):
            flags[name] = thresholds.flags(
                scores[name][index], rules[index] & (name == "both"), batch.words
            )
        row = {name: figures(f, batch.danger) for name, f in flags.items()}
        result["validation"][batch.name] = row
        print(f"{batch.name:16s} {int(batch.danger.sum()):6d} {int((~batch.danger).sum()):8d}  "
              + "  ".join(cell(row[n]) for n in names))  # fmt: skip
        part = pooled["hard" if batch.danger.any() else "everyday"]
        for name, f in flags.items():
            part[name].append(f)
        part["danger"].append(batch.danger)
    for part, columns in pooled.items():
        if not columns["danger"]:
            continue
        danger = np.concatenate(columns["danger"])
        result[f"pooled_{part}"] = {n: figures(np.concatenate(columns[n]), danger) for n in names}
        print(f"{part + ', pooled':16s} {'':6s} {'':8s}  "
              + "  ".join(cell(result[f"pooled_{part}"][n]) for n in names))  # fmt: skip
    print("(words and encoder: each model alone at the same thresholds, without the rules)")
    return thresholds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--validation",
        default=",".join(VALIDATION),
        help="training files (without .yaml) held back to choose the thresholds",
    )
    parser.add_argument(
        "--false-alarm-budget",
        type=float,
        default=TARGET_FALSE_ALARMS,
        help="false alarms allowed on the validation writers",
    )
    parser.add_argument(
        "--everyday-budget",
        type=float,
        default=EVERYDAY_FALSE_ALARMS,
        help="false alarms allowed on ordinary replies (files with no danger in them)",
    )
    parser.add_argument(
        "--epochs",
        type=float,
        default=crisis_encoder_train.EPOCHS,
        help="passes over the replies while fine-tuning the encoder (0.01 for a smoke run)",
    )
    parser.add_argument("--dry-run", action="store_true", help="report, but write no model")
    args = parser.parse_args()
    batches = load_batches()
    held = set(args.validation.split(","))
    unknown = held - {b.name for b in batches}
    if unknown:
        raise SystemExit(f"no training file named {', '.join(sorted(unknown))}")
    training = [b for b in batches if b.name not in held]
    validation = [b for b in batches if b.name in held]
    with tempfile.TemporaryDirectory() as folder:
        # Thresholds are chosen after the models exist; the ones written here are replaced.
        held_out = write_models(
            Path(folder), training, Thresholds(0.5, 0.5), args.epochs, "without validation"
        )
        thresholds, result = report(
            validation, held_out, args.false_alarm_budget, args.everyday_budget
        )
    print(
        f"goal: recall >= {TARGET_RECALL}, false alarms <= {TARGET_FALSE_ALARMS} "
        f"(on ordinary replies <= {args.everyday_budget})"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "crisis_train.json").write_text(json.dumps(result, indent=2) + "\n")
    if args.dry_run:
        return
    folder = default_content_dir() / "crisis"
    write_models(folder, batches, thresholds, args.epochs, "every file")
    for name in (crisis_model.model_file("en", folder).name, ENCODER, TOKENIZER):
        print(f"wrote {folder / name} ({(folder / name).stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
