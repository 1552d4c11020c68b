"""A chat with the bot in the terminal: the same core and database, no tokens, no server.

`/as NAME` switches between local people so a couple can be tried on one machine, and
`/next-day` moves the clock to the next delivery so the daily flow shows in seconds.
With piped input it echoes each line and prints the bot's messages as plain text, which
makes a script of lines a readable transcript.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import incidents
from bot.core.clock import ShiftedClock
from bot.core.context import Incoming
from bot.core.messages import (
    Document,
    Keyboard,
    Message,
    PracticeCard,
    Recipient,
    Text,
)
from bot.core.ports import ANSWER, Attempt, Switchboard
from bot.core.rendering import render_text
from bot.core.service import Core
from bot.core.ticker import Ticker
from db.session import sqlite_path

PLATFORM = "terminal"
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_CODE = re.compile(r"invite code is ([A-Z0-9]{3}-[A-Z0-9]{3})")
TERMINAL_HELP = (
    "Terminal extras:\n"
    "/as NAME — talk as another local person (try a couple on one machine)\n"
    "/next-day — move the clock to the next scheduled practice and deliver it\n"
    "{code} — stands for the last invite code shown, so a script can pair two people\n"
    "/quit — leave (Ctrl-D works too)"
)


def _buttons(keyboard: Keyboard) -> list[str]:
    return ["   " + "  ".join(f"[{b.label} → {b.action}]" for b in row) for row in keyboard]


def render(message: Message, files_dir: Path, owner: str = "me") -> str:
    if isinstance(message, Text):
        return "\n".join([message.body, *_buttons(message.buttons)])
    if isinstance(message, PracticeCard):
        return "\n".join([render_text(message), *_buttons(message.buttons)])
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


class TerminalMessenger:
    """Prints messages for local people; what the bot sends another person is labelled."""

    platform = PLATFORM
    rate_per_second = 1000.0  # a screen has no flood limit

    def __init__(self, out: TextIO, files_dir: Path) -> None:
        self.out = out
        self.files_dir = files_dir
        self.current = "Me"
        self.names = {"me": "Me"}
        self.last_code: str | None = None
        self._ids = itertools.count(1)

    def switch_to(self, name: str) -> None:
        self.current = name
        self.names[name.lower()] = name

    def show(self, to: str, message: Message) -> None:
        if isinstance(message, Text) and (found := _CODE.search(message.body)):
            self.last_code = found.group(1)
        name = self.names.get(to.lower(), to)
        label = "bot" if to.lower() == self.current.lower() else f"bot → {name}"
        for line in render(message, self.files_dir, name).splitlines() or [""]:
            self.out.write(f"{label}> {line}\n")
        self.out.flush()

    async def send(self, to: Recipient, message: Message, attempt: Attempt = ANSWER) -> str | None:
        """A message is one part on a screen, shown whole."""
        self.show(to.user_id, message)
        return str(next(self._ids))

    async def probe(self) -> None:
        """The screen is always there."""


class TerminalChat:
    def __init__(
        self,
        core: Core,
        clock: ShiftedClock,
        *,
        stdin: TextIO,
        stdout: TextIO,
        tick_seconds: float,
        files_dir: Path,
    ) -> None:
        self.core = core
        self.clock = clock
        self.stdin = stdin
        self.out = stdout
        self.interactive = stdin.isatty()
        self.tick_seconds = tick_seconds
        self.messenger = TerminalMessenger(stdout, files_dir)
        self.switchboard = Switchboard([self.messenger])
        self.ticker = Ticker(core, self.switchboard)

    async def run(self) -> None:
        scheduler: AsyncIOScheduler | None = None
        if self.interactive:
            scheduler = AsyncIOScheduler()
            scheduler.add_job(
                self.ticker.tick, "interval", seconds=self.tick_seconds, max_instances=1
            )
            scheduler.start()
            self.out.write("Type /start to begin, /help for commands, /quit to leave.\n")
        try:
            await self.ticker.tick()
            while True:
                if self.interactive:
                    self.out.write(f"{self.messenger.current}> ")
                    self.out.flush()
                line = await asyncio.to_thread(self.stdin.readline)
                if not line:
                    break
                text = line.strip()
                if not text:
                    continue
                if not self.interactive:
                    self.out.write(f"{self.messenger.current}> {text}\n")
                if text in {"/quit", "/exit"}:
                    break
                await self.handle_safely(text)
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)

    async def handle_safely(self, text: str) -> None:
        """The terminal's failure boundary: one bad line never ends the chat."""
        try:
            await self.handle(text)
            await self.ticker.tick()
        except Exception as error:  # the adapter's one failure boundary: log, apologise, go on
            incident = incidents.record(error, "the terminal chat")
            self.messenger.show(self.messenger.current, Text(incidents.apology(incident)))

    async def handle(self, text: str) -> None:
        me = self.messenger.current
        if text.startswith("/as"):
            name = text[3:].strip()
            if not name or not text[3:4].isspace():
                self.messenger.show(me, Text("Type /as followed by a name, for example /as Sam."))
                return
            self.messenger.switch_to(name[:40])
            self.messenger.show(name, Text(f"You are now {name[:40]}."))
            return
        if "{code}" in text:
            if self.messenger.last_code is None:
                self.messenger.show(me, Text("No invite code has been shown yet; /pair makes one."))
                return
            text = text.replace("{code}", self.messenger.last_code)
        if text.startswith("/next-day"):
            await self.next_day()
            return
        outcome = await self.core.handle(Incoming(PLATFORM, me.lower(), me, text))
        for message in outcome.replies:
            self.messenger.show(me, message)
        if text.startswith("/help") and not text[5:].strip():
            self.messenger.show(me, Text(TERMINAL_HELP))

    async def next_day(self) -> None:
        wakeup = await asyncio.to_thread(self.core.next_wakeup_sync, self.switchboard.platforms)
        me = self.messenger.current
        if wakeup is None:
            self.messenger.show(me, Text("Nothing is scheduled yet. Type /start to set up."))
            return
        self.clock.advance_to(wakeup)
        when = self.clock.now().astimezone(ZoneInfo("UTC"))
        self.messenger.show(me, Text(f"(The clock moves to {when:%a %d %b %H:%M} UTC.)"))
        await self.ticker.tick()


def files_folder(core: Core) -> Path:
    """Where exports are written: beside the SQLite database (the data folder), or in
    `data` under the current folder when the database is elsewhere."""
    database = sqlite_path(core.db.url)
    return database.parent if database is not None else Path.cwd() / "data"


async def run_terminal(core: Core, clock: ShiftedClock, tick_seconds: float) -> None:
    if isinstance(sys.stdin, io.TextIOWrapper):
        # A byte that is not UTF-8 (a paste from another encoding) becomes U+FFFD instead
        # of an error that would end the chat.
        sys.stdin.reconfigure(errors="replace")
    chat = TerminalChat(
        core,
        clock,
        stdin=sys.stdin,
        stdout=sys.stdout,
        tick_seconds=tick_seconds,
        files_dir=files_folder(core),
    )
    await chat.run()
