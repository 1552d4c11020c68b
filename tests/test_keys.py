"""Reply keys: rotation that survives an interruption, private files, one-sentence errors."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

import bot.rotation
from bot.app import StartupError, build_core
from bot.core import crypto
from bot.core.clock import ManualClock
from bot.core.crypto import ReplyCipher, ReplyKeyError, generate_key, owner_tag
from bot.core.service import Core
from bot.keys import KEY_NEXT_CHECK, load_keys
from bot.leadership import SoleProcess
from bot.rotation import RUNNING, rotate
from bot.settings import Settings
from db.models import Meta, Notice, Person, Reply
from db.session import Database
from tests.harness import Harness
from tests.test_terminal import run_cli

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
Texts = dict[tuple[str, int], str]


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def _settings(database: Database, mode: str, key: str | None, new: str | None) -> Settings:
    values = {"reply_encryption_key": key, "reply_encryption_key_new": new}
    if mode == "file":
        values = {}
    return Settings(_env_file=None, database_url=_url(database), **values)  # type: ignore[call-arg, arg-type]


def _env(database: Database, key: str | None, new: str | None) -> dict[str, str]:
    env = {"DATABASE_URL": _url(database)}
    if key is not None:
        env["REPLY_ENCRYPTION_KEY"] = key
    if new is not None:
        env["REPLY_ENCRYPTION_KEY_NEW"] = new
    return env


@contextmanager
def _started(settings: Settings) -> Iterator[tuple[Core, Harness]]:
    clock = ManualClock(NOW)
    core = build_core(settings, clock=clock)
    harness = Harness(core, clock)
    try:
        yield core, harness
    finally:
        harness.close()
        core.db.dispose()


def _fill(settings: Settings) -> None:
    """Replies, shared replies and notices (sent and erased, and pending) of two people."""
    with _started(settings) as (core, bot):
        for who in ("ana", "ben"):
            bot.onboard(who)
        bot.pair("ana", "ben")
        for who in ("ana", "ben"):
            bot.say(who, "/today")
            for n in range(4):
                bot.say(who, f"{who}'s reply number {n}, private")
            bot.say(who, "/share 1")
            bot.say(who, "/share 3")
        with core.db.transaction() as session:
            ana, ben = (
                session.scalars(select(Person.id).where(Person.platform_user_id == who)).one()
                for who in ("ana", "ben")
            )
            for person_id in (ana, ben, ana):
                session.add(
                    Notice(
                        person_id=person_id,
                        created_at=NOW,
                        ciphertext=core.ctx.cipher.encrypt(
                            f"pending notice for {person_id}", owner=owner_tag(person_id)
                        ),
                        status="pending",
                        due_at=NOW.replace(year=2030),
                        attempts=0,
                    )
                )


def _rows(database: Database) -> dict[tuple[str, int], tuple[int, bytes]]:
    rows: dict[tuple[str, int], tuple[int, bytes]] = {}
    with database.transaction() as session:
        for model, owner, label in bot.rotation.TABLES:
            for row_id, owner_id, blob in session.execute(
                select(model.id, owner, model.ciphertext)
            ):
                if blob:
                    rows[label, row_id] = (owner_id, blob)
    return rows


def _read_all(settings: Settings, database: Database) -> Texts:
    """Every text, with the cipher and the journal of a core built the way start-up does."""
    texts: Texts = {}
    with _started(settings) as (core, harness):
        for (label, row_id), (owner_id, blob) in _rows(database).items():
            texts[label, row_id] = core.ctx.cipher.decrypt(blob, owner=owner_tag(owner_id))
        journal = harness.say("ana", "/journal")
        assert "ana's reply number 2, private" in journal
        assert "ben's reply number 2, private" in journal  # shared with her
    return texts


def _reply_count(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Reply)) or 0


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, batches: int) -> None:
    real = bot.rotation._batch
    done = [0]

    def batch(*args: object) -> int | None:
        if done[0] == batches:
            raise KeyboardInterrupt("killed half-way")
        done[0] += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.rotation, "BATCH", 3)
    monkeypatch.setattr(bot.rotation, "_batch", batch)


@pytest.mark.parametrize("mode", ["file", "variables"])
def test_an_interrupted_rotation_goes_on_and_every_row_stays_readable(
    database: Database, mode: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if mode == "file" and database.is_postgresql:
        pytest.skip("the key file is only kept beside an SQLite database")
    old, new = generate_key(), generate_key()
    key_file = tmp_path / "reply-encryption.key"
    settings = _settings(database, mode, old, new)
    _fill(settings)
    if mode == "file":
        old = key_file.read_text().strip()
    before = _read_all(settings, database)
    replies = _reply_count(database)
    assert len(before) == replies + 4 + 3 and replies == 8

    _interrupt_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        rotate(settings)
    monkeypatch.undo()
    with database.transaction() as session:
        assert session.get(Meta, KEY_NEXT_CHECK) is not None
    old_cipher = ReplyCipher(base64.urlsafe_b64decode(old))
    opened_by_old = [
        old_cipher.opens(blob, owner=owner_tag(owner)) for owner, blob in _rows(database).values()
    ]
    assert 0 < opened_by_old.count(True) < len(opened_by_old)  # half-way indeed
    assert _read_all(settings, database) == before
    if mode == "variables":  # a bot without the new key would not read the rotated rows
        with pytest.raises(StartupError, match="REPLY_ENCRYPTION_KEY_NEW"):
            build_core(_settings(database, mode, old, None))
    else:
        assert stat.S_IMODE(key_file.with_suffix(".key.next").stat().st_mode) == 0o600
    with _started(settings) as (_core, harness):  # a reply written mid-rotation
        harness.say("ben", "written while the rotation was stopped")
    before = _read_all(settings, database)
    replies += 1

    done = run_cli(["key", "rotate"], tmp_path, **_env(database, *_keys(mode, old, new)))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("Re-encrypted ") and "under the new reply key" in lines[0]
    assert "were under it already" in lines[0]

    assert _reply_count(database) == replies
    if mode == "file":
        assert f"the old one is kept in {key_file}.old" in lines[1]
        assert not key_file.with_suffix(".key.next").exists()
        assert key_file.with_suffix(".key.old").read_text().strip() == old
        assert key_file.read_text().strip() != old
        for path in (key_file, key_file.with_suffix(".key.old")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    else:
        assert lines[1].startswith("Now put the value of REPLY_ENCRYPTION_KEY_NEW into")
    assert _read_all(settings, database) == before
    assert not any(
        old_cipher.opens(blob, owner=owner_tag(owner)) for owner, blob in _rows(database).values()
    )
    with database.transaction() as session:
        assert session.get(Meta, KEY_NEXT_CHECK) is None
    if mode == "variables":
        assert _read_all(_settings(database, mode, new, None), database) == before
        with pytest.raises(StartupError, match="does not match"):
            build_core(_settings(database, mode, old, None))
        again = run_cli(["key", "rotate"], tmp_path, **_env(database, old, new))
        assert again.returncode == 0 and "re-encrypted already" in again.stdout


def _keys(mode: str, old: str, new: str) -> tuple[str | None, str | None]:
    return (None, None) if mode == "file" else (old, new)


def test_a_rotation_stopped_before_the_key_file_swap_is_finished_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    settings = _settings(database, "file", None, None)
    _fill(settings)
    before = _read_all(settings, database)

    def crash(*_: object) -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(bot.rotation, "_finish", crash)
    with pytest.raises(KeyboardInterrupt):
        rotate(settings)
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING):
        assert _read_all(settings, database) == before
    assert "run `wholehearted key rotate` to finish it" in caplog.text
    assert rotate(settings)[0] == "Every row was re-encrypted already."
    assert not (tmp_path / "reply-encryption.key.next").exists()
    assert _read_all(settings, database) == before
    database.dispose()


def test_a_rotation_refuses_while_a_bot_runs(database: Database, tmp_path: Path) -> None:
    settings = _settings(database, "variables", generate_key(), generate_key())
    _fill(settings)
    sole = SoleProcess(tmp_path / "test.sqlite3")
    with _started(settings):
        if not database.is_postgresql:  # what `wholehearted run` holds on SQLite
            sole.hold()
        with pytest.raises(StartupError) as refused:
            rotate(settings)
        assert str(refused.value) == RUNNING
    asyncio.run(sole.resign())
    assert rotate(settings)[0].startswith("Re-encrypted 8 replies, 4 shared replies and 3 ")


def test_variables_rotation_needs_a_new_key_that_differs(database: Database) -> None:
    key = generate_key()
    _fill(_settings(database, "variables", key, None))
    for new, sentence in ((None, "Set REPLY_ENCRYPTION_KEY_NEW"), (key, "the key in use")):
        with pytest.raises(StartupError, match=sentence):
            rotate(_settings(database, "variables", key, new))
    with pytest.raises(StartupError, match="REPLY_ENCRYPTION_KEY_NEW is not valid base64"):
        rotate(_settings(database, "variables", key, "ключ"))


def test_a_fresh_data_folder_and_its_files_are_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        data = tmp_path / "data"
        settings = Settings(_env_file=None, database_url=f"sqlite:///{data / 'bot.sqlite3'}")  # type: ignore[call-arg]
        with _started(settings) as (core, harness):
            harness.onboard("ana")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
            assert stat.S_IMODE(data.stat().st_mode) == 0o700
            assert modes == {
                "bot.sqlite3": 0o600,
                "bot.sqlite3-wal": 0o600,
                "bot.sqlite3-shm": 0o600,
                "reply-encryption.key": 0o600,
            }
            assert core.db.url.database is not None
    finally:
        os.umask(previous)


def test_an_existing_install_with_loose_modes_is_tightened_in_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    connection = sqlite3.connect(data / "bot.sqlite3")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x)")
    for name in ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"):
        (data / name).chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="db.session"):
        Database(f"sqlite:///{data / 'bot.sqlite3'}").dispose()
    connection.close()
    (record,) = caplog.records
    assert record.getMessage().startswith(f"Made {data} (755 → 700), {data / 'bot.sqlite3'}")
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "bot.sqlite3").stat().st_mode) == 0o600


def test_a_folder_shared_with_other_files_is_left_as_it_is(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    (tmp_path / "notes.txt").write_text("mine")
    Database(f"sqlite:///{tmp_path / 'bot.sqlite3'}").dispose()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "bot.sqlite3").stat().st_mode) == 0o600


def _key_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "reply-encryption.key"
    path.parent.mkdir(mode=0o700)
    return path


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.write_bytes(data)
    path.chmod(mode)


KEY_FILE_PROBLEMS: dict[str, tuple[Callable[[Path], object], str]] = {
    "empty": (lambda p: _write(p, b"\n"), "is empty"),
    "not ascii": (lambda p: _write(p, "ключ".encode()), "does not hold a base64 key"),
    "not base64": (lambda p: _write(p, b"abc"), "does not hold a base64 key"),
    "short": (lambda p: _write(p, base64.b64encode(bytes(16))), "(it holds 16 bytes)"),
    "folder": (lambda p: p.mkdir(), "is a folder, not a key file"),
    "open to others": (lambda p: _write(p, generate_key().encode(), 0o644), "`chmod 600 "),
    "unreadable": (lambda p: _write(p, generate_key().encode(), 0o000), "permission denied"),
}


@pytest.mark.parametrize("problem", list(KEY_FILE_PROBLEMS))
def test_each_key_file_problem_is_one_sentence_naming_the_file(
    tmp_path: Path, problem: str
) -> None:
    if problem == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads any file; see the test with a refused open below")
    make, words = KEY_FILE_PROBLEMS[problem]
    path = _key_file(tmp_path)
    make(path)
    result = run_cli(["run"], tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(path) in line and words in line
    assert "REPLY_ENCRYPTION_KEY" not in line


def test_an_unreadable_key_file_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _key_file(tmp_path)
    _write(path, generate_key().encode())

    def refused(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(crypto, "open", refused, raising=False)
    with pytest.raises(ReplyKeyError) as error:
        crypto.read_key_file(path)
    assert str(error.value) == (
        f"Cannot read the reply key file {path} (permission denied); run the bot as the "
        "user who owns it."
    )


def test_a_missing_key_file_and_a_bad_variable_are_one_sentence(tmp_path: Path) -> None:
    assert run_cli(["db", "upgrade"], tmp_path).returncode == 0
    assert run_cli(["run"], tmp_path).returncode == 0
    (tmp_path / "data" / "reply-encryption.key").unlink()
    for env, words in (({}, "is missing"), ({"REPLY_ENCRYPTION_KEY": "ключ"}, "not valid base64")):
        result = run_cli(["run"], tmp_path, **env)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert words in line


def test_a_rotation_under_way_needs_its_new_key_file(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    settings = _settings(database, "file", None, None)
    _fill(settings)
    keys = load_keys(settings, database)
    assert keys.pending is None
    bot.rotation._begin(settings, database, keys)
    assert load_keys(settings, database).pending is not None
    (tmp_path / "reply-encryption.key.next").unlink()
    with pytest.raises(StartupError, match=r"reply-encryption\.key\.next is missing"):
        build_core(settings)
    database.dispose()
