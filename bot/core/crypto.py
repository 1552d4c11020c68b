"""Reply text is encrypted at rest with AES-256-GCM.

Each ciphertext is bound to its owner (the associated data), so a row copied onto another
person's account does not decrypt. The key lives outside the database: in
`REPLY_ENCRYPTION_KEY`, or in an owner-only key file beside the SQLite database.

A `ReplyCipher` holds one key, or two while the key is being rotated (`bot.rotation`): it
encrypts with the first and opens a ciphertext with whichever key fits, which GCM's tag
tells at the cost of one failed decryption.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_CHECK_PLAINTEXT = b"wholehearted reply key check"
KEY_FILE_NAME = "reply-encryption.key"
KEY_VARIABLE = "REPLY_ENCRYPTION_KEY"


class ReplyKeyError(Exception):
    """The reply key is missing, malformed or not the one existing data was written with."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def _decode(text: str) -> bytes | None:
    """The key in `text`, or None when it is not base64 at all; any length."""
    try:
        return base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def decode_key(text: str, variable: str = KEY_VARIABLE) -> bytes:
    """A key from an environment variable; errors name the variable."""
    key = _decode(text)
    if key is None:
        raise ReplyKeyError(
            f"{variable} is not valid base64; create one with `wholehearted key new`."
        )
    if len(key) != 32:
        raise ReplyKeyError(
            f"{variable} must decode to 32 bytes; create one with `wholehearted key new`."
        )
    return key


def read_key_file(path: Path) -> bytes:
    """A key from a key file that exists; every problem is one sentence naming the file."""
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError
            data = handle.read(4096)
    except IsADirectoryError:
        raise ReplyKeyError(
            f"The reply key path {path} is a folder, not a key file; move it away and "
            "restore the key file there."
        ) from None
    except PermissionError:
        raise ReplyKeyError(
            f"Cannot read the reply key file {path} (permission denied); run the bot as "
            "the user who owns it."
        ) from None
    except OSError as exc:
        raise ReplyKeyError(f"Cannot read the reply key file {path} ({exc.strerror}).") from None
    if mode & 0o077:
        raise ReplyKeyError(
            f"The reply key file {path} can be read or changed by other users; run "
            f"`chmod 600 {path}` and start again."
        )
    if not data.strip():
        raise ReplyKeyError(
            f"The reply key file {path} is empty; restore the key from your copy (or delete "
            "the file if this database holds no replies yet)."
        )
    try:
        key = _decode(data.decode("ascii"))
    except UnicodeDecodeError:
        key = None
    if key is None:
        raise ReplyKeyError(
            f"The reply key file {path} does not hold a base64 key; restore it from your copy."
        )
    if len(key) != 32:
        raise ReplyKeyError(
            f"The reply key file {path} must hold a 32-byte key in base64 (it holds "
            f"{len(key)} bytes); restore it from your copy."
        )
    return key


def write_key_file(path: Path, key_text: str) -> None:
    """Write a key file owner-only and durably (it replaces one already there atomically):
    the key must outlive a crash before anything is encrypted with it."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key_text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename or a new file in `folder` survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def load_or_create_key_file(path: Path, *, may_create: bool) -> bytes:
    """Read the key file, creating it with owner-only permissions when allowed."""
    if os.path.lexists(path):
        return read_key_file(path)
    if not may_create:
        raise ReplyKeyError(
            f"The reply key file {path} is missing, so existing replies cannot be read. "
            "Restore it, or set REPLY_ENCRYPTION_KEY to the key they were written with."
        )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_text = generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key_text + "\n")
    return decode_key(key_text)


def owner_tag(person_id: int) -> str:
    """The associated data that binds a ciphertext to the person it belongs to."""
    return f"person:{person_id}"


class ReplyCipher:
    """Encrypts with `key`; decrypts with `key` or any of `older`."""

    def __init__(self, key: bytes, *older: bytes) -> None:
        self._aeads = [AESGCM(k) for k in (key, *older)]

    def encrypt(self, plaintext: str, *, owner: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aeads[0].encrypt(nonce, plaintext.encode("utf-8"), owner.encode())

    def decrypt(self, blob: bytes, *, owner: str) -> str:
        nonce, body = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        for aead in self._aeads[:-1]:
            try:
                return aead.decrypt(nonce, body, owner.encode()).decode("utf-8")
            except InvalidTag:
                continue
        return self._aeads[-1].decrypt(nonce, body, owner.encode()).decode("utf-8")

    def opens(self, blob: bytes, *, owner: str) -> bool:
        try:
            self.decrypt(blob, owner=owner)
        except (InvalidTag, ValueError):
            return False
        return True

    def check_value(self) -> str:
        """A value stored once in the database, so a wrong key is caught at start-up."""
        return base64.b64encode(self.encrypt(_CHECK_PLAINTEXT.decode(), owner="check")).decode()

    def matches(self, check_value: str) -> bool:
        try:
            blob = base64.b64decode(check_value)
            return self.decrypt(blob, owner="check").encode() == _CHECK_PLAINTEXT
        except (InvalidTag, ValueError, binascii.Error):
            return False
