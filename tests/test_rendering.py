"""Long texts are cut into pieces each platform accepts, without losing a character."""

from __future__ import annotations

import html

import pytest

from bot.core.rendering import escape_markdown, split_for_limit


@pytest.mark.parametrize(
    "text",
    [
        "short",
        "\n".join(["line " * 50] * 40),
        "x" * 9000,
        "&<>" * 3000,
        "a\n\nb\n" + "*_" * 2500,
    ],
)
def test_pieces_fit_and_nothing_is_lost(text: str) -> None:
    for limit, measure in (
        (4096, lambda s: len(html.escape(s, quote=False))),
        (2000, lambda s: len(escape_markdown(s))),
    ):
        pieces = split_for_limit(text, limit, measure)
        assert all(measure(piece) <= limit for piece in pieces)
        joined = "".join(pieces).replace("\n", "")
        assert joined == text.replace("\n", "")
