"""Wiring: settings, database, key and content become one ready `Core`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

from bot.core.catalog import load_catalog
from bot.core.clock import Clock, SystemClock
from bot.core.context import Context
from bot.core.crypto import (
    KEY_FILE_NAME,
    ReplyCipher,
    ReplyKeyError,
    decode_key,
    load_or_create_key_file,
)
from bot.core.service import Core
from bot.settings import Settings
from db.models import Meta
from db.session import Database, insert_unless_present, sqlite_path

KEY_CHECK = "reply_key_check"


class StartupError(Exception):
    """Start-up cannot go on; the message is one sentence for the operator."""


def open_database(settings: Settings) -> Database:
    try:
        database = Database(settings.database_url)
        database.upgrade()
    except (OperationalError, ProgrammingError) as exc:
        raise StartupError(
            f"Cannot open the database in DATABASE_URL ({type(exc.orig).__name__}): check "
            "that it is running and that the URL is right."
        ) from None
    except (ArgumentError, NoSuchModuleError):
        raise StartupError(
            "DATABASE_URL is not a database URL I can use; examples: "
            "sqlite:///data/wholehearted.sqlite3 or postgresql://user@host/dbname."
        ) from None
    return database


def _cipher(settings: Settings, database: Database) -> ReplyCipher:
    with database.transaction() as session:
        check = session.scalar(select(Meta.value).where(Meta.key == KEY_CHECK))
    if settings.reply_encryption_key is not None:
        key = decode_key(settings.reply_encryption_key.get_secret_value())
    else:
        path = sqlite_path(database.url)
        if path is None:
            raise ReplyKeyError(
                "Set REPLY_ENCRYPTION_KEY (create one with `wholehearted key new`): a key "
                "file is only kept beside an SQLite database file."
            )
        else:
            key = load_or_create_key_file(path.parent / KEY_FILE_NAME, may_create=check is None)
    cipher = ReplyCipher(key)
    if check is None:
        # Processes starting together on a new database: the first check value stands,
        # and the others are compared with it.
        with database.transaction() as session:
            insert_unless_present(
                session, Meta, ("key",), key=KEY_CHECK, value=cipher.check_value()
            )
            check = session.scalar(select(Meta.value).where(Meta.key == KEY_CHECK))
    if check is not None and not cipher.matches(check):
        raise ReplyKeyError(
            "The reply encryption key does not match the one existing replies were written "
            "with; set REPLY_ENCRYPTION_KEY (or restore the key file) to the original key."
        )
    return cipher


def build_core(
    settings: Settings, clock: Clock | None = None, content_dir: Path | None = None
) -> Core:
    """Everything start-up must check, in the order an operator would fix it."""
    catalog = load_catalog(content_dir)
    database = open_database(settings)
    try:
        cipher = _cipher(settings, database)
    except ReplyKeyError as exc:
        database.dispose()
        raise StartupError(str(exc)) from None
    return Core(database, Context(catalog=catalog, cipher=cipher, clock=clock or SystemClock()))
