"""How well the crisis detector tells danger from harmless replies, old regex against new.

Why: when a private reply sounds like danger, the bot answers with a safety note. A
missed "he pushed me against the wall" leaves someone without that note; a note on
"this commute will kill me" teaches people to ignore it. The target is recall >= 0.9
(danger flagged) with a false-alarm rate <= 0.05 (harmless flagged). This runs labelled
sets through both the old single regex (kept here as the baseline, copied from
bot/core/replies.py before the switch) and `bot.core.crisis` as the bot uses it (the
concept rules with the trained models, see bench/crisis_train.py), and prints one table:

- recall: danger items flagged / danger items; false alarms: harmless flagged / harmless;
- TP/FN/FP/TN counts; recall by kind of danger; false alarms by kind of harmless text;
- each figure for every part of bench/data/crisis-eval-en.yaml (`tuning`: rounds 1-2
  and the first set; `round3`: the old held-out part; `round4`: the first blind set, all
  tuned on since), `eval` (the whole file), and one column per blind set;
- the blind sets are every `*.yaml` in bench/blind/, each its own column named after
  its file: held-out sets written by someone else and never read while the rules were
  written, so they are the honest estimate. Their items are never printed or saved
  (that would let them leak into the rules) unless `--show-blind` is given, which is
  for after the measurement. While tuning, run with `--no-blind`: even their totals,
  watched after each change, would turn them into more tuning sets;
- every miss and false alarm of the new detector on the eval file;
- the earlier held-out rounds (`history` in the data file).

    PYTHONPATH=. .venv/bin/python bench/crisis.py

Writes bench/results/crisis.json (`--output` to change the name).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from bench.sending import code_version
from bot.core import crisis

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data" / "crisis-eval-en.yaml"
BLIND_DIR = ROOT / "blind"
RESULTS = ROOT / "results"
TARGET_RECALL = 0.9
TARGET_FALSE_ALARMS = 0.05
# Parts of the eval file, and the eval file as a whole; blind sets add a column each.
EVAL_SPLITS = ("tuning", "round3", "round4")
EVAL = "eval"
# Every blind set that holds danger, together: one set of 200 moves by about 0.02 with
# who wrote it, so the goal is judged on all of them.
BLIND_POOLED = "blind-pooled"

# The detector as it was: one regex in bot/core/replies.py.
OLD_CRISIS = re.compile(
    r"\b(kill (myself|me)|suicid\w*|end (it all|my life)|want to die|self[- ]harm|"
    r"hurt(s|ing)? myself|(hits?|hitting|beats?|chokes?|choking) me|afraid of (him|her|them|"
    r"my partner)|scared of (him|her|them|my partner)|threaten\w* (me|to)|abus\w*|"
    r"not safe|unsafe at home|rape\w*)\b",
    re.IGNORECASE,
)


def old_detector(text: str) -> bool:
    return OLD_CRISIS.search(text) is not None


def new_detector(text: str) -> bool:
    return crisis.sounds_like_crisis(text, "en")


@dataclass(frozen=True)
class Item:
    text: str
    label: str
    kind: str
    split: str

    @property
    def danger(self) -> bool:
        return self.label == "danger"


def load_items(
    path: Path = DATA, *, blind: str | None = None
) -> tuple[list[Item], list[dict[str, Any]]]:
    """The labelled items and the earlier held-out rounds; a bad item stops the run
    (without quoting a blind item). The items of a blind set get its name as split."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    listed = data.get("items", []) if isinstance(data, dict) else data  # a bare list too
    items: list[Item] = []
    for index, raw in enumerate(listed or [], start=1):
        label = str(raw.get("label", "")).strip().lower()
        split = blind if blind else raw.get("split", "tuning")
        if label not in ("danger", "harmless") or split not in (*EVAL_SPLITS, blind):
            shown = "(blind item not shown)" if blind else raw
            raise SystemExit(f"{path.name}: item {index}: label or split is wrong: {shown}")
        items.append(Item(str(raw["text"]), label, str(raw.get("kind", "-")), split))
    texts = [item.text for item in items]
    if len(set(texts)) != len(texts):
        raise SystemExit(f"{path.name}: some texts appear twice")
    return items, list((data.get("history") if isinstance(data, dict) else None) or [])


@dataclass
class Score:
    """Confusion counts for one detector on one part of the set."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    recall_by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind: [hit, of]
    alarms_by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind: [flagged, of]

    def add(self, item: Item, flagged: bool) -> None:
        table = self.recall_by_kind if item.danger else self.alarms_by_kind
        counts = table.setdefault(item.kind, [0, 0])
        counts[0] += flagged
        counts[1] += 1
        if item.danger:
            self.tp += flagged
            self.fn += not flagged
        else:
            self.fp += flagged
            self.tn += not flagged

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def false_alarms(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    @property
    def meets_targets(self) -> bool:
        """A set of ordinary replies only (no danger) is judged on false alarms alone."""
        recall_ok = self.recall >= TARGET_RECALL or not self.tp + self.fn
        return recall_ok and self.false_alarms <= TARGET_FALSE_ALARMS

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "recall": round(self.recall, 4),
            "false_alarms": round(self.false_alarms, 4),
            "meets_targets": self.meets_targets,
        }


def blind_sets(folder: Path) -> list[Path]:
    """The blind sets: every `*.yaml` in `folder`, by name (none when it is missing)."""
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def score(
    items: Iterable[Item], flags: dict[str, bool], splits: tuple[str, ...], pooled: set[str]
) -> dict[str, Score]:
    """One Score per split, one for all items of the eval file, and one for the blind sets
    in `pooled` together (`BLIND_POOLED`)."""
    scores = {name: Score() for name in splits}
    for item in items:
        scores[item.split].add(item, flags[item.text])
        if item.split in EVAL_SPLITS:
            scores[EVAL].add(item, flags[item.text])
        if item.split in pooled:
            scores[BLIND_POOLED].add(item, flags[item.text])
    return scores


def run_detector(items: list[Item], detect: Callable[[str], bool]) -> tuple[dict[str, bool], float]:
    started = time.perf_counter()
    flags = {item.text: detect(item.text) for item in items}
    return flags, (time.perf_counter() - started) / max(len(items), 1) * 1000


# --- the table ------------------------------------------------------------------------


def table(old: dict[str, Score], new: dict[str, Score], splits: tuple[str, ...]) -> list[str]:
    # A column is as wide as its name (a blind set is named after its file), at least 13.
    width = {s: max(13, len(f"new {s}") + 2) for s in splits}
    head = f"{'':<24}" + "".join(
        f"{f'old {s}':>{width[s]}}{f'new {s}':>{width[s]}}" for s in splits
    )
    lines = [head, "-" * len(head)]

    def line(name: str, cell: Callable[[Score], str]) -> None:
        lines.append(
            f"{name:<24}"
            + "".join(f"{cell(old[s]):>{width[s]}}{cell(new[s]):>{width[s]}}" for s in splits)
        )

    line("recall (>= 0.90)", lambda sc: f"{sc.recall:.3f}" if sc.tp + sc.fn else "-")
    line("false alarms (<= 0.05)", lambda sc: f"{sc.false_alarms:.3f}")
    line("meets both targets", lambda sc: "yes" if sc.meets_targets else "NO")
    line("TP", lambda sc: str(sc.tp))
    line("FN", lambda sc: str(sc.fn))
    line("FP", lambda sc: str(sc.fp))
    line("TN", lambda sc: str(sc.tn))
    lines.append("recall by kind:")
    for kind in sorted({k for sc in new.values() for k in sc.recall_by_kind}):
        line(f"  {kind}", partial(_kind_ratio, "recall_by_kind", kind))
    lines.append("false alarms by kind:")
    for kind in sorted({k for sc in new.values() for k in sc.alarms_by_kind}):
        line(f"  {kind}", partial(_kind_ratio, "alarms_by_kind", kind))
    return lines


def _kind_ratio(table: str, kind: str, sc: Score) -> str:
    counts: dict[str, list[int]] = getattr(sc, table)
    return _ratio(counts.get(kind))


def _ratio(counts: list[int] | None) -> str:
    if not counts or not counts[1]:
        return "-"
    return f"{counts[0]}/{counts[1]} {counts[0] / counts[1]:.2f}"


def mistakes(items: list[Item], flags: dict[str, bool]) -> list[dict[str, Any]]:
    """The new detector's misses and false alarms, with the kinds it matched."""
    found = []
    for item in items:
        if flags[item.text] != item.danger:
            found.append(
                {
                    "mistake": "miss" if item.danger else "false alarm",
                    "split": item.split,
                    "kind": item.kind,
                    "text": item.text,
                    "matched": [f"{h.kind}: {h.phrase}" for h in crisis.hits(item.text)],
                }
            )
    return found


# --- the machine and the output --------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "code": code_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", default="crisis.json")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--blind-dir",
        type=Path,
        default=BLIND_DIR,
        help="the folder of blind sets: every *.yaml there is one column",
    )
    parser.add_argument(
        "--no-blind",
        action="store_true",
        help="leave the blind sets out (while tuning: looking at them would spoil them)",
    )
    parser.add_argument(
        "--show-blind",
        action="store_true",
        help="also print and save the blind sets' misses and false alarms (after measuring)",
    )
    args = parser.parse_args()
    items, history = load_items(args.data)
    blind_paths = [] if args.no_blind else blind_sets(args.blind_dir)
    blind_names = tuple(path.stem for path in blind_paths)
    columns = [*EVAL_SPLITS, EVAL, BLIND_POOLED, *blind_names]
    if len(set(columns)) != len(columns):
        raise SystemExit(f"{args.blind_dir}: a blind set's name clashes with another column")
    blind_items = [i for path in blind_paths for i in load_items(path, blind=path.stem)[0]]
    everything = items + blind_items
    with_danger = {i.split for i in blind_items if i.danger}
    splits = (*EVAL_SPLITS, EVAL, *blind_names, *((BLIND_POOLED,) if with_danger else ()))
    crisis.rules_for("en")  # compile before timing
    old_flags, old_ms = run_detector(everything, old_detector)
    new_flags, new_ms = run_detector(everything, new_detector)
    old = score(everything, old_flags, splits, with_danger)
    new = score(everything, new_flags, splits, with_danger)
    sizes = {s: (old[s].tp + old[s].fn, old[s].fp + old[s].tn) for s in splits}
    print(
        f"{args.data.name}"
        + (
            " + " + " + ".join(path.name for path in blind_paths)
            if blind_paths
            else " (blind sets left out)"
            if args.no_blind
            else f" (no blind set in {args.blind_dir.name}/ yet)"
        )
        + ": "
        + ", ".join(f"{s} {d} danger + {h} harmless" for s, (d, h) in sizes.items())
    )
    print()
    for line in table(old, new, splits):
        print(line)
    print()
    print(f"time per reply: old {old_ms:.3f} ms, new {new_ms:.3f} ms")
    if history:
        print("held-out rounds (each measured once before any change; earlier ones then tuned on):")
        for past in history:
            print(
                f"  round {past['round']}: {past['danger']} + {past['harmless']} items, "
                f"recall {past['recall']:.2f}, false alarms {past['false_alarms']:.3f}, "
                f"then {past['then']}"
            )
    shown = everything if args.show_blind else items
    wrong = mistakes(shown, new_flags)
    for split in (*EVAL_SPLITS, *(blind_names if args.show_blind else ())):
        for kind in ("miss", "false alarm"):
            listed = [m for m in wrong if m["split"] == split and m["mistake"] == kind]
            print(f"\n{kind}es ({split}): {len(listed)}" if kind == "miss" else
                  f"\nfalse alarms ({split}): {len(listed)}")  # fmt: skip
            for m in listed:
                matched = f"  <- {'; '.join(m['matched'])}" if m["matched"] else ""
                print(f"  [{m['kind']}] {m['text']}{matched}")
    payload = {
        "data": str(args.data.relative_to(ROOT.parent)) if args.data.is_relative_to(ROOT.parent)
        else str(args.data),
        "targets": {"recall": TARGET_RECALL, "false_alarms": TARGET_FALSE_ALARMS},
        "blind": [str(path.relative_to(ROOT.parent)) if path.is_relative_to(ROOT.parent)
                  else str(path) for path in blind_paths],
        "sizes": {s: {"danger": d, "harmless": h} for s, (d, h) in sizes.items()},
        "old": {s: old[s].as_json() for s in splits},
        "new": {s: new[s].as_json() for s in splits},
        "ms_per_reply": {"old": round(old_ms, 4), "new": round(new_ms, 4)},
        "history": history,
        "mistakes": wrong,
        "machine": machine(),
    }  # fmt: skip
    path = write_json(args.output, payload)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
