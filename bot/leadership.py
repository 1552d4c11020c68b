"""Which process of one bot sends the outbox and polls Telegram: the elected one.

One elected sender, not a rate limit shared by every process: the platform's limit is
per bot, and a single sender applies it exactly, with no coordination per message, no
429s and no duplicated claims; failing over takes seconds. The other processes answer
the events they receive (webhook calls, their Discord shards) and stand by.

- PostgreSQL: the leader holds a session-level advisory lock on a connection of its own.
  A process that dies loses its connection and so the lock; a standby asks for it every
  few seconds. The leader checks its connection as often, and steps down if it is gone.
- SQLite: one process per database file, held by an OS file lock beside it; that
  process is always the leader. A second one is refused with one sentence.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from db.session import Database, sqlite_path

log = logging.getLogger(__name__)

# Any constant shared by every process of the bot; "WHOLEHRT" in ASCII.
LEADER_LOCK = 0x57484F4C45485254 & 0x7FFFFFFFFFFFFFFF
# How often a standby asks for the lock, and the leader checks it still holds it.
CHECK_SECONDS = 5.0


class OneProcessOnly(Exception):
    """Another process already runs the bot on this SQLite file; one sentence."""


class Leadership(Protocol):
    async def elected(self) -> None:
        """Return once this process is the leader."""
        ...

    async def lost(self) -> None:
        """Return when this process is no longer the leader (its connection is gone)."""
        ...

    async def resign(self) -> None:
        """Step down, so a standby takes over at once."""
        ...


class SoleProcess:
    """SQLite: the process holding the database file's lock leads, alone."""

    def __init__(self, database_file: Path | None) -> None:
        self.path = database_file.with_name(database_file.name + ".lock") if database_file else None
        self._file: IO[str] | None = None

    def hold(self) -> None:
        """Take the file's lock, or refuse: a second process would send everything twice."""
        if self.path is None:  # an in-memory database belongs to this process anyway
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a")  # noqa: SIM115 - held open for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise OneProcessOnly(
                f"Another wholehearted process is already running on {self.path.with_suffix('')}"
                "; SQLite serves one process, so stop that one first, or use PostgreSQL "
                "(DATABASE_URL) to run several."
            ) from None
        os.chmod(self.path, 0o600)
        self._file = handle

    async def elected(self) -> None:
        return

    async def lost(self) -> None:
        await asyncio.Event().wait()  # never: nobody else can take this file

    async def resign(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class AdvisoryLock:
    """PostgreSQL: the holder of one advisory lock leads."""

    def __init__(self, database: Database, check_seconds: float = CHECK_SECONDS) -> None:
        self.database = database
        self.check_seconds = check_seconds
        self._connection: Connection | None = None

    async def elected(self) -> None:
        while not await asyncio.to_thread(self._try):
            await asyncio.sleep(self.check_seconds)
        log.info("this process is now the sender")

    def _try(self) -> bool:
        connection = self.database.engine.connect()
        try:
            won = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK}
                ).scalar()
            )
            connection.commit()
        except DBAPIError:
            connection.close()
            return False
        if not won:
            connection.close()
            return False
        self._connection = connection
        return True

    async def lost(self) -> None:
        while await asyncio.to_thread(self._still_connected):
            await asyncio.sleep(self.check_seconds)
        log.warning("lost the database connection that made this process the sender")
        await asyncio.to_thread(self._drop)

    def _still_connected(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except DBAPIError:
            return False  # the server closed it, or the network: the lock is gone
        return True

    async def resign(self) -> None:
        await asyncio.to_thread(self._drop)

    def _drop(self) -> None:
        """Give the lock back, or accept that it went with the connection. A connection
        the server killed refuses every statement until rolled back (SQLAlchemy's
        PendingRollbackError, not a DBAPIError): that too means the lock is gone, and
        stepping down must not fail on it, or this process would go on sending."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK})
            connection.commit()
        except SQLAlchemyError:
            log.info("the connection was gone already, and the lock with it")
        connection.close()


def leadership_for(database: Database) -> SoleProcess | AdvisoryLock:
    """The leadership of this database's kind; on SQLite the file is locked at once."""
    if database.is_postgresql:
        return AdvisoryLock(database)
    sole = SoleProcess(sqlite_path(database.url))
    sole.hold()
    return sole
