"""Wiring: settings, database, key and content become one ready `Core`."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

from bot.core.catalog import CatalogError, load_catalog
from bot.core.clock import Clock, SystemClock
from bot.core.context import Context
from bot.core.crisis import check_rules
from bot.core.crypto import ReplyCipher, ReplyKeyError
from bot.core.service import Core
from bot.core.zones import load_places
from bot.keys import load_keys
from bot.settings import Settings
from db.session import Database, normalize_url

log = logging.getLogger(__name__)

# How bot processes name their PostgreSQL connections, so `wholehearted key rotate` can
# tell that one is running (`bot.rotation`).
BOT_APPLICATION_NAME = "wholehearted"


class StartupError(Exception):
    """Start-up cannot go on; the message is one sentence for the operator."""


def open_database(settings: Settings, application_name: str = BOT_APPLICATION_NAME) -> Database:
    try:
        url = normalize_url(settings.database_url)
        if url.get_backend_name() == "postgresql" and "application_name" not in url.query:
            url = url.update_query_dict({"application_name": application_name})
        database = Database(url)
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
    except OSError as exc:
        raise StartupError(
            f"Cannot create the SQLite database of DATABASE_URL at {exc.filename} "
            f"({exc.strerror}); check the path and its folder's owner."
        ) from None
    return database


def _cipher(settings: Settings, database: Database) -> ReplyCipher:
    keys = load_keys(settings, database)
    if keys.unfinished:
        log.warning(keys.source.unfinished)
    return keys.cipher()


def build_core(
    settings: Settings, clock: Clock | None = None, content_dir: Path | None = None
) -> Core:
    """Everything start-up must check, in the order an operator would fix it: the
    database and the reply key (seconds to fix, and cheap to check), then the content
    (the practice library, and the crisis rules and model, which take a second or two to
    compile). The city data for time zones loads meanwhile in a thread, so that the first
    city a person types does not wait for it inside a transaction."""
    threading.Thread(target=load_places, name="zone-places", daemon=True).start()
    database = open_database(settings)
    try:
        cipher = _cipher(settings, database)
        catalog = load_catalog(content_dir)
        check_rules()  # the crisis rules and model: broken ones stop start-up, not a reply
    except ReplyKeyError as exc:
        database.dispose()
        raise StartupError(str(exc)) from None
    except CatalogError:
        database.dispose()
        raise
    return Core(database, Context(catalog=catalog, cipher=cipher, clock=clock or SystemClock()))
