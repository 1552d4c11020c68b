"""The `wholehearted` command: run the bot, try it in the terminal, migrate, check content."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import ClientError
from discord import GatewayNotFound, LoginFailure
from telegram.error import InvalidToken, NetworkError

from bot.app import StartupError, build_core, open_database
from bot.content_tools import FINGERPRINTS, check_content, export_json, fingerprint_seeds
from bot.core.catalog import CatalogError, default_content_dir, load_catalog
from bot.core.clock import ShiftedClock
from bot.core.crypto import generate_key
from bot.leadership import OneProcessOnly
from bot.logs import configure_logging
from bot.rotation import rotate
from bot.settings import Settings, SettingsError, load_settings
from db.maintenance import vacuum


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
    commands.add_parser(
        "doctor",
        help="check the settings, database, reply key, tokens and webhook, one line each",
        description="Check this deployment without changing it: every setting, the database "
        "and its schema, the reply key, each platform token, the Telegram webhook and, with "
        "METRICS_PORT, the running bot's /healthz. One line per check; the exit code is 1 "
        "when any check fails.",
    )
    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="TASK")
    db_commands.add_parser("upgrade", help="apply database migrations")
    db_commands.add_parser(
        "vacuum",
        help="clear deleted rows (after /forget or /delete) out of the database files",
        description="Clear deleted rows out of the database files. On SQLite (where deleted "
        "rows are already overwritten) VACUUM rebuilds the file and the write-ahead log is "
        "emptied. On PostgreSQL VACUUM frees the space of dead rows for reuse; their bytes "
        "go once it is reused, and VACUUM FULL, run by hand, rewrites every table at once "
        "under a lock. On SQLite the bot's writes wait while it runs: run it when quiet.",
    )
    content = commands.add_parser("content", help="practice library tasks")
    content_commands = content.add_subparsers(dest="content_command", required=True, metavar="TASK")
    check = content_commands.add_parser("check", help="validate every practice and program")
    check.add_argument(
        "--seeds",
        type=Path,
        metavar="DIR",
        help="check for copied runs against the articles in DIR instead of the stored fingerprints",
    )
    export = content_commands.add_parser("export", help="print the library and programs")
    export.add_argument("--format", choices=["json"], default="json")
    for task in (check, export):
        task.add_argument(
            "--content",
            type=Path,
            metavar="DIR",
            help="the content folder to use (default: the installed library)",
        )
    fingerprint = content_commands.add_parser(
        "fingerprint", help="store hashes of the source articles' eight-word runs"
    )
    fingerprint.add_argument("seeds", type=Path, metavar="SEEDS_DIR")
    key = commands.add_parser("key", help="reply encryption key tasks")
    key_commands = key.add_subparsers(dest="key_command", required=True, metavar="TASK")
    key_commands.add_parser("new", help="print a new REPLY_ENCRYPTION_KEY")
    key_commands.add_parser(
        "rotate",
        help="re-encrypt every reply under a new key (stop the bot first)",
        description="Re-encrypt every reply under a new key; run it again to go on after an "
        "interruption. With the key file, the new key is made for you; with "
        "REPLY_ENCRYPTION_KEY, set REPLY_ENCRYPTION_KEY_NEW to a key from `wholehearted key "
        "new` first. Every bot process must be stopped while it runs.",
    )
    return parser


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.telegram_bot_token,
        settings.discord_bot_token,
        settings.reply_encryption_key,
        settings.reply_encryption_key_new,
        settings.telegram_webhook_secret,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def _terminal(settings: Settings, reason: str | None) -> int:
    from bot.adapters.terminal import opening_line, run_terminal

    clock = ShiftedClock()
    core = build_core(settings, clock=clock)
    print(opening_line(core, reason), file=sys.stderr)
    try:
        asyncio.run(run_terminal(core, clock, settings.tick_seconds))
    except KeyboardInterrupt:
        print(file=sys.stderr)
    finally:
        core.db.dispose()
    return 0


def _run(settings: Settings) -> int:
    if settings.telegram_bot_token is None and settings.discord_bot_token is None:
        return _terminal(settings, "No Telegram or Discord token is set")
    from bot.runtime import serve

    core = build_core(settings)
    try:
        asyncio.run(serve(settings, core))
    except InvalidToken:
        return _fail("TELEGRAM_BOT_TOKEN was refused by Telegram; check it with @BotFather.")
    except NetworkError as exc:
        return _fail(
            f"Cannot reach the Telegram Bot API ({exc.message}); check the network "
            "or TELEGRAM_API_BASE_URL."
        )
    except LoginFailure:
        return _fail(
            "DISCORD_BOT_TOKEN was refused by Discord; copy it again from the "
            "Developer Portal (Bot → Reset Token)."
        )
    except (GatewayNotFound, ClientError):
        return _fail("Cannot reach Discord; check the network or DISCORD_API_BASE_URL.")
    except OneProcessOnly as exc:
        return _fail(str(exc))
    finally:
        core.db.dispose()
    return 0


def _fail(sentence: str) -> int:
    print(sentence, file=sys.stderr)
    return 2


def _content(args: argparse.Namespace) -> int:
    if args.content_command == "fingerprint":
        if not args.seeds.is_dir():
            print(f"{args.seeds} is not a folder of articles.", file=sys.stderr)
            return 2
        hashes = fingerprint_seeds(args.seeds)
        target = default_content_dir() / FINGERPRINTS
        target.write_text("\n".join(hashes) + "\n", encoding="ascii")
        print(f"Wrote {len(hashes)} fingerprints to {target}.")
        return 0
    if args.content_command == "export":
        try:
            sys.stdout.write(export_json(load_catalog(args.content)) + "\n")
        except CatalogError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return 1
        return 0
    if args.seeds is not None and not args.seeds.is_dir():
        print(f"{args.seeds} is not a folder of articles.", file=sys.stderr)
        return 2
    report = check_content(args.content, seeds_dir=args.seeds)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if report.problems:
        print(f"content check failed: {len(report.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"content ok: {report.summary}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader (`| head`) left early; that is not an error worth a traceback.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "key" and args.key_command == "new":
        print(generate_key())
        return 0
    if args.command == "content":
        return _content(args)
    if args.command == "doctor":
        from bot.doctor import run_doctor

        return run_doctor()
    try:
        settings = load_settings()
        configure_logging(settings.log_level, _secrets(settings), protocol=settings.log_protocol)
        if args.command == "db":
            database = open_database(settings)
            try:
                if args.db_command == "vacuum":
                    print(vacuum(database))
                else:
                    print("The database is up to date.")
            finally:
                database.dispose()
            return 0
        if args.command == "key":
            try:
                print("\n".join(rotate(settings)))
            except KeyboardInterrupt:
                print("Stopped; run `wholehearted key rotate` again to go on.", file=sys.stderr)
                return 130
            return 0
        if args.command == "try":
            return _terminal(settings, None)
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
