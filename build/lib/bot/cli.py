"""The `wholehearted` command: run the bot, try it in the terminal, migrate, check content."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.app import StartupError, build_core, open_database
from bot.core.catalog import CatalogError, Depth, Theme, load_catalog
from bot.core.clock import ShiftedClock
from bot.core.crypto import generate_key
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wholehearted",
        description="One small intimacy practice a day, on Telegram, Discord or the terminal.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", help="start the bot (the terminal chat when no platform token is set)"
    )
    commands.add_parser("try", help="chat with the bot in this terminal, no tokens needed")
    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="TASK")
    db_commands.add_parser("upgrade", help="apply database migrations")
    content = commands.add_parser("content", help="practice library tasks")
    content_commands = content.add_subparsers(dest="content_command", required=True, metavar="TASK")
    content_commands.add_parser("check", help="validate every practice and program")
    key = commands.add_parser("key", help="reply encryption key tasks")
    key_commands = key.add_subparsers(dest="key_command", required=True, metavar="TASK")
    key_commands.add_parser("new", help="print a new REPLY_ENCRYPTION_KEY")
    return parser


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.telegram_bot_token,
        settings.discord_bot_token,
        settings.reply_encryption_key,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def _terminal(settings: Settings, reason: str) -> int:
    from bot.adapters.terminal import run_terminal

    clock = ShiftedClock()
    core = build_core(settings, clock=clock)
    print(
        f"{reason}: opening the terminal chat on {core.db.url.render_as_string()}.", file=sys.stderr
    )
    try:
        asyncio.run(run_terminal(core, clock, settings.tick_seconds))
    except KeyboardInterrupt:
        print(file=sys.stderr)
    finally:
        core.db.dispose()
    return 0


def _run(settings: Settings) -> int:
    if settings.telegram_bot_token is None and settings.discord_bot_token is None:
        return _terminal(settings, "No TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN is set")
    print(
        "The Telegram and Discord adapters are not in this version yet; unset the tokens "
        "to use the terminal chat.",
        file=sys.stderr,
    )
    return 2


def _content_check() -> int:
    try:
        catalog = load_catalog()
    except CatalogError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"content check failed: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    practices = catalog.practices.values()
    per_theme = ", ".join(
        f"{theme.value} {sum(1 for p in practices if p.theme is theme)}" for theme in Theme
    )
    per_depth = ", ".join(
        f"{depth.value} {sum(1 for p in practices if p.depth is depth)}" for depth in Depth
    )
    print(
        f"content ok: {len(catalog.practices)} practices ({per_theme}; {per_depth}), "
        f"{len(catalog.programs)} programs"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "key":
        print(generate_key())
        return 0
    if args.command == "content":
        return _content_check()
    try:
        settings = load_settings()
        configure_logging(settings.log_level, _secrets(settings))
        if args.command == "db":
            open_database(settings).dispose()
            print("The database is up to date.")
            return 0
        if args.command == "try":
            return _terminal(settings, "Terminal chat")
        return _run(settings)
    except (SettingsError, StartupError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except CatalogError as exc:
        print("The practice library has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
