"""`/forget` leaves nothing of a person in any table or file; `/export` holds all of it.

The forget walk reads every column of every table generically, so a table or column added
later is checked without anyone remembering to.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update

from bot.core.catalog import Catalog
from bot.core.context import Incoming, Upload
from bot.core.crypto import owner_tag
from bot.core.messages import Document, Outcome, PracticeCard
from bot.core.texts import SHARE_NOTE
from db.maintenance import vacuum
from db.models import Base, Delivery, Notice, Person
from db.session import sqlite_path
from tests.harness import PLATFORM, Harness, as_text
from tests.test_terminal import run_cli

GROUP = "-100424242"
NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class Someone:
    user_id: str
    name: str


# Distinctive values, long enough that a hit anywhere can only be them.
ANA = Someone("uid-QX7Z-ana-90210-VELVETFERN", "Quillonmere Vantablack")
BEN = Someone("uid-JP3K-ben-31337-COPPERMOSS", "Bartholomew Oakhaven")
ANA_SECRET = "the lighthouse keeper of my heart is tired tonight"
ANA_NOTE = "a note about the teapot, before any practice"
ANA_SHARED = "I loved the walk by the canal with you today"
BEN_SHARED = "thank you for the soup, it was exactly right"
# Ana's own workshop program, as a facilitator sends it (a file in her private chat).
ANA_PROGRAM_TITLE = "Quillonmere canal-side lunches"
ANA_PROGRAM = f"""
program:
  id: canal-lunches
  title: {ANA_PROGRAM_TITLE}
  description: One lunchtime practice.
  days:
    - practice: playfulness-inside-joke-revival
      title: An old joke
      description: Bring one back at lunch.
""".encode()


@dataclass
class Scene:
    bot: Harness
    codes: list[str] = field(default_factory=list)

    def say(self, who: Someone, line: str, *, chat: str | None = None) -> Outcome:
        """One line through `Core.handle`; notices it queues stay queued (no flush)."""
        incoming = Incoming(PLATFORM, who.user_id, who.name, line, chat_id=chat, is_admin=True)
        return self.bot.loop.run_until_complete(self.bot.core.handle(incoming))

    def text(self, who: Someone, line: str) -> str:
        outcome = self.say(who, line)
        return "\n".join(getattr(m, "body", "") for m in outcome.replies)

    def onboard(self, who: Someone, zone: str = "UTC") -> None:
        for line in (
            "/start",
            "/start agree",
            "/settings time 07:00",
            f"/settings zone {zone}",
            "/settings days daily",
            "/settings themes core",
        ):
            self.say(who, line)

    def invite(self, who: Someone) -> str:
        found = re.search(r"code is ([A-Z0-9]{3})-([A-Z0-9]{3})", self.text(who, "/pair"))
        assert found is not None
        return found.group(1) + found.group(2)


def couple_with_history(bot: Harness, *, share: bool = True, zone: str = "UTC") -> Scene:
    """Ana and Ben paired, with everything a person leaves behind, some of it unsent."""
    scene = Scene(bot)
    scene.onboard(ANA, zone)
    scene.onboard(BEN)
    scene.text(ANA, ANA_NOTE)
    scene.codes += [scene.invite(ANA), scene.invite(ANA)]  # the first one expired, unused
    upload = Upload("canal.yaml", len(ANA_PROGRAM), ANA_PROGRAM)
    incoming = Incoming(PLATFORM, ANA.user_id, ANA.name, "", document=upload)
    assert "Saved your program" in as_text(bot.core.handle_sync(incoming).replies[0])
    scene.say(ANA, "/workshop start lighten-up 06:01 UTC", chat=GROUP)
    bot.clock.advance(timedelta(hours=3))
    bot.tick()  # Ben's daily practice and the workshop's first post go out
    bens_code = scene.invite(BEN)
    assert "paired" in scene.text(ANA, f"/join {bens_code}")  # "Ana joined you", unsent
    scene.say(ANA, "/today")
    scene.text(ANA, ANA_SECRET)
    scene.text(ANA, "Honestly I am scared of my partner when they drink")  # the safety note
    if share:
        scene.text(ANA, ANA_SHARED)
        assert "Shared reply" in scene.text(ANA, "/share 4")
    scene.say(BEN, "/today")
    scene.text(BEN, BEN_SHARED)
    assert "Shared reply" in scene.text(BEN, "/share")
    scene.say(ANA, "/settings time")  # a question left open
    with bot.core.db.transaction() as session:
        if "last_seen_in" in Person.__table__.columns:
            session.execute(
                update(Person)
                .where(Person.platform_user_id == ANA.user_id)
                .values(last_seen_in="channel-where-ana-was-seen")
            )
    return scene


def _hits(value: Any, needles: list[str]) -> list[str]:
    if value is None or isinstance(value, bool | int | float):
        return []
    if isinstance(value, bytes | memoryview):
        blob = bytes(value)
        return [n for n in needles if n.encode() in blob]
    flat = value if isinstance(value, str) else json.dumps(value, default=str)
    return [n for n in needles if n in flat]


def everything_naming(bot: Harness, needles: list[str]) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every stored value holding one of the needles."""
    found = []
    with bot.core.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            result = session.execute(text(f"SELECT * FROM {table.name}"))
            for row in result.mappings():
                for column, value in row.items():
                    if _hits(value, needles):
                        found.append((table.name, column, value))
    return found


def test_forget_leaves_nothing_of_the_person_in_any_table(bot: Harness) -> None:
    scene = couple_with_history(bot)
    needles = [ANA.user_id, ANA.name, ANA_PROGRAM_TITLE, *scene.codes]
    before = {(table, column) for table, column, _ in everything_naming(bot, needles)}
    assert {("people", "platform_user_id"), ("workshops", "started_by")} <= before
    assert ("custom_programs", "document") in before
    assert ("invites", "code") in before

    assert "deleted" in scene.text(ANA, "/forget yes")

    # The one thing kept by design: the reply Ana gave Ben, under her name.
    assert everything_naming(bot, needles) == [("received_shares", "from_name", ANA.name)]
    with bot.core.db.transaction() as session:
        ben = session.scalar(select(Person).where(Person.platform_user_id == BEN.user_id))
        assert ben is not None
        unsent = [
            bot.core.ctx.cipher.decrypt(n.ciphertext, owner=owner_tag(ben.id))
            for n in session.scalars(
                select(Notice).where(Notice.person_id == ben.id, Notice.ciphertext != b"")
            )
        ]
    naming = [t for t in unsent if ANA.name in t]
    # Her gift still reaches him; "Ana joined you" does not, only that the pairing ended.
    assert len(naming) == 1 and ANA_SHARED in naming[0] and SHARE_NOTE in naming[0]
    assert "Your pairing has ended." in unsent
    bot.tick()
    assert ANA_SHARED in scene.text(BEN, "/journal")


def test_forget_leaves_no_copy_in_the_sqlite_files(bot: Harness) -> None:
    path = sqlite_path(bot.core.db.url)
    if path is None:
        pytest.skip("a file is only checked on SQLite")
    scene = couple_with_history(bot, share=False)
    secrets = [ANA.user_id, ANA.name, ANA_SECRET, *scene.codes]

    def files_holding() -> dict[str, list[str]]:
        found = {}
        for suffix in ("", "-wal", "-shm", "-journal"):
            file = Path(f"{path}{suffix}")
            if file.exists():
                blob = file.read_bytes()
                found[file.name] = [s for s in secrets if s.encode() in blob]
        return {name: hits for name, hits in found.items() if hits}

    assert files_holding()  # the test can see them while they are there
    scene.text(ANA, "/forget yes")
    assert files_holding() == {}
    bot.tick()  # Ben is told the pairing ended: later writes copy only clean pages
    scene.text(BEN, "/journal")
    assert files_holding() == {}
    assert "Vacuumed the SQLite database" in vacuum(bot.core.db)
    assert files_holding() == {}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_db_vacuum_runs_and_says_what_it_did_in_one_line(tmp_path: Path, backend: str) -> None:
    env = {}
    if backend == "postgresql":
        if not os.environ.get("TEST_DATABASE_URL"):
            pytest.skip("TEST_DATABASE_URL is not set")
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    result = run_cli(["db", "vacuum"], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"Vacuumed the {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}")
    if backend == "sqlite":
        assert "emptied its write-ahead log" in line
        wal = tmp_path / "data" / "bot.sqlite3-wal"
        assert not wal.exists() or wal.stat().st_size == 0
    helped = run_cli(["db", "vacuum", "--help"], tmp_path)
    assert "VACUUM FULL" in helped.stdout and "write-ahead log" in helped.stdout


def _documents(outcome: Outcome) -> tuple[dict[str, Any], str]:
    journal, export = outcome.replies
    assert isinstance(journal, Document) and isinstance(export, Document)
    assert re.fullmatch(r"wholehearted-journal-\d{4}-\d{2}-\d{2}\.md", journal.filename)
    assert re.fullmatch(r"wholehearted-export-\d{4}-\d{2}-\d{2}\.json", export.filename)
    return json.loads(export.data), journal.data.decode()


def local(moment: datetime) -> str:
    return moment.astimezone(NEW_YORK).isoformat(timespec="seconds")


def test_export_holds_every_column_in_readable_form(bot: Harness, catalog: Catalog) -> None:
    start = bot.clock.now()
    scene = couple_with_history(bot, zone="America/New_York")
    bot.clock.advance(timedelta(minutes=7))
    data, journal = _documents(scene.say(ANA, "/export"))

    assert data["schema_version"] == 1
    assert data["exported_at"] == local(bot.clock.now()) and data["exported_at"].endswith("-05:00")
    person = data["person"]
    assert person["platform"] == PLATFORM and person["platform_user_id"] == ANA.user_id
    assert person["display_name"] == ANA.name and person["joined_at"] == local(start)
    assert person["consented_at"] == local(start) and person["onboarded_at"] == local(start)
    assert person["unreachable"] is False and person["stopped"] is False
    assert person["paused_until"] is None
    # 07:00 in New York: tomorrow's, since /today brought today's early.
    assert person["next_practice_due_at"] == "2026-11-24T07:00:00-05:00"
    assert person["next_practice_date"] == "2026-11-24"
    if "last_seen_in" in Person.__table__.columns:
        assert person["last_seen_in"] == "channel-where-ana-was-seen"
    assert data["settings"] == {
        "time": "07:00",
        "time_zone": "America/New_York",
        "days": data["settings"]["days"],
        "themes": ["individuality", "playfulness", "self-reflection"],
        "theme_labels": ["Individuality", "Playfulness", "Self-reflection"],
        "theme_weights": {},
        "depth": "as you go (gentle first, deeper after a week, brave after about a month)",
        "steering": "none",
        "weekly_lookback": "off",
    }
    assert data["pairing"]["partner_display_name"] == BEN.name
    assert data["pairing"]["paired_since"] == local(start + timedelta(hours=3))

    made = data["invites_made"]
    assert [i["code"] for i in made] == [f"{c[:3]}-{c[3:]}" for c in scene.codes]
    assert made[0]["made_at"] == local(start) and made[0]["expires_at"] == local(start)
    assert made[1]["expires_at"] == local(start + timedelta(hours=48))
    assert all(i["used_at"] is None for i in made)

    (workshop,) = data["workshops_started"]
    assert workshop["chat_id"] == GROUP and workshop["program_id"] == "lighten-up"
    assert workshop["program_title"] == catalog.programs["lighten-up"].title
    assert workshop["started_at"] == local(start) and workshop["state"] == "running"

    (delivery,) = data["deliveries"]
    practice = catalog.practices[delivery["practice_id"]]
    assert delivery["practice_title"] == practice.title
    assert delivery["practice_question"] == practice.question
    assert delivery["practice_date"] == "2026-11-23"
    assert delivery["delivered_at"] is not None and delivery["delivered_at"].endswith("-05:00")
    assert delivery["status"] == "sent"

    note, secret, unsafe, shared = data["replies"]
    assert [r["number"] for r in data["replies"]] == [1, 2, 3, 4]
    assert note["kind"] == "note" and note["practice_title"] is None and note["text"] == ANA_NOTE
    assert note["written_at"] == local(start)
    assert secret["text"] == ANA_SECRET and secret["practice_title"] == practice.title
    assert secret["practice_question"] == practice.question
    assert secret["written_at"] == local(start + timedelta(hours=3))
    assert secret["shared_at"] is None and secret["got_the_safety_note"] is False
    assert unsafe["got_the_safety_note"] is True
    assert shared["text"] == ANA_SHARED and shared["shared_at"] == local(start + timedelta(hours=3))

    (gift,) = data["shared_with_me"]
    assert gift["from"] == BEN.name and gift["text"] == BEN_SHARED
    assert gift["practice_title"] == catalog.practices[gift["practice_id"]].title
    assert gift["practice_question"] == catalog.practices[gift["practice_id"]].question

    waiting = data["conversation"]
    assert waiting["next_message_replies_to"]["practice_title"] == practice.title
    assert waiting["stored_state"]

    assert ANA.name in journal.splitlines()[0]
    for reply in (secret, shared):
        at = journal.index(reply["text"])
        title = journal.rindex(practice.title, 0, at)
        assert journal.index(practice.question.splitlines()[0], title) < at
    assert journal.index(ANA_NOTE) < journal.index(ANA_SECRET) < journal.index(ANA_SHARED)
    assert "*Shared on" in journal[journal.index(ANA_SHARED) :]
    shared_part = journal[journal.index("# Shared with you") :]
    assert BEN.name in shared_part and BEN_SHARED in shared_part


def test_export_covers_every_column_of_people(bot: Harness) -> None:
    """A column added to `people` shows up in the export without anyone remembering."""
    scene = couple_with_history(bot)
    data, _ = _documents(scene.say(ANA, "/export"))
    flat = json.dumps(data)
    with bot.core.db.transaction() as session:
        ana = session.scalar(select(Person).where(Person.platform_user_id == ANA.user_id))
        assert ana is not None
        deliveries = session.scalars(select(Delivery).where(Delivery.person_id == ana.id)).all()
    assert deliveries and all(d.practice_id in flat for d in deliveries)
    shown = {
        "created_at",
        "local_time",
        "timezone",
        "weekdays",
        "themes",
        "theme_weights",
        "conversation",
        "last_reply_number",
        "couple_id",
        "next_due_at",
        "next_due_date",
        "id",
    }
    for column in Person.__table__.columns:
        assert column.key in shown or column.key in data["person"], column.key


def test_the_terminal_writes_each_persons_export_owner_only_into_the_data_folder(
    tmp_path: Path,
) -> None:
    script = "/start\n/start agree\n/export\n/as Ben\n/start\n/start agree\n/export\n/export\n"
    result = run_cli(["try"], tmp_path, stdin=script)
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    written = sorted(p for p in data.iterdir() if p.name.startswith("wholehearted-"))
    assert len(written) == 6 and len({p.name for p in written}) == 6
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert f"Saved as {path}" in result.stdout
    names = [p.name for p in written]
    assert sum("-me-" in n for n in names) == 2 and sum("-ben-" in n for n in names) == 4
    assert sum(n.endswith(".json") for n in names) == 3
    assert not list(tmp_path.glob("wholehearted-*"))  # nothing in the current folder
    exports = [json.loads(p.read_text()) for p in written if p.suffix == ".json"]
    assert sorted(e["person"]["display_name"] for e in exports) == ["Ben", "Ben", "Me"]


def test_a_reply_in_the_export_names_its_practice_at_local_time(bot: Harness) -> None:
    """The practice /today showed is the one the export and the journal name."""
    scene = Scene(bot)
    scene.onboard(ANA, "America/New_York")
    card = next(m for m in scene.say(ANA, "/today").replies if isinstance(m, PracticeCard))
    scene.text(ANA, ANA_SECRET)
    data, journal = _documents(scene.say(ANA, "/export"))
    (reply,) = data["replies"]
    assert reply["practice_id"] == card.practice.id
    assert reply["practice_question"] == card.practice.question
    assert f"· {card.practice.title}" in journal
    assert datetime.fromisoformat(reply["written_at"]).utcoffset() == timedelta(hours=-5)
    assert datetime.fromisoformat(reply["written_at"]).astimezone(UTC) == bot.clock.now()
