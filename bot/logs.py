"""Logging that cannot leak: no secret, and nothing a library was handed, reaches a log.

Two kinds of records reach the log:

* the bot's own (loggers under `bot` and `db`), written to name events, ids and counts and
  never what anyone wrote; their text is kept, with each secret (bot tokens, the webhook
  secret, the reply key) masked;
* everybody else's: python-telegram-bot, httpx, discord.py, aiohttp, SQLAlchemy, asyncio and
  any other library. At DEBUG they log whole updates, gateway events, request bodies and
  SQL parameters: what people wrote, invite codes, tokens. Of their records only the event
  is kept: the message when it is a string written in the library's code where it logged
  it (text put together at run time is only described), with every argument replaced by
  its type and size (`[dict, 12 keys]`, `[str, 241 chars]`) except numbers, times, enum
  members and the few names in SAFE_ARGUMENTS. An exception keeps its type and where it
  happened, not its message; data passed with `extra=` is described too.

The redaction happens where each record is made (a log record factory), so every handler
anyone adds, pytest's capture included, sees only redacted records; the handler that
`configure_logging` installs runs the same rules again for records made some other way.

Library records below WARNING are not even made unless LOG_PROTOCOL is on, whatever
LOG_LEVEL says; with it on they follow LOG_LEVEL, redacted all the same.
"""

from __future__ import annotations

import ast
import datetime as dt
import enum
import functools
import logging
import re
import tokenize
import traceback
from collections.abc import Callable, Iterable, Mapping, Sized
from typing import Any

# The bot's own loggers; every other logger counts as a library's.
OWN = ("bot", "db")
# The libraries' top loggers, held at WARNING unless LOG_PROTOCOL is on (the root logger is
# held too, which covers the libraries not named here).
LIBRARIES = (
    "telegram",
    "httpx",
    "httpcore",
    "hpack",
    "h11",
    "tornado",
    "discord",
    "aiohttp",
    "websockets",
    "apscheduler",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "asyncio",
)
# The arguments shown as they are in some library events: each is filled by the library
# with the name of an API method or an HTTP verb, never with anything it was handed, and it
# is shown only when it looks like one (SAFE_NAME).
SAFE_ARGUMENTS: dict[str, tuple[int, ...]] = {
    # python-telegram-bot (telegram._bot): the Bot API endpoint, e.g. `sendMessage`
    "Calling Bot API endpoint `%s` with parameters `%s`": (0,),
    "Call to Bot API endpoint `%s` finished with return value `%s`": (0,),
    # discord.py (discord.http): the HTTP method
    "%s %s with %s has returned %s": (0,),
    "%s %s has received %s": (0,),
    # httpx: the HTTP method
    'HTTP Request: %s %s "%s %d %s"': (0,),
}
SAFE_NAME = re.compile(r"[A-Za-z]{1,40}")
MASK = "[redacted]"
_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[a-zA-Z%])"
)
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_DONE = "_wholehearted_redacted"
_EXTRAS_DONE = "_wholehearted_extras_redacted"


def is_own(name: str) -> bool:
    return name.split(".", 1)[0] in OWN


def describe(value: object) -> str:
    """A value's type and size, never the value: `[str, 241 chars]`, `[dict, 12 keys]`."""
    kind = type(value).__name__
    if isinstance(value, BaseException):
        return f"[{kind}]"
    if isinstance(value, str):
        return f"[str, {_count(len(value), 'char')}]"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"[{kind}, {_count(len(value), 'byte')}]"
    if isinstance(value, Mapping):
        return f"[{kind}, {_count(len(value), 'key')}]"
    if isinstance(value, Sized) and not isinstance(value, type):
        try:
            return f"[{kind}, {_count(len(value), 'item')}]"
        except Exception:  # a __len__ that fails: the type is enough
            return f"[{kind}]"
    return f"[{kind}]"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _shown_as_is(value: object) -> bool:
    """Numbers, times, flags and enum members: counts, ids (of updates, chats, shards),
    status codes, delays and states. None of them can hold what someone wrote."""
    if type(value) in (int, float, bool, type(None), dt.datetime, dt.date, dt.timedelta):
        return True
    if isinstance(value, enum.Enum):
        return True
    if isinstance(value, list | tuple) and type(value) in (list, tuple):  # update ids
        return len(value) <= 100 and all(type(item) is int for item in value)
    return False


def _argument(spec: str, value: object, safe: bool) -> str:
    if safe or _shown_as_is(value):
        try:
            return spec % (value,)
        except (TypeError, ValueError):
            pass
    return describe(value)


def _redacted_message(msg: object, args: object, path: str) -> str:
    """The library's format string with each argument described, the allowed ones shown;
    a message not written as such in the library's code is only described."""
    if not isinstance(msg, str) or not _written_in_code(msg, path):
        return describe(msg)
    if not args:
        return msg
    if isinstance(args, Mapping) and "%(" in msg:
        mapping: Mapping[Any, Any] = args
        positional: tuple[Any, ...] = ()
    else:
        mapping, positional = {}, args if isinstance(args, tuple) else (args,)
    safe = SAFE_ARGUMENTS.get(msg, ())
    parts: list[str] = []
    at = index = 0
    for match in _SPEC.finditer(msg):
        parts.append(msg[at : match.start()])
        at = match.end()
        spec, key = match.group(0), match.group("key")
        if match.group("conv") == "%":
            parts.append("%")
            continue
        if "*" in spec:
            return f"{_SPEC.sub('%s', msg)} [{len(positional) or len(mapping)} arguments]"
        if key is not None:
            if key not in mapping:
                parts.append(spec)
                continue
            parts.append(_argument(spec.replace(f"({key})", "", 1), mapping[key], False))
            continue
        if index >= len(positional):
            parts.append(spec)
            continue
        value = positional[index]
        ok = index in safe and isinstance(value, str) and SAFE_NAME.fullmatch(value) is not None
        parts.append(_argument(spec, value, ok))
        index += 1
    parts.append(msg[at:])
    if index < len(positional):
        parts.append(f" [{len(positional) - index} more arguments]")
    return "".join(parts)


@functools.lru_cache(maxsize=512)
def _constants(path: str) -> frozenset[str]:
    """Every string constant written in a source file (f-strings' pieces not included)."""
    try:
        with tokenize.open(path) as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, ValueError):
        return frozenset()
    pieces = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in ast.walk(node)
    }
    return frozenset(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in pieces
    )


def _written_in_code(msg: str, path: str) -> bool:
    """Whether a library's message is a constant of the file that logged it: an event
    written by its authors, not text put together at run time (which may quote data)."""
    return msg in _constants(path)


def _exception_without_messages(error: BaseException) -> str:
    """Each exception of the chain as its type and where it happened, no message."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        kind = type(current)
        name = f"{kind.__module__}.{kind.__qualname__}"
        size = _message_size(current)
        shown = f"{name}: [message not logged, {size} chars]" if size else name
        parts.append(f"Traceback (most recent call last):\n{frames}{shown}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n\nThe above exception led to the following one:\n\n".join(reversed(parts))


def _message_size(error: BaseException) -> int:
    try:
        return len(str(error))
    except Exception:  # a __str__ that fails: no message to count
        return 0


class Redactor(logging.Filter):
    """The one set of rules, applied to each record once (see the module docstring).

    As a handler's filter it also drops library records below WARNING unless `protocol`,
    in case a library set a lower level on a logger of its own.
    """

    def __init__(self, secrets: Iterable[str] = (), *, protocol: bool = False) -> None:
        super().__init__()
        self.secrets: list[str] = []
        self.protocol = protocol
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        # A new list, swapped in whole: other threads may be logging. The longest first, as
        # a longer secret may contain a shorter one.
        known = {*self.secrets, *(s for s in secrets if s)}
        self.secrets = sorted(known, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not is_own(record.name):
            if not self.protocol and record.levelno < logging.WARNING:
                return False
            if not getattr(record, _EXTRAS_DONE, False):  # data passed as `extra=`
                for name in set(record.__dict__) - _STANDARD_ATTRIBUTES - {_DONE}:
                    setattr(record, name, describe(record.__dict__[name]))
                setattr(record, _EXTRAS_DONE, True)
        self.redact(record)
        return True

    def redact(self, record: logging.LogRecord) -> None:
        if getattr(record, _DONE, False):
            return
        try:
            if is_own(record.name):
                message = record.getMessage()
                exception = self._own_exception(record)
            else:
                message = _redacted_message(record.msg, record.args, record.pathname)
                exception = self._library_exception(record)
        except Exception as error:  # never let a log line fail the caller, or leak
            message = f"[a {record.name} record could not be redacted: {type(error).__name__}]"
            exception = None
        record.msg, record.args = self.mask(message), None
        record.exc_info = None
        record.exc_text = self.mask(exception) if exception else None
        setattr(record, _DONE, True)

    @staticmethod
    def _own_exception(record: logging.LogRecord) -> str | None:
        if record.exc_info and record.exc_info[1] is not None:
            return logging.Formatter().formatException(record.exc_info)
        return record.exc_text

    @staticmethod
    def _library_exception(record: logging.LogRecord) -> str | None:
        info = record.exc_info
        if isinstance(info, tuple) and len(info) == 3 and isinstance(info[1], BaseException):
            return _exception_without_messages(info[1])
        if isinstance(info, BaseException):
            return _exception_without_messages(info)
        if record.exc_text:
            return "[exception text not logged]"
        return None


_redactor = Redactor()


class _RedactingFactory:
    """The log record factory: the factory it wraps makes the record, then it is redacted."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord]) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.wrapped(*args, **kwargs)
        _redactor.redact(record)
        return record


def protect_records(secrets: Iterable[str] = ()) -> Redactor:
    """Redact every log record from now on, in this whole process (idempotent); `secrets`
    are added to those masked. The adapters call it, so their libraries' records are
    redacted however logging is set up (pytest's capture, an embedding program)."""
    _redactor.add_secrets(secrets)
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(current))
    return _redactor


def configure_logging(level: str, secrets: Iterable[str], *, protocol: bool = False) -> None:
    """What `wholehearted run` logs: the bot's records from LOG_LEVEL up, the libraries'
    from WARNING up, or from LOG_LEVEL up with `protocol` (LOG_PROTOCOL); all redacted."""
    redactor = protect_records(secrets)
    redactor.protocol = protocol
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    number = logging.getLevelName(level)
    libraries = number if protocol else max(logging.WARNING, number)
    root.setLevel(libraries)
    for name in OWN:
        logging.getLogger(name).setLevel(number)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(libraries)
