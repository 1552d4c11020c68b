"""The bot's messages as plain text, and the files it sends saved to disk.

A terminal has no buttons or attachments: a button is drawn with the command it sends, so
the person can type it, and a document is written to a file of its own whose path is
shown.
"""

from __future__ import annotations

import itertools
import os
import re
from datetime import datetime
from pathlib import Path

from bot.core.messages import Document, Keyboard, Message, PracticeCard, Text
from bot.core.rendering import render_text

_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")
POST_BUTTON = re.compile(r"/reply (ws-[0-9]+)$")


def _buttons(keyboard: Keyboard, in_group: bool) -> list[str]:
    def drawn(label: str, action: str) -> str:
        if in_group and POST_BUTTON.match(action):
            return f"[{label} → {action}, opens your private chat]"
        return f"[{label} → {action}]"

    return ["   " + "  ".join(drawn(b.label, b.action) for b in row) for row in keyboard]


def render(message: Message, files_dir: Path, owner: str = "me", in_group: bool = False) -> str:
    if isinstance(message, Text):
        return "\n".join([message.body, *_buttons(message.buttons, in_group)])
    if isinstance(message, PracticeCard):
        return "\n".join([render_text(message), *_buttons(message.buttons, in_group)])
    path = save_document(message, files_dir, owner)
    return f"{message.caption}\nSaved as {path}"


def save_document(document: Document, files_dir: Path, owner: str) -> Path:
    """Write a file the bot sent into `files_dir`, readable by this account alone.

    The name carries whose it is and when it was written, as in
    `wholehearted-export-ana-20261123-070512.json`, and an existing file is never
    overwritten: two people, or two exports in one second, get files of their own.
    """
    files_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = Path(document.filename)
    base = _DATED.sub("", name.stem)
    who = re.sub(r"[^a-z0-9]+", "-", owner.lower()).strip("-")[:40] or "me"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in itertools.count(1):
        suffix = "" if attempt == 1 else f"-{attempt}"
        path = (files_dir / f"{base}-{who}-{stamp}{suffix}{name.suffix}").resolve()
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(document.data)
        return path
    raise AssertionError("unreachable")
