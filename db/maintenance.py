"""Making deleted rows leave the database files: checkpoints and VACUUM.

SQLite runs with `secure_delete` on (see `db.session`), so a deleted row is overwritten
with zeros, but in WAL mode the overwrite first lands in the write-ahead log, and older
copies of the same pages stay in the log until a checkpoint empties it. PostgreSQL keeps
a deleted row on disk, dead, until VACUUM clears its space.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from db.session import Database, sqlite_path


def checkpoint(engine: Engine) -> bool:
    """SQLite: copy the log's pages into the database file and truncate the log to zero
    bytes. False when a reader kept it from finishing (it waits `busy_timeout` first)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    return bool(row[0] == 0)


def vacuum(database: Database) -> str:
    """VACUUM the database (and on SQLite empty the log); one line saying what was done."""
    engine = database.engine
    path = sqlite_path(database.url)
    if engine.dialect.name == "sqlite":
        before = _size(path)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")
        emptied = checkpoint(engine)
        where = str(path) if path else "the in-memory database"
        size = f" ({_megabytes(before)} → {_megabytes(_size(path))})" if path else ""
        log_state = (
            "emptied its write-ahead log"
            if emptied
            else "could not empty its write-ahead log while another process was reading; "
            "run it again when the bot is idle"
        )
        return f"Vacuumed the SQLite database {where}{size} and {log_state}."
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM")
    return (
        f"Vacuumed the PostgreSQL database {database.url.database}: the space of deleted rows "
        "is cleared for reuse (their bytes go once it is reused; VACUUM FULL rewrites every "
        "table now, under a lock)."
    )


def _size(path: Path | None) -> int:
    return path.stat().st_size if path is not None and path.exists() else 0


def _megabytes(size: int) -> str:
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB"
