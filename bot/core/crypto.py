"""Reply text is encrypted at rest with AES-256-GCM.

Each ciphertext is bound to its owner (the associated data), so a row copied onto another
person's account does not decrypt. The key lives outside the database: in
`REPLY_ENCRYPTION_KEY`, or in an owner-only key file beside the SQLite database.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_CHECK_PLAINTEXT = b"wholehearted reply key check"
KEY_FILE_NAME = "reply-encryption.key"


class ReplyKeyError(Exception):
    """The reply key is missing, malformed or not the one existing data was written with."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ReplyKeyError(
            "REPLY_ENCRYPTION_KEY is not valid base64; create one with `wholehearted key new`."
        ) from None
    if len(key) != 32:
        raise ReplyKeyError(
            "REPLY_ENCRYPTION_KEY must decode to 32 bytes; create one with `wholehearted key new`."
        )
    return key


def load_or_create_key_file(path: Path, *, may_create: bool) -> bytes:
    """Read the key file, creating it with owner-only permissions when allowed."""
    if path.exists():
        return decode_key(path.read_text(encoding="ascii"))
    if not may_create:
        raise ReplyKeyError(
            f"The reply key file {path} is missing, so existing replies cannot be read. "
            "Restore it, or set REPLY_ENCRYPTION_KEY to the key they were written with."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key_text = generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key_text + "\n")
    return decode_key(key_text)


def owner_tag(person_id: int) -> str:
    """The associated data that binds a ciphertext to the person it belongs to."""
    return f"person:{person_id}"


class ReplyCipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, *, owner: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), owner.encode())

    def decrypt(self, blob: bytes, *, owner: str) -> str:
        nonce, body = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        return self._aead.decrypt(nonce, body, owner.encode()).decode("utf-8")

    def check_value(self) -> str:
        """A value stored once in the database, so a wrong key is caught at start-up."""
        return base64.b64encode(self.encrypt(_CHECK_PLAINTEXT.decode(), owner="check")).decode()

    def matches(self, check_value: str) -> bool:
        try:
            blob = base64.b64decode(check_value)
            return self.decrypt(blob, owner="check").encode() == _CHECK_PLAINTEXT
        except (InvalidTag, ValueError, binascii.Error):
            return False
