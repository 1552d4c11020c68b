"""`wholehearted run` with both tokens: Telegram and Discord in one process, no token logged."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fake_discord import FakeDiscord
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.test_telegram import serve_fake

ANA = 1001
DISCORD_ANA = 700021


async def test_both_platforms_run_in_one_process_and_tokens_stay_out_of_logs(
    tmp_path: Path,
) -> None:
    telegram = FakeTelegram()
    runner, telegram_url = await serve_fake(telegram)
    discord_fake = FakeDiscord()
    discord_fake.add_member(DISCORD_ANA, "Ana")
    await discord_fake.start()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram_url,
            "DISCORD_BOT_TOKEN": discord_fake.token,
            "DISCORD_API_BASE_URL": f"{discord_fake.url}/api/v10",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
            "LOG_LEVEL": "DEBUG",
            "LOG_PROTOCOL": "true",  # the libraries' records too, redacted (bot.logs)
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await telegram.wait_for(lambda: any(c.method == "getUpdates" for c in telegram.calls), 30)
        await discord_fake.wait_for(lambda: discord_fake.ready.is_set(), 30)
        await discord_fake.wait_for(lambda: bool(discord_fake.synced_commands), 30)
        telegram.message(ANA, "Ana", "/start")
        await telegram.wait_for(lambda: any("Shall we begin" in t for t in telegram.texts(ANA)), 30)
        used = await discord_fake.slash(DISCORD_ANA, "start")
        await discord_fake.wait_for(lambda: bool(discord_fake.responses(used)), 30)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
        await runner.cleanup()
        await discord_fake.stop()
    output = (stdout + stderr).decode()
    assert process.returncode == 0, output
    assert "getUpdates" in output, "debug logging was on"
    for secret in (TOKEN, TOKEN.split(":")[1], discord_fake.token):
        assert secret not in output
    assert "Traceback" not in output
