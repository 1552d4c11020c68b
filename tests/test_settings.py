"""Settings as people write them: a wrong one is one sentence naming it, exit code 2,
never a traceback; `LOG_LEVEL` in any case."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.test_terminal import run_cli


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder without `.env`, and no setting from the environment running the tests."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "LOG_LEVEL", "TICK_SECONDS", "METRICS_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    return tmp_path


def run_with(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> tuple[int, list[str]]:
    """`wholehearted run` with one setting; (exit code, the lines it printed)."""
    monkeypatch.setenv(name, value)
    code = main(["run"])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


@pytest.mark.usefixtures("clean_env")
def test_an_unsupported_database_names_the_two_that_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run_with(monkeypatch, capsys, "DATABASE_URL", "mysql://bot:hunter2@db/bot")
    assert code == 2
    assert lines == [
        "The setting DATABASE_URL is not valid: the bot works with SQLite and PostgreSQL only "
        "(URLs starting sqlite:// or postgresql://), not mysql."
    ]


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("name", "value", "sentence"),
    [
        (
            "LOG_LEVEL",
            "loud",
            "it must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, in any case (it is 'loud').",
        ),
        ("METRICS_PORT", "nine", "it must be a whole number (it is 'nine')."),
        ("METRICS_PORT", "0", "it must be at least 1 (it is '0')."),
        ("TELEGRAM_PAID_BROADCAST", "maybe", "it must be true or false (it is 'maybe')."),
        ("TICK_SECONDS", "90", "it must be at most 60 (it is '90')."),
        (
            "DISCORD_SHARD_IDS",
            "first",
            "it must be shard numbers separated by commas, such as 0,1 (it is 'first').",
        ),
        (
            "DATABASE_URL",
            "postgresql://bot:hunter2@db:port/bot",
            "it is not a URL the bot can "
            "read; it should look like sqlite:///data/wholehearted.sqlite3 or "
            "postgresql://user@host/dbname.",
        ),
        (
            "DATABASE_URL",
            "data/bot.sqlite3",
            "it must be a database URL, such as "
            "sqlite:///data/wholehearted.sqlite3 or postgresql://user@host/dbname.",
        ),
    ],
)
def test_a_wrong_setting_is_one_sentence_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    sentence: str,
) -> None:
    code, lines = run_with(monkeypatch, capsys, name, value)
    assert code == 2
    assert lines == [f"The setting {name} is not valid: {sentence}"]


@pytest.mark.parametrize("level", ["info", "Debug"])
def test_log_level_is_read_in_any_case(tmp_path: Path, level: str) -> None:
    result = run_cli(["db", "upgrade"], tmp_path, LOG_LEVEL=level)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The database is up to date.\n"
