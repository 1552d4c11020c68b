"""Start-up refuses bad settings, keys and content with one sentence, never a traceback."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from bot.core.catalog import CatalogError, default_content_dir, load_catalog
from bot.core.crypto import generate_key
from tests.test_terminal import run_cli


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli(["--help"], tmp_path)
    for command in ("run", "try", "db", "content", "key"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("name", "value"),
    [("TICK_SECONDS", "often"), ("LOG_LEVEL", "LOUD"), ("TICK_SECONDS", "0")],
)
def test_a_bad_setting_stops_start_up_naming_it(tmp_path: Path, name: str, value: str) -> None:
    result = run_cli(["run"], tmp_path, **{name: value})
    assert result.returncode == 2
    assert f"The setting {name} is not valid" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("settings", "sentence"),
    [
        ({"DISCORD_SHARD_IDS": "0,1"}, "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT as well."),
        (
            {"DISCORD_SHARD_IDS": "0,2", "DISCORD_SHARD_COUNT": "2"},
            "each of DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT.",
        ),
        ({"DISCORD_SHARD_IDS": "first"}, "The setting DISCORD_SHARD_IDS is not valid"),
        ({"TELEGRAM_MESSAGES_PER_SECOND": "0"}, "TELEGRAM_MESSAGES_PER_SECOND is not valid"),
    ],
)
def test_settings_that_do_not_fit_together_are_one_sentence(
    tmp_path: Path, settings: dict[str, str], sentence: str
) -> None:
    result = run_cli(["run"], tmp_path, **settings)
    assert result.returncode == 2
    assert sentence in result.stderr and "Traceback" not in result.stderr


def test_a_bad_database_url_is_one_sentence(tmp_path: Path) -> None:
    result = run_cli(["db", "upgrade"], tmp_path, DATABASE_URL="nonsense://x")
    assert result.returncode == 2 and "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_key_file_is_created_owner_only_and_a_wrong_key_is_refused(tmp_path: Path) -> None:
    assert run_cli(["try"], tmp_path).returncode == 0
    key_file = tmp_path / "data" / "reply-encryption.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    wrong = run_cli(["try"], tmp_path, REPLY_ENCRYPTION_KEY=generate_key())
    assert wrong.returncode == 2
    assert "does not match" in wrong.stderr and "Traceback" not in wrong.stderr

    right = run_cli(["try"], tmp_path, REPLY_ENCRYPTION_KEY=key_file.read_text().strip())
    assert right.returncode == 0, right.stderr

    key_file.unlink()
    missing = run_cli(["try"], tmp_path)
    assert missing.returncode == 2 and "is missing" in missing.stderr


def test_a_malformed_key_is_refused(tmp_path: Path) -> None:
    result = run_cli(["try"], tmp_path, REPLY_ENCRYPTION_KEY="not-a-key")
    assert result.returncode == 2 and "REPLY_ENCRYPTION_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_tokens_never_appear_in_output(tmp_path: Path) -> None:
    token = "123456:SECRET-token-value"
    result = run_cli(["run"], tmp_path, TELEGRAM_BOT_TOKEN=token, LOG_LEVEL="DEBUG")
    assert token not in result.stdout + result.stderr


def test_a_broken_practice_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(default_content_dir(), content)
    (content / "practices" / "broken.yaml").write_text(
        "practices:\n"
        "  - id: broken-one\n    theme: playfulness\n    title: Broken\n"
        "    steps: [Do a thing.]\n    question: Why?\n    minutes: 12\n"
        "    depth: gentle\n    for: [solo]\n    source: cluff\n"
    )
    with pytest.raises(CatalogError) as error:
        load_catalog(content)
    assert any(
        p.startswith("broken.yaml: broken-one: field 'minutes'") for p in error.value.problems
    )
