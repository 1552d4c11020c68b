"""The terminal chat: the conversation loop, the terminal's own commands (`/as`, `/in`,
`/next-day`, `{code}` and `{post}`), and what a group member does translated as the
Telegram adapter does it."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.adapters.terminal.messenger import PLATFORM, Group, TerminalMessenger, group_id
from bot.adapters.terminal.screen import Lines, Screen, on_interrupt
from bot.adapters.terminal.storage import data_place, files_folder
from bot.core import incidents
from bot.core.clock import ShiftedClock
from bot.core.context import UPLOAD_LIMIT, Incoming, Upload
from bot.core.messages import Message, Text
from bot.core.ports import Switchboard
from bot.core.replies import POST_REFERENCE
from bot.core.service import Core, split_command
from bot.core.ticker import Ticker

NAME_LIMIT = 40
TERMINAL_HELP = (
    "Terminal extras:\n"
    "/as NAME — talk as another local person (try a couple on one machine)\n"
    "/in GROUP — go into a group chat of that name, to try a workshop there; /in alone "
    "brings you back to your private chat. The first person in is the group's "
    "administrator; everyone who goes in is a member. In a group, a practice's “Reply "
    "privately” button (/reply ws-N) opens your private chat on it, as on Telegram. There "
    "are no pretend members: counts below 3 show as “fewer than 3”, so bring in more people "
    "with /as NAME and /in GROUP to see a number.\n"
    "/next-day — move the clock to the next scheduled practice or workshop post and deliver it\n"
    "/upload PATH — send the bot a file, as a facilitator sends their own workshop program "
    "(a .yaml or .json file; /help programs)\n"
    "{code} — stands for the last invite code shown, {post} for the last workshop practice, "
    "so a script can pair two people or reply in a workshop\n"
    "/quit — leave (Ctrl-C and Ctrl-D work too)"
)


def opening_line(core: Core, reason: str | None) -> str:
    """The one line `wholehearted run` (with `reason`: no token) and `try` start with."""
    lead = f"{reason}, so this is" if reason else "This is"
    return (
        f"{lead} the bot in your terminal, on {data_place(core)}. Type /help, or /in GROUP to "
        "try a workshop. Ctrl-C quits."
    )


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
        self.interactive = stdin.isatty()
        self.tick_seconds = tick_seconds
        self.screen = Screen(stdout, self.interactive)
        self.messenger = TerminalMessenger(self.screen, files_dir)
        self.switchboard = Switchboard([self.messenger])
        self.ticker = Ticker(core, self.switchboard)
        core.ctx.memberships[PLATFORM] = self.messenger.is_member

    async def run(self) -> None:
        """Talk until /quit, the end of input (Ctrl-D) or Ctrl-C; at a terminal, or after
        Ctrl-C, the chat ends with one goodbye line."""
        interrupted = asyncio.Event()
        scheduler: AsyncIOScheduler | None = None
        if self.interactive:
            scheduler = AsyncIOScheduler()
            scheduler.add_job(
                self.ticker.tick, "interval", seconds=self.tick_seconds, max_instances=1
            )
            scheduler.start()
        lines = Lines(self.stdin, self.screen.answered)
        try:
            with on_interrupt(interrupted.set), lines.watched():
                talk = asyncio.create_task(self.talk(lines))
                stop = asyncio.create_task(interrupted.wait())
                await asyncio.wait({talk, stop}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                talk.cancel()  # after Ctrl-C: a database call under way ends in its thread
                await asyncio.gather(talk, return_exceptions=True)
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
        if not talk.cancelled():
            talk.result()  # an error that escaped the chat rises here
        if interrupted.is_set() or self.interactive:
            self.screen.close(f"Bye. Everything is kept in {data_place(self.core)} for next time.")

    async def talk(self, lines: Lines) -> None:
        """The conversation, until /quit or the end of input."""
        await self.ticker.tick()
        while True:
            self.screen.ask(self.messenger.prompt())
            line = await lines.next()
            if line is None:
                return  # Ctrl-D: the goodbye goes below the prompt
            self.screen.answered()
            text = line.strip()
            if not text:
                continue
            if not self.interactive:
                self.screen.print([f"{self.messenger.prompt()}{text}"])
            if text in {"/quit", "/exit"}:
                return
            await self.handle_safely(text)

    async def handle_safely(self, text: str) -> None:
        """The terminal's failure boundary: one bad line never ends the chat."""
        try:
            await self.handle(text)
            await self.ticker.tick()
        except Exception as error:  # the adapter's one failure boundary: log, apologise, go on
            incident = incidents.record(error, "the terminal chat")
            self.tell(Text(incidents.apology(incident)))

    def tell(self, message: Message) -> None:
        """Show the current person something where they are now."""
        group = self.messenger.group_here()
        if group is not None:
            self.messenger.show(group.chat_id, message, is_chat=True)
        else:
            self.messenger.show(self.messenger.me, message)

    async def handle(self, text: str) -> None:
        command = split_command(text)
        name, args = command or ("", "")
        if name == "as":
            self.become(args)
            return
        if name == "in":
            self.go_in(args)
            return
        for placeholder, value, missing in (
            (
                "{code}",
                self.messenger.last_code,
                "No invite code has been shown yet; /pair makes one.",
            ),
            ("{post}", self.messenger.last_post, "No workshop practice has been posted yet."),
        ):
            if placeholder in text:
                if value is None:
                    self.tell(Text(missing))
                    return
                text = text.replace(placeholder, value)
        if name == "next-day":
            await self.next_day()
            return
        if name == "upload":
            await self.upload(args)
            return
        group = self.messenger.group_here()
        if group is None:
            await self.say_privately(text)
        else:
            await self.say_in_group(group, text)
        if name == "help" and not args:
            self.tell(Text(TERMINAL_HELP))

    def become(self, name: str) -> None:
        name = " ".join(name.split())[:NAME_LIMIT]
        if not name:
            self.tell(Text("Type /as followed by a name, for example /as Sam."))
            return
        self.messenger.switch_to(name)
        group = self.messenger.group_here()
        where = f", in the group “{group.name}”" if group else ""
        self.tell(Text(f"You are now {name}{where}."))

    def go_in(self, name: str) -> None:
        messenger = self.messenger
        name = " ".join(name.split())[:NAME_LIMIT]
        if not name:
            if messenger.group_here() is None:
                self.tell(
                    Text("You're in your private chat already. /in GROUP goes into a group chat.")
                )
                return
            messenger.go_private()
            self.tell(Text("You're back in your private chat with the bot."))
            return
        chat_id = group_id(name)
        group = messenger.groups.get(chat_id)
        if group is None:
            group = messenger.groups[chat_id] = Group(chat_id, name, admins={messenger.me})
            about = "a new group, with you as its administrator"
        else:
            members = len(group.members | {messenger.me})
            admins = sorted(messenger.names.get(a, a) for a in group.admins - {messenger.me})
            about = f"{members} member{'' if members == 1 else 's'}; " + (
                f"{', '.join(admins)} administers it" if admins else "you're its administrator"
            )
        messenger.go_in(group)
        self.tell(
            Text(
                f"You're in the group chat “{group.name}” ({about}). The bot posts workshop "
                "practices here; /workshop start begins one, /help says more. /in alone "
                "takes you back to your private chat."
            )
        )

    async def upload(self, path: str) -> None:
        """`/upload PATH`: the file goes to the bot as a file sent in this chat would (in a
        group, unread, as the platforms' adapters do there)."""
        if not path:
            self.tell(Text("Type /upload and a file's path, for example /upload lunch.yaml."))
            return
        file = Path(path).expanduser()
        if not file.is_file():
            self.tell(Text(f"There's no file at {file}."))
            return
        try:
            size = file.stat().st_size
            content = file.read_bytes() if size <= UPLOAD_LIMIT else None
        except OSError as error:
            self.tell(Text(f"I can't read {file}: {error.strerror or error}."))
            return
        me, group = self.messenger.current, self.messenger.group_here()
        incoming = Incoming(
            PLATFORM,
            me.lower(),
            me,
            "",
            chat_id=group.chat_id if group else None,
            is_admin=group is not None and me.lower() in group.admins,
            document=Upload(file.name, size, None if group else content),
        )
        outcome = await self.core.handle(incoming)
        for message in outcome.replies:
            self.tell(message)

    async def say_privately(self, text: str) -> None:
        me = self.messenger.current
        outcome = await self.core.handle(Incoming(PLATFORM, me.lower(), me, text))
        for message in outcome.replies:
            self.messenger.show(me.lower(), message)

    async def say_in_group(self, group: Group, text: str) -> None:
        """What a group member does in the group, translated as the Telegram adapter does."""
        messenger = self.messenger
        command = split_command(text)
        if command is None:
            self.tell(
                Text(
                    "(Said in the group. In a group the bot reads only /commands; a reply to a "
                    "practice goes through its “Reply privately” button.)"
                )
            )
            return
        if command[0] == "reply" and POST_REFERENCE.fullmatch(command[1]):
            # On Telegram this button is a link that opens the private chat with the bot
            # and sends `/start ws-N` there; the same happens here.
            messenger.go_private()
            self.tell(
                Text(
                    "(Your private chat with the bot opens, as the “Reply privately” button "
                    f"does on Telegram. /in {group.name} goes back to the group.)"
                )
            )
            await self.say_privately(f"/start {command[1]}")
            return
        me = messenger.current
        outcome = await self.core.handle(
            Incoming(
                PLATFORM,
                me.lower(),
                me,
                text,
                chat_id=group.chat_id,
                is_admin=me.lower() in group.admins,
            )
        )
        if outcome.private:
            # What only its asker may read goes to their private chat, as on Telegram.
            for message in outcome.replies:
                messenger.show(me.lower(), message)
            outcome.replies = [Text("I've answered you in our private chat.")]
        for message in outcome.replies:
            messenger.show(group.chat_id, message, is_chat=True)

    async def next_day(self) -> None:
        wakeup = await asyncio.to_thread(self.core.next_wakeup_sync, self.switchboard.platforms)
        if wakeup is None:
            self.tell(
                Text(
                    "Nothing is scheduled. /start sets up your daily practice (/resume, if "
                    "it is paused); in a group, /workshop start begins a workshop (/workshop "
                    "resume, if it is paused)."
                )
            )
            return
        self.clock.advance_to(wakeup)
        when = self.clock.now().astimezone(ZoneInfo("UTC"))
        self.tell(Text(f"(The clock moves to {when:%a %d %b %H:%M} UTC.)"))
        await self.ticker.tick()


async def run_terminal(core: Core, clock: ShiftedClock, tick_seconds: float) -> None:
    if isinstance(sys.stdin, io.TextIOWrapper):
        # Where stdin is read through Python (a file): see `Lines` for the same rule.
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
