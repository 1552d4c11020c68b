"""Which reply keys a process holds: the current one, and the new one while a rotation
(`wholehearted key rotate`, see `bot.rotation`) is under way or was interrupted.

Check values in the `meta` table decide it. `reply_key_check` opens with the key every
row not yet rotated was written with; during a rotation `reply_key_next_check` opens with
the new key, which every process then holds as well and encrypts with. The keys come from
REPLY_ENCRYPTION_KEY and REPLY_ENCRYPTION_KEY_NEW, or from the key file beside the SQLite
database and its `.next` file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.crypto import (
    KEY_FILE_NAME,
    ReplyCipher,
    ReplyKeyError,
    decode_key,
    load_or_create_key_file,
    read_key_file,
)
from bot.settings import Settings
from db.models import Meta
from db.session import Database, insert_unless_present, sqlite_path

KEY_CHECK = "reply_key_check"
KEY_NEXT_CHECK = "reply_key_next_check"
NEW_KEY_VARIABLE = "REPLY_ENCRYPTION_KEY_NEW"


class KeyVariables:
    """REPLY_ENCRYPTION_KEY, and REPLY_ENCRYPTION_KEY_NEW for a rotation."""

    def __init__(self, current: SecretStr, new: SecretStr | None) -> None:
        self._current, self._new = current, new

    def first(self, *, may_create: bool) -> bytes:
        return decode_key(self._current.get_secret_value())

    def second(self) -> bytes | None:
        if self._new is None:
            return None
        return decode_key(self._new.get_secret_value(), NEW_KEY_VARIABLE)

    @property
    def pending_missing(self) -> str:
        return (
            "A reply key rotation is under way: set REPLY_ENCRYPTION_KEY_NEW to the new key "
            "it was started with, next to REPLY_ENCRYPTION_KEY."
        )

    @property
    def unfinished(self) -> str:
        return (
            "The reply key rotation is done: put the value of REPLY_ENCRYPTION_KEY_NEW into "
            "REPLY_ENCRYPTION_KEY and remove REPLY_ENCRYPTION_KEY_NEW."
        )


class KeyFile:
    """The key file beside an SQLite database; during a rotation, the new key in `.next`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.next_path = path.with_name(path.name + ".next")
        self.old_path = path.with_name(path.name + ".old")

    def first(self, *, may_create: bool) -> bytes:
        return load_or_create_key_file(self.path, may_create=may_create)

    def second(self) -> bytes | None:
        return read_key_file(self.next_path) if os.path.lexists(self.next_path) else None

    @property
    def pending_missing(self) -> str:
        return (
            f"A reply key rotation is under way, but its new key file {self.next_path} is "
            "missing or not the key it started with; restore it, then run "
            "`wholehearted key rotate` to finish."
        )

    @property
    def unfinished(self) -> str:
        return (
            "The last reply key rotation stopped before its last step; run "
            "`wholehearted key rotate` to finish it."
        )


KeySource = KeyVariables | KeyFile


def key_source(settings: Settings, database: Database) -> KeySource:
    if settings.reply_encryption_key is not None:
        return KeyVariables(settings.reply_encryption_key, settings.reply_encryption_key_new)
    path = sqlite_path(database.url)
    if path is None:
        raise ReplyKeyError(
            "Set REPLY_ENCRYPTION_KEY (create one with `wholehearted key new`): a key "
            "file is only kept beside an SQLite database file."
        )
    return KeyFile(path.parent / KEY_FILE_NAME)


@dataclass(frozen=True)
class Keys:
    current: bytes
    # The new key while a rotation is under way: rows open with either, new text uses it.
    pending: bytes | None
    source: KeySource
    # A rotation re-encrypted everything, but its last step (the key file swap, or the
    # operator moving REPLY_ENCRYPTION_KEY_NEW) is still to come; `current` is the new key.
    unfinished: bool

    def cipher(self) -> ReplyCipher:
        if self.pending is None:
            return ReplyCipher(self.current)
        return ReplyCipher(self.pending, self.current)


def read_checks(session: Session) -> tuple[str | None, str | None]:
    wanted = select(Meta.key, Meta.value).where(Meta.key.in_((KEY_CHECK, KEY_NEXT_CHECK)))
    values = {key: value for key, value in session.execute(wanted)}
    return values.get(KEY_CHECK), values.get(KEY_NEXT_CHECK)


def _fits(key: bytes | None, check: str) -> bool:
    return key is not None and ReplyCipher(key).matches(check)


def load_keys(settings: Settings, database: Database) -> Keys:
    """The keys that open every row, or one sentence saying what is wrong."""
    source = key_source(settings, database)
    with database.transaction() as session:
        check, next_check = read_checks(session)
    first = source.first(may_create=check is None)
    if check is None:
        # Processes starting together on a new database: the first check value stands,
        # and the others are compared with it.
        with database.transaction() as session:
            value = ReplyCipher(first).check_value()
            insert_unless_present(session, Meta, ("key",), key=KEY_CHECK, value=value)
            check, next_check = read_checks(session)
        assert check is not None
    second = None
    if next_check is not None or not _fits(first, check):
        second = source.second()
    if _fits(first, check):
        current, unfinished = first, False
    elif second is not None and _fits(second, check):
        current, unfinished = second, next_check is None
    else:
        raise ReplyKeyError(
            "The reply encryption key does not match the one existing replies were written "
            "with; set REPLY_ENCRYPTION_KEY (or restore the key file) to the original key."
        )
    pending = None
    if next_check is not None:
        if not _fits(second, next_check):
            raise ReplyKeyError(source.pending_missing)
        pending = second
    return Keys(current, pending, source, unfinished)
