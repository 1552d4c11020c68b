"""Names as they are compared: what people type rarely matches a dataset's spelling.

Case, accents, dots, apostrophes and "St" for "Saint" make no difference to which place is
meant, so every name typed and every name looked up goes through `fold` first.
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s_.'’]+")
_SHORT_WORDS = {"st": "saint", "ste": "sainte"}


def fold(text: str) -> str:
    """A name as it is compared: any case, without accents, dots or apostrophes, and "St"
    spelt out (St. Petersburg is Saint Petersburg)."""
    folded = text.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_SHORT_WORDS.get(word, word) for word in _SEPARATORS.split(folded) if word)


def quick_fold(name: str) -> str:
    """`fold`, quicker for the many names that need less of it."""
    folded = name.casefold()
    if folded.isascii() and folded.isalpha():
        return folded
    return fold(name)
