"""The schema made by the migrations is exactly what the models describe, on both databases."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from bot.core import conversation
from bot.core.conversation import FocusKind, Question
from db.models import Base, Person
from db.session import MIGRATIONS_DIR, Database


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(database: Database) -> None:
    database.upgrade()
    database.upgrade()


def _migrate(database: Database, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_old_conversation_states_survive_the_upgrade(database: Database) -> None:
    """People mid-onboarding, waiting for a reply or a /forget answer keep their place."""
    _migrate(database, "0003", down=True)
    created = datetime(2026, 11, 20, 8, 0)
    with database.engine.begin() as connection:
        for n, step, awaiting in (
            (1, None, None),
            (2, "zone", None),
            (3, "consent", None),
            (4, None, "forget"),
            (5, None, "ws:9"),
        ):
            connection.execute(
                text(
                    "INSERT INTO people (id, platform, platform_user_id, display_name, "
                    "created_at, onboarding_step, local_time, timezone, weekdays, themes, "
                    "theme_weights, stopped, unreachable, awaiting) VALUES (:id, 't', :uid, "
                    "'P', :created, :step, '07:00', 'UTC', 127, 'playfulness', '{}', false, "
                    "false, :awaiting)"
                ),
                {"id": n, "uid": str(n), "created": created, "step": step, "awaiting": awaiting},
            )
        for number in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO replies (person_id, number, practice_id, created_at, "
                    "ciphertext, flagged) VALUES (1, :n, 'x', :created, :blob, false)"
                ),
                {"n": number, "created": created, "blob": b"\x00"},
            )
    _migrate(database, "head")
    with database.transaction() as session:
        people = {p.id: p for p in session.scalars(select(Person))}
        states = {n: conversation.of(p) for n, p in people.items()}
    assert people[1].onboarded_at is not None and people[1].last_reply_number == 3
    assert states[2].question is Question.ZONE and people[2].onboarded_at is None
    assert people[2].consented_at is not None
    assert states[3].question is Question.CONSENT and people[3].consented_at is None
    assert states[4].question is Question.FORGET and people[4].onboarded_at is not None
    assert states[5].focus is FocusKind.POST and states[5].focus_id == 9
    assert people[5].last_reply_number == 0
