"""The Telegram test world: the real python-telegram-bot, the core on SQLite, a fake Bot API.

A test module's `world` fixture is `async with running_world(...) as world: yield world`;
`World` is the person's-eye view of it (say a line, press a button, read what the bot
sent, let time pass).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from bot.adapters.telegram import TelegramAdapter
from bot.core.catalog import Catalog
from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.crypto import ReplyCipher, owner_tag
from bot.core.ports import Switchboard
from bot.core.service import Core
from bot.core.ticker import Ticker
from bot.settings import Settings
from db.models import Person, Reply
from db.session import Database
from tests.fake_telegram import TOKEN, FakeTelegram

ANA, BEN, MIA, ZOE = 1001, 1002, 1003, 1004
GROUP = -100555
TICK_TIMEOUT = 10.0


@dataclass
class World:
    fake: FakeTelegram
    core: Core
    clock: ManualClock
    ticker: Ticker
    adapter: TelegramAdapter

    async def tick(self) -> None:
        """Plan and send what is due now; a tick that never ends fails the test."""
        await asyncio.wait_for(self.ticker.tick(), TICK_TIMEOUT)

    async def flush(self) -> None:
        """Send what is in the outbox, after any send already under way has finished."""
        await asyncio.wait_for(self.ticker.flush(), TICK_TIMEOUT)

    def last_text(self, chat: int) -> str:
        texts = self.fake.texts(chat)
        return texts[-1] if texts else ""

    async def _answer(self, where: int, before: int, expect: str, did: str) -> str:
        """Everything the bot sent to `where` in answer, once `expect` is among it and the
        bot has finished answering (`settled`): an answer can be several messages."""

        def new() -> list[str]:
            return self.fake.texts(where)[before:]

        try:
            await self.fake.wait_for(lambda: any(expect in t for t in new()))
        except AssertionError:
            raise AssertionError(
                f"after {did!r} the bot never said {expect!r}; it said {new()!r}"
            ) from None
        await self.settled()
        return "\n".join(new())

    async def settled(self) -> None:
        """Wait until every update sent so far has been handled and answered.

        python-telegram-bot asks for the next updates only once it has queued the last ones,
        and its queue is done when each queued update's handler has returned.
        """
        if self.fake.updates:
            last = self.fake.updates[-1]["update_id"]
            await self.fake.wait_for(
                lambda: any(
                    c.method == "getUpdates" and int(c.params.get("offset") or 0) > last
                    for c in self.fake.calls
                )
            )
        await asyncio.wait_for(self.adapter.application.update_queue.join(), TICK_TIMEOUT)

    async def say(
        self,
        user: int,
        name: str,
        text: str,
        *,
        expect: str,
        chat: int | None = None,
        reply_to: int | None = None,
    ) -> str:
        """Send a line; the bot's whole answer, which must contain `expect`."""
        where = chat if chat is not None else user
        before = len(self.fake.sent(where))
        self.fake.message(user, name, text, chat_id=chat, reply_to=reply_to)
        return await self._answer(where, before, expect, text)

    async def send_file(
        self, user: int, name: str, filename: str, data: bytes, *, expect: str
    ) -> str:
        """Send a file in the private chat; the bot's whole answer, containing `expect`."""
        before = len(self.fake.sent(user))
        self.fake.document(user, name, filename, data)
        return await self._answer(user, before, expect, f"sending {filename}")

    async def press(self, user: int, name: str, data: str, *, expect: str) -> str:
        """Press a button; the bot's whole answer, which must contain `expect`."""
        before = len(self.fake.sent(user))
        self.fake.press(user, name, data)
        return await self._answer(user, before, expect, f"pressing {data}")

    async def onboard(self, user: int, name: str, time: str = "07:00", zone: str = "UTC") -> None:
        await self.say(user, name, "/start", expect="Shall we begin")
        await self.say(user, name, "yes", expect="What time")
        await self.say(user, name, time, expect="Which time zone")
        await self.say(user, name, zone, expect="Which days")
        await self.say(user, name, "daily", expect="Which themes")
        await self.say(user, name, "core", expect="all set")

    def person(self, user: int) -> Person | None:
        with self.core.db.transaction() as session:
            person = session.scalar(select(Person).where(Person.platform_user_id == str(user)))
            if person is not None:
                session.expunge(person)
            return person

    def replies_of(self, user: int) -> list[str]:
        """What the database holds for this person, decrypted, in reply-number order."""
        with self.core.db.transaction() as session:
            person = session.scalar(select(Person).where(Person.platform_user_id == str(user)))
            if person is None:
                return []
            rows = session.scalars(
                select(Reply).where(Reply.person_id == person.id).order_by(Reply.number)
            ).all()
            cipher = self.core.ctx.cipher
            return [cipher.decrypt(r.ciphertext, owner=owner_tag(person.id)) for r in rows]


async def serve_fake(fake: FakeTelegram) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/bot"


def sqlite_core(path: Path, catalog: Catalog, cipher: ReplyCipher, clock: ManualClock) -> Core:
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    return Core(database, Context(catalog=catalog, cipher=cipher, clock=clock))


@asynccontextmanager
async def running_world(
    tmp_path: Path, catalog: Catalog, cipher: ReplyCipher
) -> AsyncIterator[World]:
    """The bot running against a fresh fake server; a test module's `world` fixture."""
    fake = FakeTelegram(private_chats=set())
    runner, base_url = await serve_fake(fake)
    clock = ManualClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    core = sqlite_core(tmp_path / "tg.sqlite3", catalog, cipher, clock)
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,  # type: ignore[call-arg]
        telegram_api_base_url=base_url,
    )
    switchboard = Switchboard()
    adapter = TelegramAdapter(settings, core, switchboard)
    await adapter.start()
    await adapter.lead()  # the one process: it takes the updates
    try:
        yield World(fake, core, clock, Ticker(core, switchboard), adapter)
    finally:
        await adapter.stop()
        await runner.cleanup()
        core.db.dispose()
