"""Real `wholehearted run` processes against the fake Telegram, for the process tests and
the sending benchmarks: a database with people due now, and processes to start and kill.

The fake runs in the caller's event loop; each bot is a subprocess with its own event
loop, database pool and python-telegram-bot, as in production.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from bot.core.crypto import generate_key
from db.models import Base, Delivery, Person
from db.session import Database
from tests.fake_telegram import TOKEN

FIRST_CHAT = 5_000_000


def fresh_database(url: str) -> Database:
    """An empty, migrated database at `url` (PostgreSQL: its schema is recreated)."""
    database = Database(url)
    if database.is_postgresql:
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    database.upgrade()
    return database


def person_row(platform: str, user_id: str, due: datetime, now: datetime) -> dict[str, object]:
    """A person set up days ago (agreed, onboarded, every day, the core themes) whose
    next practice is due at `due`: a row for a bulk insert."""
    return {
        "platform": platform,
        "platform_user_id": user_id,
        "display_name": f"P{user_id}",
        "created_at": now - timedelta(days=3),
        "consented_at": now - timedelta(days=3),
        "onboarded_at": now - timedelta(days=3),
        "conversation": {},
        "last_reply_number": 0,
        "local_time": due.strftime("%H:%M"),
        "timezone": "UTC",
        "weekdays": 127,
        "themes": "individuality,playfulness,self-reflection",
        "theme_weights": {},
        "stopped": False,
        "unreachable": False,
        "next_due_at": due,
        "next_due_date": due.date(),
    }


def insert_people(database: Database, rows: list[dict[str, object]]) -> None:
    with database.transaction() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Person), rows[start : start + 5000])


def seed_people(database: Database, platform: str, user_ids: list[int], due: datetime) -> None:
    """People on `platform` set up and due at `due`."""
    now = datetime.now(UTC)
    insert_people(database, [person_row(platform, str(user), due, now) for user in user_ids])


def seed_due(
    database: Database,
    count: int,
    *,
    due_at: datetime | None = None,
    first_chat: int = FIRST_CHAT,
) -> list[int]:
    """`count` Telegram people set up and due now (or at `due_at`); their chat ids, from
    `first_chat` on (seed a database again with chats after the last ones)."""
    chats = list(range(first_chat, first_chat + count))
    seed_people(database, "telegram", chats, due_at or datetime.now(UTC) - timedelta(seconds=5))
    return chats


def delivery_statuses(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        rows = session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        ).all()
    return {status: count for status, count in rows}


def drop_everything(database: Database) -> None:
    if database.is_postgresql:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with database.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    database.dispose()


@dataclass
class BotProcesses:
    """`wholehearted run` processes sharing one database and one bot token."""

    database_url: str
    telegram_url: str
    workdir: Path
    messages_per_second: float = 30.0
    extra_env: dict[str, str] = field(default_factory=dict)
    key: str = field(default_factory=generate_key)
    running: list[asyncio.subprocess.Process] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "DISCORD_", "DATABASE_", "REPLY_"))
        }
        env.update(
            DATABASE_URL=self.database_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=self.telegram_url,
            TELEGRAM_MESSAGES_PER_SECOND=str(self.messages_per_second),
            REPLY_ENCRYPTION_KEY=self.key,
            TICK_SECONDS="1",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    async def start(self) -> asyncio.subprocess.Process:
        log = self.workdir / f"bot-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                cwd=self.workdir,
                env=self.env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        self.running.append(process)
        return process

    async def signal(self, process: asyncio.subprocess.Process, signum: int) -> int:
        """Send `signum` and wait for the process to end; its exit code."""
        process.send_signal(signum)
        code = await asyncio.wait_for(process.wait(), 60)
        self.running.remove(process)
        return code

    async def stop_all(self) -> None:
        for process in list(self.running):
            await self.signal(process, signal.SIGTERM)

    def kill_all_now(self) -> None:
        for process in self.running:
            if process.returncode is None:
                process.kill()

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.logs if path.exists())


def each_once(per_chat: dict[int, int], chats: Iterable[int]) -> tuple[int, int, int]:
    """(people who got it once, lost, extra copies) for a practice that is one message."""
    once = lost = extra = 0
    for chat in chats:
        count = per_chat.get(chat, 0)
        once += count == 1
        lost += count == 0
        extra += max(count - 1, 0)
    return once, lost, extra
