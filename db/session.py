"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (scale-out).

The core is synchronous SQLAlchemy; callers on an event loop run it in a worker thread
(see `bot.core.service.Core`), so a slow query never stalls the chat libraries.
"""

from __future__ import annotations

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


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event open transactions (see _sqlite_begin), not pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
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
            path.parent.mkdir(parents=True, exist_ok=True)
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
