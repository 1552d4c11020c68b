"""The terminal chat, driven exactly as a newcomer would: a script piped into `wholehearted try`,
or keys pressed at a real terminal (a pseudo-terminal)."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest

from bot.adapters.terminal import TerminalChat
from bot.core.clock import ManualClock
from bot.core.context import Incoming
from bot.core.messages import Outcome
from bot.core.service import Core

SCRIPT = Path(__file__).parent / "scripts" / "couple_week.txt"
WORKSHOP_SCRIPT = Path(__file__).parent / "scripts" / "book_club_workshop.txt"
SHAPED_SCRIPT = Path(__file__).parent / "scripts" / "workshop_pause_skip_close.txt"
GROUP = "Book club (group)"
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


def transcript(stdout: str, typed: bool = False) -> dict[str, list[str]]:
    """The bot's lines in each chat (a person's private chat by their name, a group as
    "NAME (group)"), with what was typed there too when `typed`.

    A line labelled `bot` went to the chat the next prompt shows: an answer is printed
    where the person is once the command has run (after `/in GROUP`, in the group).
    """
    lines: dict[str, list[str]] = defaultdict(list)
    waiting: list[str] = []
    place = "Me"
    for line in stdout.splitlines():
        label, _, rest = line.partition("> ")
        if label == "bot":
            waiting.append(rest)
        elif label.startswith("bot → "):
            lines[label.removeprefix("bot → ")].append(rest)
        else:
            person, at, group = label.partition("@")
            place = f"{group} (group)" if at else person
            lines[place] += waiting
            waiting = []
            if typed:
                lines[place].append(rest)
    lines[place] += waiting
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


def test_startup_says_in_one_line_what_the_terminal_is(tmp_path: Path) -> None:
    result = run_cli(["run"], tmp_path, stdin="/help\n")
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "No Telegram or Discord token is set, so this is the bot in your terminal, on "
        "data/bot.sqlite3. Type /help, or /in GROUP to try a workshop. Ctrl-C quits."
    ]
    assert "/journal" in result.stdout and "/in GROUP" in result.stdout


def test_a_workshop_from_start_to_stop_in_the_terminal(tmp_path: Path) -> None:
    result = run_cli(["try"], tmp_path, stdin=WORKSHOP_SCRIPT.read_text())
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    chats = transcript(result.stdout, typed=True)
    group, ana = "\n".join(chats[GROUP]), chats["Ana"]
    assert "a new group, with you as its administrator" in group
    assert "The workshop “Intimacy, not closeness” is on" in group
    # The day's post appears in the group, with the button that opens a private chat.
    assert "Intimacy, not closeness · day 1 of 7: Sweet or seen?" in group
    assert "[Reply privately → /reply ws-1, opens your private chat]" in group
    # Each member's reply is saved in their private chat, and shown nowhere else.
    replies = {
        "Ana": "I keep things sweet when I am tired, and I notice it.",
        "Ben": "Being seen is scary and good.",
        "Cat": "Today I let him see that I was bored.",
    }
    for person, words in replies.items():
        assert words in chats[person], person
        assert "Saved privately to “Sweet or seen?”" in "\n".join(chats[person]), person
        elsewhere = [chat for chat, lines in chats.items() if words in lines]
        assert elsewhere == [person], (person, elsewhere)
    assert "Hello all, see you tomorrow." in group  # the group's own talk, left to the group
    # Only the administrator sees counts, privately; below 3 they are not exact.
    assert "administrators" in group
    counts = [line.split(": ", 1)[1] for line in ana if line.startswith("Day 1 (")]
    assert counts == ["fewer than 3 people replied", "3 people replied"]
    assert "Day 1 (" not in group
    assert group.count("I've answered you in our private chat.") == 2
    # Someone who never went into the group is not counted there.
    assert "couldn't confirm you're a member" in "\n".join(chats["Dan"])
    assert "The workshop has stopped." in group
    assert "You're back in your private chat with the bot." in ana
    journal = ana[ana.index("Your journal (only you can see this):") :]
    assert replies["Ana"] in journal


def test_a_facilitator_pauses_skips_and_the_workshop_closes_in_the_terminal(
    tmp_path: Path,
) -> None:
    result = run_cli(["try"], tmp_path, stdin=SHAPED_SCRIPT.read_text())
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    group = "\n".join(transcript(result.stdout, typed=True)[GROUP])
    days = [line for line in group.splitlines() if line.startswith("Intimacy, not closeness · day")]
    # Day 3 was skipped; the others came one a day, none while the workshop was paused.
    assert [d.split(":")[0].rsplit(" ", 3)[1] for d in days] == ["1", "2", "4", "5", "6", "7"]
    assert "is paused: nothing is posted here until" in group
    assert "/workshop resume, if it is paused" in group  # /next-day while paused says why
    assert "Day 3 of “Intimacy, not closeness”, “One wart, kindly”, is skipped." in group
    closing = group[group.index("That was the last day of “Intimacy, not closeness”") :]
    assert "6 days of practice posted here (skipped: 1 day)" in closing
    assert "fewer than 3 people replied" in closing
    assert group.count("That was the last day") == 1


def _read_until(stream: IO[bytes], ending: bytes) -> bytes:
    """What a subprocess writes until it ends with `ending` (a prompt waiting for keys)."""
    seen = b""
    while not seen.endswith(ending):
        ready, _, _ = select.select([stream], [], [], 30)
        chunk = os.read(stream.fileno(), 4096) if ready else b""
        assert chunk, f"no {ending!r} after {seen!r}"
        seen += chunk
    return seen


def test_ctrl_c_leaves_at_once_in_one_line(tmp_path: Path) -> None:
    """At a terminal, with nothing typed: no Enter needed, no traceback. (Ctrl-D ends the
    chat in the next test.)"""
    keyboard, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'data' / 'bot.sqlite3'}"
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=environment,
    )
    os.close(terminal)
    try:
        assert bot.stdout is not None and bot.stderr is not None
        assert _read_until(bot.stdout, b"Me> ") == b"Me> "
        bot.send_signal(signal.SIGINT)
        # Before the fix this waited for Enter for ever; a generous bound tells the two apart.
        status = bot.wait(timeout=20)
        out, err = bot.stdout.read().decode(), bot.stderr.read().decode()
    finally:
        bot.kill()
        bot.wait()
        os.close(keyboard)
    assert status in {0, 130}
    assert out == "\nBye. Everything is kept in data/bot.sqlite3 for next time.\n"
    assert "Traceback" not in err and len(err.splitlines()) == 1, err


def test_a_practice_that_arrives_on_schedule_is_followed_by_a_fresh_prompt(
    core: Core, clock: ManualClock, tmp_path: Path
) -> None:
    """At a terminal (a pseudo-terminal here), waiting at the prompt; then Ctrl-D."""
    keyboard, terminal = pty.openpty()
    settings = termios.tcgetattr(terminal)
    settings[3] &= ~termios.ECHO  # the test reads the chat's output, not the keys echoed
    termios.tcsetattr(terminal, termios.TCSANOW, settings)
    out = io.StringIO()

    def typed(*lines: str) -> None:
        os.write(keyboard, "".join(f"{line}\n" for line in lines).encode())

    async def waiting_at_the_prompt(after: str) -> None:
        """Until the chat has answered and shows the prompt again (bounded)."""
        for _ in range(3000):
            text = out.getvalue()
            if after in text and text.endswith("Me> "):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(out.getvalue())

    async def scenario() -> str:
        with open(terminal, encoding="utf-8") as stdin:
            chat = TerminalChat(
                core,
                clock,  # type: ignore[arg-type]
                stdin=stdin,
                stdout=out,
                tick_seconds=3600,  # the test ticks, as the scheduler's job does
                files_dir=tmp_path,
            )
            running = asyncio.create_task(chat.run())
            typed("/start", "/start agree", "7:30", "UTC", "daily", "core")
            await waiting_at_the_prompt("You're all set")
            clock.set(datetime(2026, 11, 23, 7, 30, tzinfo=UTC))
            await chat.ticker.tick()
            arrived = out.getvalue()
            os.write(keyboard, b"\x04")  # Ctrl-D
            await running
        return arrived

    arrived = asyncio.run(scenario())
    after = arrived.rsplit("You're all set", 1)[1]
    # The waiting prompt's line is ended, the practice printed, and the prompt drawn again.
    assert re.search(r"\nMe> \nbot> Today's practice · Monday 23 November:\n", after)
    assert after.endswith("]\nMe> ")
    assert re.search(r"\nMe> \nBye\. Everything is kept in \S+ for next time\.\n$", out.getvalue())


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

    answer = core.handle

    async def broken_journal(incoming: Incoming) -> Outcome:
        if incoming.text.startswith("/journal"):
            raise RuntimeError(secret)
        return await answer(incoming)

    monkeypatch.setattr(core, "handle", broken_journal)
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
