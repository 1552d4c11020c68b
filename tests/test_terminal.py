"""The terminal chat, driven exactly as a newcomer would: a script piped into `wholehearted try`."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.terminal import TerminalChat
from bot.core import service
from bot.core.clock import ManualClock
from bot.core.messages import Outcome
from bot.core.service import Core

SCRIPT = Path(__file__).parent / "scripts" / "couple_week.txt"
CARD = re.compile(r"^(?:Today's practice|Here is today's practice again) · (.+):$")


def run_cli(
    args: list[str], tmp_path: Path, stdin: str | bytes = "", **env: str
) -> subprocess.CompletedProcess[Any]:
    """`wholehearted ARGS` with no tokens; text in and out, or bytes when stdin is bytes."""
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    environment.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'bot.sqlite3'}", **env})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=isinstance(stdin, str),
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=False,
    )


def transcript(stdout: str) -> dict[str, list[str]]:
    """Each person's lines from the bot, keyed by name."""
    current = "Me"
    lines: dict[str, list[str]] = defaultdict(list)
    for line in stdout.splitlines():
        label, _, rest = line.partition("> ")
        if label == "bot":
            lines[current].append(rest)
        elif label.startswith("bot → "):
            lines[label.removeprefix("bot → ")].append(rest)
        else:
            current = label
            if rest.startswith("/as "):
                current = rest[4:]
    return lines


def practices_by_day(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = CARD.match(line)
        if match:
            found[match.group(1)] = lines[index + 2]
    return found


def test_a_couples_week_in_the_terminal(tmp_path: Path) -> None:
    result = run_cli(["try"], tmp_path, stdin=SCRIPT.read_text())
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    people = transcript(result.stdout)
    ana, ben = people["Ana"], people["Ben"]
    assert any("Shall we begin?" in line for line in ana)
    assert "Time zone set to Europe/Berlin" in "\n".join(ana)
    assert any("You're paired with Ana" in line for line in ben)
    assert any("Ben joined you" in line for line in ana)
    assert any("Saved privately" in line for line in ana)
    assert "I noticed how much I like my Sunday mornings alone." in ana
    assert any("Ana shared a reply" in line for line in ben)
    assert any("No answer is expected" in line for line in ben)

    ana_days, ben_days = practices_by_day(ana), practices_by_day(ben)
    shared = ana_days.keys() & ben_days.keys()
    assert len(shared) >= 5, (ana_days, ben_days)
    assert all(ana_days[day] == ben_days[day] for day in shared)
    assert len(set(ana_days.values())) == len(ana_days), "no practice repeats"
    assert any("Saved as" in line for line in ben)
    assert list((tmp_path / "data").glob("wholehearted-export-ben-*.json"))


def test_startup_says_it_opens_the_terminal_chat_without_tokens(tmp_path: Path) -> None:
    result = run_cli(["run"], tmp_path, stdin="/help\n")
    assert result.returncode == 0
    assert (
        "No TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN is set: opening the terminal chat"
        in result.stderr
    )
    assert "/journal" in result.stdout


WORDS_SCRIPT = (
    "/start\n/start agree\n7:30\nEurope/Berlin\n/today\n"
    "i felt a bit shy about it, then glad\nParis\n"
    "/forget\na thought while it asks\nno\n"
    "/skip #²\n/share ①\n/start ws-⁹\n/journal 99999999999999999999\n"
    "/skip #99999999999999999999\n/reply #grateful for the walk\n"
    "thanks\n\x1b[A\n"
)


def test_every_word_is_kept_and_no_line_ends_the_chat(tmp_path: Path) -> None:
    script = WORDS_SCRIPT.encode() + b"half a \xed\xa0\x80 character\n/journal\n"
    result = run_cli(["try"], tmp_path, stdin=script)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, err
    assert "Traceback" not in out + err
    assert "You're set up" in out and "still open" in out and "Kept. Nothing was deleted" in out
    for sentence in (
        "no longer in your history",
        "not paired",
        "doesn't lead to a workshop practice",
        "/journal 2 for older ones",
        "acknowledgement",
        "nothing in that message I could read",
    ):
        assert sentence in out, sentence
    journal = out.rsplit("Your journal", 1)[1]
    for kept in (
        "i felt a bit shy about it, then glad",
        "Paris",
        "a thought while it asks",
        "#grateful for the walk",
        "half a \ufffd",
    ):
        assert kept in journal, kept
    assert "thanks" not in journal


def test_an_unexpected_error_is_an_apology_and_the_chat_goes_on(
    core: Core,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "boom: " + "what she wrote"

    def broken(*args: object) -> Outcome:
        raise RuntimeError(secret)

    monkeypatch.setitem(service._HANDLERS, "journal", broken)
    out = io.StringIO()
    chat = TerminalChat(
        core,
        clock,  # type: ignore[arg-type]
        stdin=io.StringIO("/start\n/journal private words\n/help\n"),
        stdout=out,
        tick_seconds=20,
        files_dir=tmp_path,
    )
    asyncio.run(chat.run())
    transcript = out.getvalue()
    assert "Something went wrong on my side" in transcript and "Incident" in transcript
    assert "Here is what I understand" in transcript  # the line after still answered
    assert "incident" in caplog.text
    assert "what she wrote" not in caplog.text and "private words" not in caplog.text
