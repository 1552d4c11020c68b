"""What a command is made of: the pieces `bot.core.commands` defines every command with.

They are apart from the registry so that help (`bot.core.command_help`) and the adapters can
read a command's shape, and turn a platform's filled-in options back into the line a person
would type, without importing every handler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.orm import Session

from bot.core.context import Context, Incoming
from bot.core.messages import Outcome
from db.models import Person


class Where(Enum):
    """Where a command works. "Private" is a private chat with the bot; on Discord a
    private command also works in a server channel, answered so only its author sees it."""

    PRIVATE = "private"
    GROUP = "group"
    BOTH = "both"

    @property
    def in_private(self) -> bool:
        return self is not Where.GROUP

    @property
    def in_group(self) -> bool:
        return self is not Where.PRIVATE


class Who(Enum):
    """Who may use a command: menus, Discord permissions and the dispatcher all follow it."""

    EVERYONE = "everyone"
    ADMINS = "group administrators"


class Kind(Enum):
    TEXT = "free text"
    NUMBER = "a whole number"
    CHOICE = "one of its choices"


class Trailing(Enum):
    """What the words after a command are."""

    ARGUMENTS = "its arguments"
    # Words after a command that takes none (`/today I loved yesterday's`) are somebody's
    # words: kept by the free-text rules once the command has run.
    WORDS = "somebody's words"
    # The same, after the practice a button names (`/skip #12 too tired`).
    PRACTICE_THEN_WORDS = "a practice, then somebody's words"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Argument:
    """One thing a command takes. `description` is one line of at most 100 characters: the
    Discord option's description and the line help shows for it."""

    name: str
    description: str
    kind: Kind = Kind.TEXT
    required: bool = False
    # How the typed usage line shows it (`HH:MM`); the name when empty.
    placeholder: str = ""
    # Typed as its name and then its value (`/settings time 7pm`), one line per argument.
    keyword: bool = False
    # Written at length (a reply's words): on Discord a form (modal) asks for it.
    long: bool = False
    minimum: int = 1
    maximum: int = 999_999_999
    # CHOICE: the choices, which may come from the library (workshop programs).
    choices: Callable[[Context], Sequence[Choice]] | None = None
    # TEXT: suggestions for what has been typed so far (time zones).
    suggest: Callable[[Context, str], Sequence[Choice]] | None = None

    @property
    def shown_as(self) -> str:
        shown = self.placeholder or self.name
        return shown.upper() if self.required else f"[{shown}]"


@dataclass(frozen=True)
class Call:
    """One command being run: what its handler gets. `person` is who wrote it, once they
    exist; for a `Personal` handler the dispatcher has found or made them."""

    session: Session
    ctx: Context
    incoming: Incoming
    args: str
    person: Person | None = None


@dataclass(frozen=True)
class Personal:
    """A command about the person's own practice: it runs once they have started the bot,
    after onboarding is settled and any open question has moved on."""

    run: Callable[[Call, Person], Outcome]

    @classmethod
    def of(cls, rule: Callable[[Session, Context, Person, str], Outcome]) -> Personal:
        return cls(lambda call, person: rule(call.session, call.ctx, person, call.args))


@dataclass(frozen=True)
class General:
    """A command anyone may use wherever it works, set up or not (help, safety, workshops)."""

    run: Callable[[Call], Outcome]


Handler = Personal | General


@dataclass(frozen=True)
class Subcommand:
    """`/workshop start`: its own line in help and its own slash command on Discord; the
    parent command's handler runs it."""

    name: str
    summary: str
    arguments: tuple[Argument, ...] = ()


@dataclass(frozen=True)
class Command:
    """A command, defined once: menus, help, Discord's slash commands and dispatch are all
    read from it. `summary` is one line of at most 100 characters; `details` is true on every
    platform, `typed` is added where commands are typed (Telegram, the terminal) and
    `slash` where they are slash commands with options and buttons (Discord)."""

    name: str
    summary: str
    details: str
    handler: Handler
    arguments: tuple[Argument, ...] = ()
    typed: str = ""
    slash: str = ""
    where: Where = Where.PRIVATE
    who: Who = Who.EVERYONE
    trailing: Trailing = Trailing.ARGUMENTS
    subcommands: tuple[Subcommand, ...] = ()


def typed_lines(
    command: Command, subcommand: Subcommand | None, values: Mapping[str, object]
) -> list[str]:
    """The line(s) a person would type for a command whose options were filled in on a
    platform (Discord): `/pause 3`, `/workshop start lighten-up 19:00`, and one line per
    keyword argument (`/settings time 7pm`, `/settings zone UTC`), or the command alone."""
    head = f"/{command.name} {subcommand.name}" if subcommand else f"/{command.name}"
    arguments = subcommand.arguments if subcommand else command.arguments
    given = [(a, values.get(a.name)) for a in arguments]
    given = [(a, value) for a, value in given if value is not None and str(value).strip()]
    if any(a.keyword for a in arguments):
        return [f"{head} {a.name} {value}" for a, value in given] or [head]
    return [" ".join([head, *(str(value) for _, value in given)])]
