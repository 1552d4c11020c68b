"""Where the terminal chat keeps its data and writes its files, as a person would look
for them: the chat names the place when it starts and when it ends."""

from __future__ import annotations

import contextlib
from pathlib import Path

from bot.core.service import Core
from db.session import sqlite_path


def data_place(core: Core) -> str:
    """Where the chat keeps its data, as a person would type it: the SQLite file relative
    to the current folder when it is inside it, else the database URL without password."""
    database = sqlite_path(core.db.url)
    if database is None:
        return core.db.url.render_as_string(hide_password=True)
    path = database.resolve()
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def files_folder(core: Core) -> Path:
    """Where exports are written: beside the SQLite database (the data folder), or in
    `data` under the current folder when the database is elsewhere."""
    database = sqlite_path(core.db.url)
    return database.parent if database is not None else Path.cwd() / "data"
