"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (scale-out).

The core is synchronous SQLAlchemy; callers on an event loop run it in a worker thread
(see `bot.core.service.Core`), so a slow query never stalls the chat libraries.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Files a folder may hold besides the database's own for it to count as the bot's folder,
# whose permissions start-up may tighten (the reply key file and its rotation's copies).
_KEY_FILE_PREFIX = "reply-encryption.key"

log = logging.getLogger(__name__)


def normalize_url(raw: str) -> URL:
    """Accept the URL forms people copy from hosting dashboards and pick the psycopg driver."""
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def sqlite_path(url: URL) -> Path | None:
    """The database file of an SQLite URL, or None for other databases and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _private_sqlite_files(path: Path) -> None:
    """The database's folder owner-only (0700), and the database file owner-only (0600)
    before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode.
    An existing install with looser modes is tightened, in one line of the log."""
    folder, tightened = path.parent, []
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif _only_ours(folder, path.name) and _loose(folder):
        tightened.append(_tighten(folder, 0o700))
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
        if file.exists() and _loose(file):
            tightened.append(_tighten(file, 0o600))
    if tightened:
        log.warning("Made %s private to this user.", ", ".join(tightened))


def _loose(path: Path) -> bool:
    """Whether others may use `path`, and this user can change that."""
    info = path.stat()
    return bool(info.st_mode & 0o077) and info.st_uid == os.geteuid()


def _tighten(path: Path, mode: int) -> str:
    before = stat.S_IMODE(path.stat().st_mode)
    path.chmod(mode)
    return f"{path} ({before:o} → {mode:o})"


def _only_ours(folder: Path, database_name: str) -> bool:
    """Whether `folder` holds nothing but this database's files: a folder shared with
    other things (a home folder, /tmp) is left as it is."""
    if folder.stat().st_mode & stat.S_ISVTX:
        return False
    return all(name.startswith((database_name, _KEY_FILE_PREFIX)) for name in os.listdir(folder))


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event open transactions (see _sqlite_begin), not pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows (a /forget, a /delete) are overwritten with zeros, not left readable in
    # free space; `bot.core.privacy` then checkpoints so the log holds no older copy.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock up front: with several processes on one SQLite file, a deferred
    transaction that reads and then writes can fail at once instead of waiting its turn.
    A plain read (`Database.read`) takes none."""
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_unless_present(
    session: Session, model: type[DeclarativeBase], unique: tuple[str, ...], **values: Any
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on the unique columns: two transactions creating
    the same row at once both go on, and both then find the one row."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
    session.execute(statement.values(**values).on_conflict_do_nothing(index_elements=unique))


class Database:
    """One engine and its session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str | URL) -> None:
        self.url = normalize_url(url) if isinstance(url, str) else url
        path = sqlite_path(self.url)
        if path is not None:
            _private_sqlite_files(path)
        # hide_parameters: a database error's message never quotes the values, which can be
        # ciphertext, names or invite codes.
        self.engine: Engine = create_engine(
            self.url,
            pool_pre_ping=self.url.get_backend_name() != "sqlite",
            hide_parameters=True,
        )
        if self.url.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """One read outside any transaction: no write lock on SQLite, no BEGIN and COMMIT
        on PostgreSQL. For the idle checks that run every few seconds."""
        with (
            self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
            Session(connection) as session,
        ):
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest migration; safe to run from several workers."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as connection:
            if self.is_postgresql:
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(804137)")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()
