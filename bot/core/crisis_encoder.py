"""A small pretrained language model, fine-tuned to read danger, run with ONNX Runtime.

Why: the word model (`bot.core.crisis_model`) knows the words and letter groups its
training replies used; a writer who says the same thing in other words ("he makes sure I
have nowhere to go") slips past it. A sentence encoder pretrained on a billion sentence
pairs knows which phrasings mean the same, and fine-tuned on the project's labelled
replies it catches what the words miss; averaged with the word model, it raised recall on
writers neither had seen from 0.875 to 0.92, with false alarms still under 0.05
(`bench/crisis_train.py`, figures in the README).

The encoder is all-MiniLM-L6-v2 (six layers, 384 wide; Apache-2.0, see
`content/crisis/README.md`) with one linear layer on its mean-pooled output, fine-tuned
by `bench/crisis_encoder_train.py`, exported to ONNX and quantized to 8-bit weights
(23 MB). ONNX Runtime runs it on the CPU in about 3 ms for a short reply, with no PyTorch
in the bot. Its tokenizer is the model's own `tokenizer.json`, read by Hugging Face's
`tokenizers`.

It was fine-tuned on at most `window` word pieces a reply, and both models average over
everything they read, so one sentence of danger in a page of ordinary news would be
drowned. A longer reply is therefore judged as runs of whole sentences (`runs`): from
each sentence, as many of the following ones as fit in a window; the reply's probability
is the highest of its runs' (`bot.core.crisis_model`). Danger in the last line of a long
reply counts as much as in a short one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

from bot.core.catalog import CatalogError

# Where a sentence ends: after . ! ? or … (with any closing quotes or brackets), or at a
# line break.
_SENTENCE = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+")


@dataclass(frozen=True)
class Encoder:
    session: onnxruntime.InferenceSession
    tokenizer: Tokenizer
    window: int
    first: int  # the [CLS] piece, which opens every window
    last: int  # the [SEP] piece, which closes it

    def runs(self, text: str) -> list[str]:
        """`text` as the parts to judge one by one: itself when it fits in a window, else
        from each sentence, it and as many following ones as fit."""
        if self._fits(text):
            return [text]
        sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
        sizes = [len(self._pieces(s)) for s in sentences]
        runs = []
        for start in range(len(sentences)):
            end, size = start + 1, sizes[start]
            while end < len(sentences) and size + sizes[end] <= self.window:
                size += sizes[end]
                end += 1
            runs.append(" ".join(sentences[start:end]))
        return runs

    def probability(self, text: str) -> float:
        """How likely the fine-tuned encoder thinks `text` describes danger, 0..1. Text
        longer than a window (one long sentence) is read in windows half a window apart,
        and the highest counts."""
        pieces = self._pieces(text)
        step = max(1, self.window // 2)
        starts = range(0, max(1, len(pieces) - self.window + step), step)
        logit = max(self._logit(pieces[start : start + self.window]) for start in starts)
        return 1.0 / (1.0 + math.exp(-logit)) if logit > -700 else 0.0

    def _fits(self, text: str) -> bool:
        return len(self._pieces(text)) <= self.window

    def _pieces(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text.lower(), add_special_tokens=False).ids)

    def _logit(self, pieces: list[int]) -> float:
        ids = np.array([[self.first, *pieces, self.last]], dtype=np.int64)
        outputs = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        return float(outputs[0][0])


def load_encoder(model: Path, tokenizer: Path, window: int) -> Encoder:
    """The encoder in `model` with the tokenizer in `tokenizer`. A missing or broken file
    raises `CatalogError` with one sentence naming it, so start-up stops rather than a
    reply going unjudged."""
    for path in (model, tokenizer):
        if not path.is_file():
            raise CatalogError([f"crisis/{path.name}: is missing"])
    options = onnxruntime.SessionOptions()
    # One thread a reply: the bot judges one reply at a time per person, and other
    # processes share the machine.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own unexported Fail/InvalidGraph types
        reason = " ".join(str(exc).split())[:200]
        raise CatalogError([f"crisis/{model.name}: cannot be read ({reason})"]) from exc
    try:
        pieces = Tokenizer.from_file(str(tokenizer))
    except Exception as exc:  # tokenizers raises a bare Exception for a bad file
        reason = " ".join(str(exc).split())[:200]
        raise CatalogError([f"crisis/{tokenizer.name}: cannot be read ({reason})"]) from exc
    pieces.no_padding()
    pieces.no_truncation()
    first, last = pieces.token_to_id("[CLS]"), pieces.token_to_id("[SEP]")
    if first is None or last is None:
        raise CatalogError([f"crisis/{tokenizer.name}: has no [CLS] or [SEP] piece"])
    return Encoder(session, pieces, window, first, last)
