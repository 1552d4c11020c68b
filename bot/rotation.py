"""`wholehearted key rotate`: every ciphertext re-encrypted under a new reply key.

It can be interrupted at any moment (even by kill -9) and run again to go on, and no row
is ever unreadable:

1. The new key is made durable first (the key file's `.next`, written owner-only and
   synced; or REPLY_ENCRYPTION_KEY_NEW, which the operator keeps), then its check value
   is stored as `reply_key_next_check`. From then on a process that starts holds both
   keys and encrypts with the new one (`bot.keys`).
2. Rows are re-encrypted in batches, one transaction each, the batch's rows locked; a row
   the new key opens already is left alone, so a second run only does what is left.
3. The new check value replaces the old one; then the key file is swapped, the old key
   kept in `.old` for backups made before the rotation.

It runs alone: a bot started before it holds only the old key. On SQLite it takes the
database file's lock, as a bot does; on PostgreSQL the sender's advisory lock, and it
refuses while a connection named like a bot's (`bot.app.BOT_APPLICATION_NAME`) is open.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from sqlalchemy import select, text, update
from sqlalchemy.orm import InstrumentedAttribute

from bot.app import BOT_APPLICATION_NAME, StartupError, open_database
from bot.core.crypto import (
    ReplyCipher,
    ReplyKeyError,
    generate_key,
    owner_tag,
    sync_folder,
    write_key_file,
)
from bot.keys import KEY_CHECK, KEY_NEXT_CHECK, KeyFile, Keys, KeySource, load_keys
from bot.leadership import LEADER_LOCK, OneProcessOnly, SoleProcess
from bot.settings import Settings
from db.models import Meta, Notice, ReceivedShare, Reply
from db.session import Database, insert_unless_present, sqlite_path

BATCH = 500
APPLICATION_NAME = "wholehearted key rotate"
_Row = type[Reply] | type[ReceivedShare] | type[Notice]
TABLES: tuple[tuple[_Row, InstrumentedAttribute[int], str], ...] = (
    (Reply, Reply.person_id, "replies"),
    (ReceivedShare, ReceivedShare.recipient_id, "shared replies"),
    (Notice, Notice.person_id, "notices"),
)
RUNNING = (
    "A wholehearted bot is running on this database; stop every bot process before "
    "`wholehearted key rotate` (one started earlier holds only the old key), and start "
    "them again when it is done."
)


@dataclass
class Counts:
    rotated: dict[str, int] = field(default_factory=dict)
    already: int = 0
    unreadable: int = 0

    def sentence(self) -> str:
        done = [f"{self.rotated.get(label, 0)} {label}" for _, _, label in TABLES]
        said = f"Re-encrypted {', '.join(done[:-1])} and {done[-1]} under the new reply key"
        if self.already:
            said += f" ({self.already} were under it already)"
        if self.unreadable:
            said += f"; {self.unreadable} that no key opens were left as they were"
        return said + "."


def rotate(settings: Settings) -> list[str]:
    """Rotate the reply key; the lines to print, or a StartupError of one sentence."""
    database = open_database(settings, APPLICATION_NAME)
    try:
        with _alone(database) as still_alone:
            return _rotate(settings, database, still_alone)
    except ReplyKeyError as exc:
        raise StartupError(str(exc)) from None
    finally:
        database.dispose()


@contextmanager
def _alone(database: Database) -> Iterator[Callable[[], None]]:
    """Hold what a bot holds, or refuse; the function refuses if a bot started since."""
    if not database.is_postgresql:
        sole = SoleProcess(sqlite_path(database.url))
        try:
            sole.hold()
        except OneProcessOnly:
            raise ReplyKeyError(RUNNING) from None
        try:
            yield lambda: None
        finally:
            asyncio.run(sole.resign())
        return
    with database.engine.connect() as connection:
        held = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK})
        if not held.scalar():
            raise ReplyKeyError(RUNNING)

        def still_alone() -> None:
            bots = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": BOT_APPLICATION_NAME},
            ).scalar()
            connection.commit()
            if bots:
                raise ReplyKeyError(RUNNING)

        try:
            still_alone()
            yield still_alone
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK})
            connection.commit()


def _rotate(settings: Settings, database: Database, still_alone: Callable[[], None]) -> list[str]:
    keys = load_keys(settings, database)
    source = keys.source
    if keys.pending is None and keys.unfinished:
        return ["Every row was re-encrypted already.", *_finish(source)]
    if keys.pending is None:
        new = _begin(settings, database, keys)
        # A bot that started before the new key's check value was stored holds only the
        # old key: it would write rows no key opens once the rotation is done.
        still_alone()
    else:
        new = keys.pending
    counts, old = Counts(), ReplyCipher(keys.current)
    for model, owner, label in TABLES:
        after: int | None = 0
        while after is not None:
            after = _batch(database, model, owner, after, old, ReplyCipher(new), counts, label)
    with database.transaction() as session:
        pending = session.get(Meta, KEY_NEXT_CHECK)
        current = session.get(Meta, KEY_CHECK)
        assert pending is not None and current is not None
        current.value = pending.value
        session.delete(pending)
    return [counts.sentence(), *_finish(source)]


def _begin(settings: Settings, database: Database, keys: Keys) -> bytes:
    """Make the new key durable, then record its check value: the rotation has begun."""
    source = keys.source
    if isinstance(source, KeyFile):
        if settings.reply_encryption_key_new is not None:
            raise ReplyKeyError(
                "REPLY_ENCRYPTION_KEY_NEW goes with REPLY_ENCRYPTION_KEY; with the key file, "
                "`wholehearted key rotate` makes the new key itself, so unset it."
            )
        write_key_file(source.next_path, generate_key())
    new = source.second()
    if new is None:
        raise ReplyKeyError(
            "Set REPLY_ENCRYPTION_KEY_NEW to a new key from `wholehearted key new` (keep a "
            "copy of it), then run `wholehearted key rotate` again."
        )
    if new == keys.current:
        raise ReplyKeyError(
            "REPLY_ENCRYPTION_KEY_NEW is the key in use already; make a new one with "
            "`wholehearted key new`."
        )
    with database.transaction() as session:
        value = ReplyCipher(new).check_value()
        insert_unless_present(session, Meta, ("key",), key=KEY_NEXT_CHECK, value=value)
    return new


def _batch(
    database: Database,
    model: _Row,
    owner: InstrumentedAttribute[int],
    after: int,
    old: ReplyCipher,
    new: ReplyCipher,
    counts: Counts,
    label: str,
) -> int | None:
    """Re-encrypt the next rows after id `after`, locked until they are written; the last
    id done, or None at the end of the table."""
    with database.transaction() as session:
        rows = session.execute(
            select(model.id, owner, model.ciphertext)
            .where(model.id > after)
            .order_by(model.id)
            .limit(BATCH)
            .with_for_update()
        ).all()
        if not rows:
            return None
        changes = []
        for row_id, owner_id, blob in rows:
            tag = owner_tag(owner_id)
            if not blob:  # a sent notice: its text is erased
                continue
            if new.opens(blob, owner=tag):
                counts.already += 1
                continue
            try:
                plain = old.decrypt(blob, owner=tag)
            except (InvalidTag, ValueError):
                counts.unreadable += 1
                continue
            changes.append({"id": row_id, "ciphertext": new.encrypt(plain, owner=tag)})
        if changes:
            session.execute(update(model), changes)
        counts.rotated[label] = counts.rotated.get(label, 0) + len(changes)
        last: int = rows[-1][0]
        return last


def _finish(source: KeySource) -> list[str]:
    """The last step: swap the key file (the old key kept as `.old`), or tell the
    operator to move REPLY_ENCRYPTION_KEY_NEW."""
    if not isinstance(source, KeyFile):
        return [
            "Now put the value of REPLY_ENCRYPTION_KEY_NEW into REPLY_ENCRYPTION_KEY and "
            "remove REPLY_ENCRYPTION_KEY_NEW; keep the old key only as long as you keep "
            "backups made before now."
        ]
    if os.path.lexists(source.next_path):
        write_key_file(source.old_path, source.path.read_text(encoding="ascii").strip())
        os.replace(source.next_path, source.path)
        sync_folder(source.path.parent)
    return [
        f"The new key is in {source.path}; the old one is kept in {source.old_path} for "
        "backups made before now: delete it once you no longer need them."
    ]
