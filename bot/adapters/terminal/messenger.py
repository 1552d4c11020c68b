"""The terminal's messenger: where each message is shown, for the local people and groups
of one session.

Several people can take turns at one keyboard (`/as NAME`) and go into group chats (`/in
GROUP`), so a message for anyone but the current person where they are now is labelled
with where it went.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.adapters.terminal.render import POST_BUTTON, render
from bot.adapters.terminal.screen import Screen
from bot.core.messages import Message, PracticeCard, Recipient, Text
from bot.core.ports import ANSWER, Attempt

PLATFORM = "terminal"
# A group's chat id is its name, normalised; the prefix keeps it apart from people's ids.
GROUP_PREFIX = "group:"
_CODE = re.compile(r"invite code is ([A-Z0-9]{3}-[A-Z0-9]{3})")


def group_id(name: str) -> str:
    return GROUP_PREFIX + " ".join(name.split()).casefold()


@dataclass
class Group:
    """A group chat that exists for this session: whoever goes in first administers it."""

    chat_id: str
    name: str
    admins: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)


class TerminalMessenger:
    """Prints messages for local people and groups; what goes elsewhere than where the
    current person is (another person, a group, their own private chat) is labelled."""

    platform = PLATFORM
    rate_per_second = 1000.0  # a screen has no flood limit

    def __init__(self, screen: Screen, files_dir: Path) -> None:
        self.screen = screen
        self.files_dir = files_dir
        self.current = "Me"
        self.names = {"me": "Me"}
        self.places: dict[str, str] = {}  # person id -> the group chat they are in
        self.groups: dict[str, Group] = {}
        self.last_code: str | None = None
        self.last_post: str | None = None
        self._ids = itertools.count(1)

    @property
    def me(self) -> str:
        return self.current.lower()

    def switch_to(self, name: str) -> None:
        self.current = name
        self.names[name.lower()] = name

    def group_here(self) -> Group | None:
        chat_id = self.places.get(self.me)
        return self.groups.get(chat_id) if chat_id else None

    def go_in(self, group: Group) -> None:
        group.members.add(self.me)
        self.places[self.me] = group.chat_id

    def go_private(self) -> None:
        self.places.pop(self.me, None)

    def prompt(self) -> str:
        group = self.group_here()
        return f"{self.current}@{group.name}> " if group else f"{self.current}> "

    def group_name(self, chat_id: str) -> str:
        group = self.groups.get(chat_id)
        return group.name if group else chat_id.removeprefix(GROUP_PREFIX)

    def show(self, to: str, message: Message, *, is_chat: bool = False) -> None:
        self._remember(message)
        if is_chat:
            name = self.group_name(to)
            here = self.places.get(self.me) == to
            label = "bot" if here else f"bot → {name} (group)"
        else:
            name = self.names.get(to.lower(), to)
            here = to.lower() == self.me and self.me not in self.places
            label = "bot" if here else f"bot → {name}"
        text = render(message, self.files_dir, name, in_group=is_chat)
        self.screen.print(f"{label}> {line}" for line in text.splitlines() or [""])

    def _remember(self, message: Message) -> None:
        """What `{code}` and `{post}` stand for in the lines that follow."""
        if isinstance(message, Text) and (found := _CODE.search(message.body)):
            self.last_code = found.group(1)
        if isinstance(message, Text | PracticeCard):
            for row in message.buttons:
                for button in row:
                    if post := POST_BUTTON.match(button.action):
                        self.last_post = post.group(1)

    async def send(self, to: Recipient, message: Message, attempt: Attempt = ANSWER) -> str | None:
        """A message is one part on a screen, shown whole."""
        self.show(to.user_id, message, is_chat=to.is_chat)
        return str(next(self._ids))

    async def probe(self) -> None:
        """The screen is always there."""

    async def is_member(self, chat_id: str, user_id: str) -> bool:
        """Whoever went into the group with /in this session is a member of it."""
        group = self.groups.get(chat_id)
        return group is not None and user_id in group.members
