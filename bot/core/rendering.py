"""A practice card drawn for each platform's markup, kept here so the content checker can
measure exactly what people will receive (Telegram allows 4,096 characters a message,
Discord 2,000)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.messages import PracticeCard

TELEGRAM_LIMIT = 4096
DISCORD_LIMIT = 2000

_MARKDOWN_ANYWHERE = re.compile(r"([\\*_~`|\[\]])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([>#-]|\d+\.)", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """Escape what Discord would read as markdown: emphasis, code, spoilers and links
    anywhere; quotes, headings and lists only where they would start a line."""
    escaped = _MARKDOWN_ANYWHERE.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker.endswith("."):  # "1." starts a numbered list; "1\." does not
        return f"{indent}{marker[:-1]}\\."
    return f"{indent}\\{marker}"


@dataclass(frozen=True)
class Markup:
    """How one platform escapes text and marks it bold or italic."""

    escape: Callable[[str], str]
    bold: tuple[str, str]
    italic: tuple[str, str]


PLAIN = Markup(escape=lambda text: text, bold=("", ""), italic=("", ""))
HTML = Markup(
    escape=lambda text: html.escape(text, quote=False), bold=("<b>", "</b>"), italic=("<i>", "</i>")
)
MARKDOWN = Markup(escape=escape_markdown, bold=("**", "**"), italic=("*", "*"))


def render_card(card: PracticeCard, markup: Markup) -> str:
    """A practice card; every content string is escaped for the platform's markup."""
    practice, e = card.practice, markup.escape

    def bold(text: str) -> str:
        return f"{markup.bold[0]}{e(text)}{markup.bold[1]}"

    def italic(text: str) -> str:
        return f"{markup.italic[0]}{e(text)}{markup.italic[1]}"

    lines = [e(card.intro), ""] if card.intro else []
    lines += [
        bold(practice.title),
        italic(f"{practice.theme.label} · {practice.minutes} min · {practice.depth.value}"),
        "",
    ]
    if practice.caution:
        lines += [italic(f"A note first: {practice.caution}"), ""]
    if len(practice.steps) == 1:
        lines.append(e(practice.steps[0]))
    else:
        lines += [e(f"{n}. {step}") for n, step in enumerate(practice.steps, start=1)]
    lines += [
        "",
        bold(f"To reflect on: {practice.question}"),
        "",
        italic(source_line(card.source.title, card.source.author)),
    ]
    return "\n".join(lines)


def source_line(title: str, author: str) -> str:
    """The credit under a card; an author ending in an abbreviation ("M.A.") already has
    the sentence's full stop."""
    line = f"Drawn from “{title}” by {author}"
    return line if line.endswith(".") else f"{line}."


def render_text(card: PracticeCard) -> str:
    """Plain text: the terminal's form, and any adapter's fallback."""
    return render_card(card, PLAIN)


def render_html(card: PracticeCard) -> str:
    """Telegram's HTML parse mode."""
    return render_card(card, HTML)


def render_markdown(card: PracticeCard) -> str:
    """Discord's markdown."""
    return render_card(card, MARKDOWN)


def split_for_limit(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Cut a long text into pieces that each measure at most `limit` once drawn.

    Pieces break between lines where possible, so a journal entry is rarely cut mid-way;
    `measure` is the drawn length (escaped HTML on Telegram, escaped markdown on Discord).
    """
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while measure(line) > limit:
            low, high = 1, min(len(line), limit)  # the longest prefix that fits
            while low < high:
                middle = (low + high + 1) // 2
                low, high = (middle, high) if measure(line[:middle]) <= limit else (low, middle - 1)
            pieces.append(line[:low])
            line = line[low:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces
