"""Nothing private reaches the log: a whole scenario on the real python-telegram-bot and the
real discord.py, logging set up as `wholehearted run` sets it up at LOG_LEVEL=DEBUG, with
LOG_PROTOCOL off and on. Every record from every logger is captured and scanned for the
reply, the invite code, the tokens, the webhook secret and the reply key."""

from __future__ import annotations

import io
import logging
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import aiohttp
import discord
import pytest

from bot.adapters.discord import DiscordAdapter
from bot.adapters.telegram import TelegramAdapter
from bot.cli import _secrets
from bot.core.clock import ManualClock
from bot.core.crypto import ReplyCipher, decode_key, generate_key
from bot.core.ports import Switchboard
from bot.core.service import Core
from bot.core.ticker import Ticker
from bot.logs import LIBRARIES, OWN, configure_logging, describe, is_own
from bot.settings import Settings
from tests import discord_world, telegram_world
from tests.fake_discord import FakeDiscord
from tests.fake_telegram import TOKEN, FakeTelegram

SENTENCE = "Quokkas hum marmalade lullabies beneath violet lighthouses"
WEBHOOK_SECRET = "whsec-Zq8vN3kLp0-tangerine"
WRONG_SECRET = "not-the-secret-Jx4u"
REPLY_KEY = generate_key()
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@pytest.fixture
def cipher() -> ReplyCipher:
    return ReplyCipher(decode_key(REPLY_KEY))


@pytest.fixture(params=[False, True], ids=["protocol-off", "protocol-on"])
def protocol(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


# --- capturing everything ---------------------------------------------------------------------


class Everything(logging.Handler):
    """Every record from every logger, formatted as the log line it becomes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT))
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


@dataclass
class Logged:
    everything: Everything
    written: io.StringIO  # what `wholehearted run`'s own handler wrote
    forbidden: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [*self.everything.lines, *self.written.getvalue().splitlines()]


@contextmanager
def logging_like_run(settings: Settings) -> Iterator[Logged]:
    """`configure_logging` as `wholehearted run` calls it, its output kept in memory, plus a
    DEBUG handler on the root logger; everything is put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in (*OWN, *LIBRARIES)}
    factory = logging.getLogRecordFactory()
    configure_logging(settings.log_level, _secrets(settings), protocol=settings.log_protocol)
    (run_handler,) = root.handlers
    written = io.StringIO()
    assert isinstance(run_handler, logging.StreamHandler)
    run_handler.setStream(written)
    everything = Everything()
    root.addHandler(everything)
    for handler in handlers:  # pytest's own, which configure_logging replaced
        root.addHandler(handler)
    try:
        yield Logged(everything, written)
    finally:
        root.removeHandler(run_handler)
        root.removeHandler(everything)
        root.setLevel(level)
        for name, was in levels.items():
            logging.getLogger(name).setLevel(was)
        logging.setLogRecordFactory(factory)


def run_settings(protocol: bool, **extra: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        reply_encryption_key=REPLY_KEY,
        telegram_webhook_secret=WEBHOOK_SECRET,
        log_level="DEBUG",
        log_protocol=protocol,
        **extra,
    )


def word_runs(sentence: str) -> list[str]:
    """The sentence, each run of two or more of its words, and each of its longer words."""
    words = sentence.split()
    runs = [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, len(words) + 1)]
    return runs + [w for w in words if len(w) >= 6]


def check(logged: Logged, core: Core, platform: str, protocol: bool, code: str) -> None:
    assert re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{3}", code), code
    forbidden = [
        *word_runs(SENTENCE),
        code,
        code.replace("-", ""),
        REPLY_KEY,
        WEBHOOK_SECRET,
        WRONG_SECRET,
        *logged.forbidden,
    ]
    lines = logged.lines()
    for line in lines:
        lowered = line.lower()
        for secret in forbidden:
            assert secret.lower() not in lowered, f"{secret!r} was logged: {line[:300]!r}"

    records = logged.everything.records
    libraries = [r for r in records if not is_own(r.name)]
    quiet = [r for r in libraries if r.levelno < logging.WARNING]
    own_debug = [r for r in records if is_own(r.name) and r.levelno <= logging.INFO]
    assert own_debug, "the bot's own records below WARNING are captured at LOG_LEVEL=DEBUG"
    written = logged.written.getvalue()
    if protocol:
        # the library's own DEBUG records were there to scan: the switch works
        assert any(r.levelno == logging.DEBUG and r.name.startswith(platform) for r in quiet)
        assert f" DEBUG {platform}." in written or f" DEBUG {platform}:" in written
        assert "[dict, " in written  # payloads are there, as their type and size
    else:
        assert quiet == [], sorted({r.name for r in quiet})
        assert not any(
            f" {level} " in line and not any(f" {own}." in line for own in OWN)
            for line in written.splitlines()
            for level in ("DEBUG", "INFO")
        )
    physical = sum(line.count("\n") + 1 for line in lines)
    print(
        f"\n[log scan] {platform} on {core.db.engine.dialect.name}, "
        f"LOG_PROTOCOL={str(protocol).lower()}: {physical} lines "
        f"scanned: {len(records)} records from the root handler ({len(libraries)} from "
        f"libraries, {len(quiet)} of those below WARNING) and {len(written.splitlines())} "
        "lines written by the run's handler"
    )


# --- the redaction rules, one record at a time ------------------------------------------------


def test_a_library_record_keeps_its_event_and_loses_its_values() -> None:
    settings = run_settings(False, telegram_bot_token=TOKEN)
    with logging_like_run(settings) as logged:
        library = logging.getLogger("telegram._bot")
        library.warning(
            "Calling Bot API endpoint `%s` with parameters `%s`",
            "sendMessage",
            {"chat_id": 1, "text": SENTENCE},
        )
        library.warning("Getting updates: %s", [7, 8])
        library.warning("Network Retry Loop (%s): %s", SENTENCE, TOKEN)
        logging.getLogger("telegram.ext.Updater").warning(
            "a %(words)s b %(n)d", {"words": SENTENCE, "n": 4}
        )
        built = f"send_request_body.started request={SENTENCE!r}"  # put together at run time
        logging.getLogger("httpcore.http11").warning(built)
        logging.getLogger("somelib").warning("Said: " + SENTENCE)
        try:
            raise ValueError(f"bad value {SENTENCE} at https://x/bot{TOKEN}/getMe")
        except ValueError as caught:
            error = caught
            logging.getLogger("discord.client").exception("Ignoring exception in %s", "on_ready")
            logging.getLogger("bot.adapters").exception("own words survive, %s does not", TOKEN)
    lines = logged.everything.lines
    assert lines[0].endswith(
        "telegram._bot: Calling Bot API endpoint `sendMessage` with parameters `[dict, 2 keys]`"
    )
    assert lines[1].endswith("Getting updates: [7, 8]")
    assert lines[2].endswith(f"Network Retry Loop ({describe(SENTENCE)}): {describe(TOKEN)}")
    assert lines[3].endswith(f"a {describe(SENTENCE)} b 4")
    assert lines[4].endswith(f"httpcore.http11: {describe(built)}")
    assert lines[5].endswith(f"somelib: {describe('Said: ' + SENTENCE)}")
    assert "discord.client: Ignoring exception in [str, 8 chars]\nTraceback" in lines[6]
    assert lines[6].endswith(f"builtins.ValueError: [message not logged, {len(str(error))} chars]")
    assert "ValueError: bad value " + SENTENCE in lines[7] and TOKEN not in lines[7]
    assert "own words survive, [redacted] does not" in lines[7]
    assert SENTENCE not in "\n".join(lines[:7]) and TOKEN not in "\n".join(lines)
    assert logged.written.getvalue().count(" WARNING ") == 6


def test_library_debug_is_held_unless_protocol_debugging(protocol: bool) -> None:
    with logging_like_run(run_settings(protocol)) as logged:
        logging.getLogger("discord.gateway").debug("WebSocket Event: %s", {"d": SENTENCE})
        logging.getLogger("bot.core").debug("own debug line")
    names = [r.name for r in logged.everything.records]
    assert names == (["discord.gateway", "bot.core"] if protocol else ["bot.core"])
    assert SENTENCE not in logged.written.getvalue()


# --- Telegram -----------------------------------------------------------------------------


@asynccontextmanager
async def telegram(core: Core, clock: ManualClock) -> AsyncIterator[telegram_world.World]:
    fake = FakeTelegram()
    runner, base_url = await telegram_world.serve_fake(fake)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=TOKEN, telegram_api_base_url=base_url
    )
    switchboard = Switchboard()
    adapter = TelegramAdapter(settings, core, switchboard)
    await adapter.start()
    await adapter.lead()
    try:
        yield telegram_world.World(fake, core, clock, Ticker(core, switchboard), adapter)
    finally:
        await adapter.stop()
        await runner.cleanup()


async def telegram_by_webhook(core: Core) -> None:
    """The webhook set with its secret, a caller with the wrong secret refused, and the
    reply sentence arriving by webhook."""
    fake = FakeTelegram()
    runner, base_url = await telegram_world.serve_fake(fake)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=base_url,
        telegram_webhook_url="https://bot.example.org/telegram",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
        telegram_webhook_secret=WEBHOOK_SECRET,
    )
    adapter = TelegramAdapter(settings, core, Switchboard())
    await adapter.start()
    try:
        assert fake.webhook["secret_token"] == WEBHOOK_SECRET
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as http:
            for secret, status in ((WRONG_SECRET, 403), (WEBHOOK_SECRET, 200)):
                update = fake.build_message(telegram_world.ANA, "Ana", SENTENCE)
                answer = await http.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
                )
                assert answer.status == status
        ana = telegram_world.ANA
        saved = "Saved privately"
        await fake.wait_for(lambda: any(saved in t for t in fake.texts(ana)))
        await adapter.application.update_queue.join()
    finally:
        await adapter.stop()
        await runner.cleanup()


async def test_telegram_logs_nothing_private(
    core: Core, clock: ManualClock, protocol: bool
) -> None:
    ana, ben = telegram_world.ANA, telegram_world.BEN
    with logging_like_run(run_settings(protocol, telegram_bot_token=TOKEN)) as logged:
        async with telegram(core, clock) as world:
            await world.onboard(ben, "Ben")
            await world.onboard(ana, "Ana")
            await world.say(ana, "Ana", "/today", expect="Today's practice")
            await world.say(ana, "Ana", SENTENCE, expect="Saved privately")
            invite = await world.say(ana, "Ana", "/pair", expect="invite code")
            found = re.search(r"code is ([A-Z0-9]{3}-[A-Z0-9]{3})\.", invite)
            assert found is not None
            code = found.group(1)
            await world.say(ben, "Ben", f"/join {code}", expect="paired")
            await world.say(ana, "Ana", "/share 1", expect="Shared reply #1")
            await world.fake.wait_for(lambda: SENTENCE in world.last_text(ben))
            await world.say(ana, "Ana", "/export", expect="Everything the bot holds")
            assert SENTENCE.encode() in world.fake.sent(ana)[-1]["document"]["data"]
        await telegram_by_webhook(core)
        logged.forbidden.append(TOKEN)
    assert world.replies_of(ana)[:1] == [SENTENCE]
    check(logged, core, "telegram", protocol, code)


# --- Discord ------------------------------------------------------------------------------


@asynccontextmanager
async def discord_running(
    core: Core, clock: ManualClock, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[discord_world.World]:
    for user, name in ((discord_world.ANA, "Ana"), (discord_world.BEN, "Ben")):
        fake.add_member(user, name)
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        discord_bot_token=fake.token,
        discord_api_base_url=f"{fake.url}/api/v10",
    )
    switchboard = Switchboard()
    adapter = DiscordAdapter(settings, core, switchboard, guild_ready_timeout=0.05)
    await adapter.start()
    await adapter.lead()
    try:
        yield discord_world.World(
            fake, core, clock, Ticker(core, switchboard), adapter, switchboard
        )
    finally:
        await adapter.stop()
        await fake.stop()
    assert fake.errors == [] and fake.unknown_routes == [], (fake.errors, fake.unknown_routes)


async def test_discord_logs_nothing_private(
    core: Core, clock: ManualClock, protocol: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, ben = discord_world.ANA, discord_world.BEN
    fake = FakeDiscord()
    text_of = discord_world.text_of
    with logging_like_run(run_settings(protocol, discord_bot_token=fake.token)) as logged:
        async with discord_running(core, clock, fake, monkeypatch) as world:
            await world.onboard(ana)
            await world.onboard(ben)
            invite = text_of(await world.slash(ana, "pair")).replace("\\", "")
            found = re.search(r"code is ([A-Z0-9]{3}-[A-Z0-9]{3})\.", invite)
            assert found is not None
            code = found.group(1)
            joined = await world.slash(ben, "join", {"code": code})
            assert "paired with Ana" in text_of(joined)
            await world.slash(ana, "today")
            await fake.dm(ana, SENTENCE)
            await fake.wait_for(
                lambda: any("Saved privately" in m["content"] for m in fake.dms(ana))
            )
            shared = await world.slash(ana, "share")
            assert "Shared reply #1 with Ben" in text_of(shared)
            await fake.wait_for(lambda: any(SENTENCE in m["content"] for m in fake.dms(ben)))
            exported = await fake.slash(ana, "export")
            await world.answer_with(exported, "Everything the bot holds")
        logged.forbidden += [fake.token, *fake._by_token]  # interaction tokens too
    check(logged, core, "discord", protocol, code)
