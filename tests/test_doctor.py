"""`wholehearted doctor`, run as an operator runs it, against the fake Telegram and Discord:
one line per check, exit code 1 on any failure, and never a secret in what it prints."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from pydantic import SecretStr

from bot.core.crypto import generate_key
from bot.keys import load_keys
from bot.settings import Settings
from db.session import MIGRATIONS_DIR, Database
from tests.fake_discord import FakeDiscord
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.telegram_world import serve_fake

WEBHOOK = "https://bot.example.org/telegram"


@dataclass
class Platforms:
    telegram: FakeTelegram
    discord: FakeDiscord
    env: dict[str, str]


@pytest.fixture
async def platforms() -> AsyncIterator[Platforms]:
    telegram = FakeTelegram()
    runner, telegram_url = await serve_fake(telegram)
    discord = FakeDiscord()
    await discord.start()
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram_url,
        "DISCORD_BOT_TOKEN": discord.token,
        "DISCORD_API_BASE_URL": f"{discord.url}/api/v10",
    }
    yield Platforms(telegram, discord, env)
    await discord.stop()
    await runner.cleanup()


async def doctor(folder: Path, **env: str) -> tuple[int, list[str]]:
    """`wholehearted doctor` in `folder` with these settings only; (exit code, its lines)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "DISCORD_", "DATABASE_", "REPLY_", "METRICS_"))
    }
    environment.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "doctor",
        cwd=folder,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode().splitlines()


def url_of(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def one(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


async def test_a_healthy_deployment_is_all_ok(
    database: Database, platforms: Platforms, tmp_path: Path
) -> None:
    key = generate_key()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url_of(database),
        reply_encryption_key=SecretStr(key),
    )
    load_keys(settings, database)  # what the first start does: the key's check value is stored
    code, lines = await doctor(
        tmp_path, DATABASE_URL=url_of(database), REPLY_ENCRYPTION_KEY=key, **platforms.env
    )
    assert code == 0, lines
    assert one(lines, "ok  settings:").startswith("ok  settings: valid (")
    kind = "PostgreSQL" if database.is_postgresql else "SQLite"
    assert one(lines, "ok  database:").startswith(f"ok  database: {kind} ")
    assert one(lines, "ok  database:").endswith("schema at 0008")
    assert one(lines, "ok  reply key:") == (
        "ok  reply key: REPLY_ENCRYPTION_KEY opens the stored replies"
    )
    assert one(lines, "ok  telegram token:").startswith(
        "ok  telegram token: accepted as @WholeheartedBot"
    )
    assert one(lines, "ok  telegram webhook:") == (
        "ok  telegram webhook: none set; the bot polls for updates"
    )
    assert one(lines, "ok  discord token:").startswith("ok  discord token: accepted as")
    output = "\n".join(lines)
    for secret in (key, TOKEN, TOKEN.split(":")[1], platforms.discord.token):
        assert secret not in output


async def test_a_token_the_platform_refuses_fails_without_showing_it(
    platforms: Platforms, tmp_path: Path
) -> None:
    wrong_telegram, wrong_discord = "424242:not-the-token-BotFather-gave", "Wrong.Discord.Token"
    env = {
        **platforms.env,
        "TELEGRAM_BOT_TOKEN": wrong_telegram,
        "DISCORD_BOT_TOKEN": wrong_discord,
    }
    code, lines = await doctor(tmp_path, **env)
    assert code == 1
    assert one(lines, "FAIL  telegram token:").startswith(
        "FAIL  telegram token: rejected by Telegram (401); check it with @BotFather"
    )
    assert one(lines, "FAIL  discord token:").startswith(
        "FAIL  discord token: rejected by Discord (401)"
    )
    assert not any("webhook" in line for line in lines)  # nothing to ask with a wrong token
    output = "\n".join(lines)
    assert wrong_telegram not in output and "not-the-token" not in output
    assert wrong_discord not in output


async def test_the_webhook_telegram_knows_and_its_last_error(
    platforms: Platforms, tmp_path: Path
) -> None:
    env = {**platforms.env, "TELEGRAM_WEBHOOK_URL": WEBHOOK}
    code, lines = await doctor(tmp_path, **env)
    assert code == 1
    assert one(lines, "FAIL  telegram webhook:") == (
        "FAIL  telegram webhook: Telegram knows no webhook at all, not TELEGRAM_WEBHOOK_URL; "
        "`wholehearted run` sets it when it starts"
    )

    platforms.telegram.webhook, platforms.telegram.webhook_active = {"url": WEBHOOK}, True
    platforms.telegram.webhook_last_error = (int(time.time()) - 30, "Connection refused")
    code, lines = await doctor(tmp_path, **env)
    assert code == 1
    webhook = one(lines, "FAIL  telegram webhook:")
    assert webhook.startswith(f"FAIL  telegram webhook: Telegram posts to {WEBHOOK}, but its last")
    assert "failed: Connection refused" in webhook


async def test_a_missing_key_file_fails_with_the_sentence_start_up_gives(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    settings = Settings(_env_file=None, database_url=f"sqlite:///{path}")  # type: ignore[call-arg]
    load_keys(settings, database)
    database.dispose()
    (path.parent / "reply-encryption.key").unlink()

    code, lines = await doctor(tmp_path, DATABASE_URL=f"sqlite:///{path}")
    assert code == 1
    assert one(lines, "ok  database:").endswith("schema at 0008")
    assert one(lines, "FAIL  reply key:") == (
        f"FAIL  reply key: The reply key file {path.parent / 'reply-encryption.key'} is "
        "missing, so existing replies cannot be read. Restore it, or set "
        "REPLY_ENCRYPTION_KEY to the key they were written with."
    )


async def test_an_old_schema_names_the_command_that_brings_it_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    database = Database(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    database.dispose()
    env = {"DATABASE_URL": f"sqlite:///{path}", "REPLY_ENCRYPTION_KEY": generate_key()}

    code, lines = await doctor(tmp_path, **env)
    assert code == 1
    assert one(lines, "FAIL  database:").endswith(
        "schema at 0004 but this version needs 0008; run `wholehearted db upgrade` "
        "(the bot also does it when it starts)"
    )

    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "upgrade", cwd=tmp_path, env={**os.environ, **env}
    )
    assert await asyncio.wait_for(upgrade.wait(), 60) == 0
    code, lines = await doctor(tmp_path, **env)
    assert code == 0, lines
    assert one(lines, "ok  database:").endswith("schema at 0008")


async def test_an_unreachable_database_fails_and_hides_its_password(tmp_path: Path) -> None:
    code, lines = await doctor(
        tmp_path,
        DATABASE_URL="postgresql://wholehearted:s3cret-pw@127.0.0.1:1/wholehearted",
        REPLY_ENCRYPTION_KEY=generate_key(),
    )
    assert code == 1
    assert lines[1] == (
        "FAIL  database: cannot open postgresql://wholehearted:***@127.0.0.1:1/wholehearted "
        "(OperationalError)"
    )
    assert lines[2] == "skip  reply key: its check value is in the database"
    assert "s3cret-pw" not in "\n".join(lines)


async def test_every_invalid_setting_is_listed_before_anything_else(tmp_path: Path) -> None:
    code, lines = await doctor(
        tmp_path, DATABASE_URL="mysql://bot:pw@db/wholehearted", TICK_SECONDS="often"
    )
    assert code == 1
    assert lines == [
        "FAIL  settings: The setting DATABASE_URL is not valid: the bot works with SQLite and "
        "PostgreSQL only (URLs starting sqlite:// or postgresql://), not mysql.",
        "FAIL  settings: The setting TICK_SECONDS is not valid: it must be a number "
        "(it is 'often').",
        "skip  everything else: needs valid settings first",
    ]
