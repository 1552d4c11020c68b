"""Making what arrives from a platform safe to store and to parse, before any rule sees it.

Platforms hand over text the database or the cipher cannot take as it is: NUL bytes
(PostgreSQL refuses them), lone UTF-16 surrogates (UTF-8 cannot encode them), terminal
escape sequences from a key pressed in the terminal chat. Cleaning keeps every word a
person meant and drops only what no person can read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from bot.core.context import Incoming

# ESC [ ... final byte (cursor keys, colours), ESC O + key (keypad), ESC ] ... BEL or ST
# (titles), and ESC + one character.
_ESCAPES = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|O.|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)?", re.DOTALL
)
# Control characters other than tab and newline, C1 controls, and invisible format marks
# that only confuse parsing (zero-width space, BOM) but keep ZWJ, which emoji need.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\ufeff]")
NAME_LIMIT = 128
# Ten times a Telegram message; only a paste into the terminal chat can be longer.
INPUT_LIMIT = 40_960


def clean_text(raw: str) -> str:
    """The text a person meant: NFC, newlines as \\n, no control or escape characters."""
    text = raw.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", _ESCAPES.sub("", text))
    return unicodedata.normalize("NFC", text)


def clean_name(raw: str) -> str:
    """A display name on one line, within the column's size."""
    return " ".join(clean_text(raw).split())[:NAME_LIMIT]


def clean_incoming(incoming: Incoming) -> Incoming:
    return replace(
        incoming, text=clean_text(incoming.text), display_name=clean_name(incoming.display_name)
    )


_NUMBER = re.compile(r"[0-9]{1,9}")


def small_number(token: str) -> int | None:
    """A positive whole number written in ASCII digits, small enough for every database
    column; anything else (`²`, `①`, twenty digits) is None."""
    if _NUMBER.fullmatch(token) is None:
        return None
    value = int(token)
    return value if value > 0 else None
