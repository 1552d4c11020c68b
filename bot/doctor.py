"""`wholehearted doctor`: is this deployment able to run, one line per check.

It reads the settings the way the bot does, and then asks each thing the bot depends on
whether it answers: the database (and whether its schema is the one this version needs),
the reply key (does it open the check value stored with the replies), each platform
token, Telegram's view of the webhook, and the bot's own /healthz when metrics are on.
It migrates nothing and makes or moves no key file and no webhook. Tokens are
shown only masked, a database password never, and exceptions by their type only, since
their messages can quote a URL with the token in it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, TextIO

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import SecretStr
from sqlalchemy import Connection, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from bot.core.crypto import ReplyKeyError, decode_key
from bot.keys import KeyFile, load_keys, read_checks
from bot.keys import key_source as reply_key_source
from bot.settings import Settings, SettingsError, load_settings
from db.session import MIGRATIONS_DIR, Database, normalize_url, sqlite_path

OK, FAIL, SKIP = "ok", "FAIL", "skip"
TELEGRAM_API = "https://api.telegram.org/bot"
DISCORD_API = "https://discord.com/api/v10"
# Not the bot's own name (`bot.app.BOT_APPLICATION_NAME`): `wholehearted key rotate`
# refuses to start while a connection by that name is open.
APPLICATION_NAME = "wholehearted-doctor"
HTTP_SECONDS = 10.0
DATABASE_SECONDS = 5
# A webhook error Telegram reports from longer ago than this is history, not a problem.
RECENT_WEBHOOK_ERROR = 3600
UPGRADE = "run `wholehearted db upgrade` (the bot also does it when it starts)"


@dataclass(frozen=True)
class Check:
    status: str
    name: str
    detail: str

    @property
    def line(self) -> str:
        return f"{self.status}  {self.name}: {self.detail}"


def mask(secret: SecretStr) -> str:
    """Enough of a token to tell which one is set, never enough to use it."""
    value = secret.get_secret_value()
    return f"{value[:4]}…" if len(value) >= 16 else "…"


def run_doctor(out: TextIO = sys.stdout) -> int:
    """Print every check as it ends; 1 when any failed, else 0."""
    failed = False
    for check in examine():
        print(check.line, file=out, flush=True)
        failed = failed or check.status == FAIL
    return 1 if failed else 0


def examine() -> Iterator[Check]:
    try:
        settings = load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            yield Check(FAIL, "settings", problem)
        yield Check(SKIP, "everything else", "needs valid settings first")
        return
    yield Check(OK, "settings", f"valid ({_summary(settings)})")
    yield from _storage(settings)
    with httpx.Client(timeout=HTTP_SECONDS, follow_redirects=False) as client:
        if settings.telegram_bot_token is None and settings.discord_bot_token is None:
            yield Check(
                SKIP,
                "platforms",
                "no TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN is set, so `wholehearted run` "
                "opens the terminal chat",
            )
        if settings.telegram_bot_token is not None:
            yield from _telegram(settings, settings.telegram_bot_token, client)
        if settings.discord_bot_token is not None:
            yield _discord(settings, settings.discord_bot_token, client)
        if settings.metrics_port is not None:
            yield _health(settings, client)


def _summary(settings: Settings) -> str:
    url = normalize_url(settings.database_url)
    parts = ["PostgreSQL" if url.get_backend_name() == "postgresql" else "SQLite"]
    if settings.telegram_bot_token is not None:
        how = "webhook" if settings.telegram_webhook_url else "long polling"
        parts.append(f"Telegram by {how}")
    if settings.discord_bot_token is not None:
        parts.append("Discord")
    if settings.metrics_port is not None:
        parts.append(f"metrics on {settings.metrics_listen}:{settings.metrics_port}")
    return ", ".join(parts)


# --- the database and the reply key ------------------------------------------------------


def _storage(settings: Settings) -> Iterator[Check]:
    url = normalize_url(settings.database_url)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        yield Check(
            FAIL,
            "database",
            f"there is no SQLite database at {path} yet; `wholehearted db upgrade` "
            "(or the first `wholehearted run`) creates it",
        )
        yield _fresh_key(settings)
        return
    database = Database(_doctor_url(url))
    try:
        try:
            with database.engine.connect() as connection:
                kind = _server(connection)
                current = MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as exc:
            cause = type(getattr(exc, "orig", None) or exc).__name__
            yield Check(FAIL, "database", f"cannot open {shown} ({cause})")
            yield Check(SKIP, "reply key", "its check value is in the database")
            return
        yield _schema(kind, current)
        yield _reply_key(settings, database, has_schema=current is not None)
    finally:
        database.dispose()


def _doctor_url(url: URL) -> URL:
    if url.get_backend_name() != "postgresql":
        return url
    extra = {"application_name": APPLICATION_NAME, "connect_timeout": str(DATABASE_SECONDS)}
    return url.update_query_dict({k: v for k, v in extra.items() if k not in url.query})


def _server(connection: Connection) -> str:
    if connection.dialect.name == "postgresql":
        found = str(connection.execute(text("SHOW server_version")).scalar())
        return f"PostgreSQL {found.split('.')[0]}"
    return f"SQLite {connection.execute(text('SELECT sqlite_version()')).scalar()}"


def _schema(kind: str, current: str | None) -> Check:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    known = {revision.revision for revision in script.walk_revisions()}
    if current == head:
        return Check(OK, "database", f"{kind}, schema at {current}")
    if current is None:
        return Check(FAIL, "database", f"{kind}, but it holds no schema yet; {UPGRADE}")
    if current not in known:
        return Check(
            FAIL,
            "database",
            f"{kind}, schema at {current}, newer than this version of the bot knows "
            f"({head}); run the version that upgraded it",
        )
    return Check(
        FAIL, "database", f"{kind}, schema at {current} but this version needs {head}; {UPGRADE}"
    )


def _fresh_key(settings: Settings) -> Check:
    """The key for an SQLite database not made yet: a usable one, or one to be created."""
    if settings.reply_encryption_key is None:
        return Check(OK, "reply key", "none yet; the first start creates one beside the database")
    try:
        decode_key(settings.reply_encryption_key.get_secret_value())
    except ReplyKeyError as exc:
        return Check(FAIL, "reply key", str(exc))
    return Check(OK, "reply key", "REPLY_ENCRYPTION_KEY is a valid key; nothing is encrypted yet")


def _reply_key(settings: Settings, database: Database, *, has_schema: bool) -> Check:
    try:
        source = reply_key_source(settings, database)
        check = None
        if has_schema:
            with database.read() as session:
                check, _ = read_checks(session)
        where = "REPLY_ENCRYPTION_KEY"
        if isinstance(source, KeyFile):
            where = f"the key file {source.path} (owner-only)"
        if check is None:
            if isinstance(source, KeyFile) and not source.path.exists():
                return Check(OK, "reply key", f"none yet; the first start creates {source.path}")
            source.first(may_create=False)
            return Check(OK, "reply key", f"{where} is valid; nothing is encrypted yet")
        keys = load_keys(settings, database)  # reads only, once a check value is stored
    except ReplyKeyError as exc:
        return Check(FAIL, "reply key", str(exc))
    except SQLAlchemyError as exc:
        return Check(FAIL, "reply key", f"cannot read its check value ({type(exc).__name__})")
    if keys.unfinished:
        return Check(OK, "reply key", f"{where} opens the stored replies; {source.unfinished}")
    if keys.pending is not None:
        return Check(OK, "reply key", f"{where} and the new key open the stored replies")
    return Check(OK, "reply key", f"{where} opens the stored replies")


# --- the platforms -----------------------------------------------------------------------


def _telegram(settings: Settings, token: SecretStr, client: httpx.Client) -> Iterator[Check]:
    base = (settings.telegram_api_base_url or TELEGRAM_API).rstrip("/")
    name = "telegram token"
    try:
        answer = client.get(f"{base}{token.get_secret_value()}/getMe")
    except httpx.HTTPError as exc:
        yield Check(FAIL, name, f"cannot reach {_host(base)} ({type(exc).__name__})")
        return
    if answer.status_code in (401, 404):
        yield Check(
            FAIL,
            name,
            f"rejected by Telegram ({answer.status_code}); check it with @BotFather "
            f"(the token set starts {mask(token)})",
        )
        return
    me = _result(answer)
    if me is None:
        yield Check(FAIL, name, f"Telegram answered {answer.status_code}: {_reason(answer)}")
        return
    yield Check(OK, name, f"accepted as @{me.get('username')} ({mask(token)})")
    yield _webhook(settings, base, token, client)


def _webhook(settings: Settings, base: str, token: SecretStr, client: httpx.Client) -> Check:
    name = "telegram webhook"
    try:
        answer = client.get(f"{base}{token.get_secret_value()}/getWebhookInfo")
    except httpx.HTTPError as exc:
        return Check(FAIL, name, f"cannot reach {_host(base)} ({type(exc).__name__})")
    info = _result(answer)
    if info is None:
        return Check(FAIL, name, f"Telegram answered {answer.status_code}: {_reason(answer)}")
    theirs, wanted = str(info.get("url") or ""), settings.telegram_webhook_url or ""
    if not wanted:
        if theirs:
            return Check(
                FAIL,
                name,
                f"Telegram posts updates to {theirs}, but TELEGRAM_WEBHOOK_URL is not set; set "
                "it, or let `wholehearted run` remove that webhook when it starts polling",
            )
        return Check(OK, name, "none set; the bot polls for updates")
    if theirs != wanted:
        where = theirs or "no webhook at all"
        return Check(
            FAIL,
            name,
            f"Telegram knows {where}, not TELEGRAM_WEBHOOK_URL; `wholehearted run` sets it "
            "when it starts",
        )
    error, when = info.get("last_error_message"), info.get("last_error_date")
    waiting = info.get("pending_update_count", 0)
    if error and isinstance(when, int | float) and time.time() - when < RECENT_WEBHOOK_ERROR:
        ago = max(0, round(time.time() - when))
        return Check(
            FAIL,
            name,
            f"Telegram posts to {wanted}, but its last try {ago} s ago failed: {error} "
            f"({waiting} updates waiting)",
        )
    return Check(OK, name, f"Telegram posts to {wanted} ({waiting} updates waiting)")


def _discord(settings: Settings, token: SecretStr, client: httpx.Client) -> Check:
    base = (settings.discord_api_base_url or DISCORD_API).rstrip("/")
    name = "discord token"
    headers = {
        "Authorization": f"Bot {token.get_secret_value()}",
        "User-Agent": f"DiscordBot (wholehearted, {version('wholehearted')})",
    }
    try:
        answer = client.get(f"{base}/users/@me", headers=headers)
    except httpx.HTTPError as exc:
        return Check(FAIL, name, f"cannot reach {_host(base)} ({type(exc).__name__})")
    if answer.status_code == 401:
        return Check(
            FAIL,
            name,
            "rejected by Discord (401); copy it again from the Developer Portal (Bot → Reset "
            f"Token) (the token set starts {mask(token)})",
        )
    if answer.status_code != 200:
        return Check(FAIL, name, f"Discord answered {answer.status_code}: {_reason(answer)}")
    me = answer.json()
    return Check(OK, name, f"accepted as {me.get('username')} ({mask(token)})")


def _health(settings: Settings, client: httpx.Client) -> Check:
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.metrics_listen)
    host = host or settings.metrics_listen
    url = f"http://{f'[{host}]' if ':' in host else host}:{settings.metrics_port}/healthz"
    try:
        answer = client.get(url)
    except httpx.HTTPError:
        return Check(SKIP, "health", f"nothing answers at {url}; is the bot running here?")
    reason = answer.text.strip().splitlines()[0] if answer.text.strip() else "no reason given"
    return Check(OK if answer.status_code == 200 else FAIL, "health", f"{url}: {reason}")


def _result(answer: httpx.Response) -> dict[str, Any] | None:
    """The `result` of a Bot API answer that says ok, else None."""
    try:
        body = answer.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("ok") and isinstance(body.get("result"), dict):
        return body["result"]  # type: ignore[no-any-return]
    return None


def _reason(answer: httpx.Response) -> str:
    """What a platform said in an error, without echoing anything of ours."""
    try:
        body = answer.json()
    except ValueError:
        return answer.reason_phrase or "no explanation"
    if isinstance(body, dict):
        said = body.get("description") or body.get("message")
        if isinstance(said, str):
            return said[:200]
    return answer.reason_phrase or "no explanation"


def _host(base: str) -> str:
    return httpx.URL(base).host or base
