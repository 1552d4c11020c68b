"""The terminal chat, driven exactly as a newcomer would: a script piped into `wholehearted try`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

SCRIPT = Path(__file__).parent / "scripts" / "couple_week.txt"
CARD = re.compile(r"^(?:Today's practice|Here is today's practice again) · (.+):$")


def run_cli(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    environment.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'bot.sqlite3'}", **env})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
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
    assert list(tmp_path.glob("wholehearted-export-*.json"))


def test_startup_says_it_opens_the_terminal_chat_without_tokens(tmp_path: Path) -> None:
    result = run_cli(["run"], tmp_path, stdin="/help\n")
    assert result.returncode == 0
    assert (
        "No TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN is set: opening the terminal chat"
        in result.stderr
    )
    assert "/journal" in result.stdout
