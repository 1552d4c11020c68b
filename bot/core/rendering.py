"""A practice card drawn for each platform's markup, kept here so the content checker can
measure exactly what people will receive (Telegram allows 4,096 characters a message,
Discord 2,000)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

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


def _parts(card: PracticeCard) -> tuple[str, str, list[str], str, str, str]:
    practice = card.practice
    meta = f"{practice.theme.label} · {practice.minutes} min · {practice.depth.value}"
    if len(practice.steps) == 1:
        steps = [practice.steps[0]]
    else:
        steps = [f"{n}. {step}" for n, step in enumerate(practice.steps, start=1)]
    caution = f"A note first: {practice.caution}" if practice.caution else ""
    source = f"Drawn from “{card.source.title}” by {card.source.author}."
    return practice.title, meta, steps, f"To reflect on: {practice.question}", caution, source


def render_text(card: PracticeCard) -> str:
    """Plain text: the terminal's form, and any adapter's fallback."""
    title, meta, steps, question, caution, source = _parts(card)
    lines = [card.intro, ""] if card.intro else []
    lines += [title, meta, ""]
    if caution:
        lines += [caution, ""]
    lines += [*steps, "", question, "", source]
    return "\n".join(lines)


def render_html(card: PracticeCard) -> str:
    """Telegram's HTML parse mode; every content string is escaped."""
    title, meta, steps, question, caution, source = _parts(card)

    def e(text: str) -> str:
        return html.escape(text, quote=False)

    lines = [e(card.intro), ""] if card.intro else []
    lines += [f"<b>{e(title)}</b>", f"<i>{e(meta)}</i>", ""]
    if caution:
        lines += [f"<i>{e(caution)}</i>", ""]
    lines += [e(step) for step in steps]
    lines += ["", f"<b>{e(question)}</b>", "", f"<i>{e(source)}</i>"]
    return "\n".join(lines)


def render_markdown(card: PracticeCard) -> str:
    """Discord's markdown; every content string is escaped."""
    title, meta, steps, question, caution, source = _parts(card)
    e = escape_markdown
    lines = [e(card.intro), ""] if card.intro else []
    lines += [f"**{e(title)}**", f"*{e(meta)}*", ""]
    if caution:
        lines += [f"*{e(caution)}*", ""]
    lines += [e(step) for step in steps]
    lines += ["", f"**{e(question)}**", "", f"*{e(source)}*"]
    return "\n".join(lines)


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
