"""Fixtures: every database test runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import create_engine, make_url, text

from bot.core.catalog import Catalog, load_catalog
from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.crypto import ReplyCipher
from bot.core.service import Core
from db.models import Base
from db.session import Database
from tests.harness import Harness


def _own_postgres_database() -> None:
    """Under pytest-xdist each worker gets its own PostgreSQL database (`<name>_gw0`, ...),
    made from TEST_DATABASE_URL on first use, and TEST_DATABASE_URL points at it for
    everything in that worker, the bot processes some tests start included: the tests
    empty and rebuild their database, so two workers must never share one."""
    url, worker = os.environ.get("TEST_DATABASE_URL"), os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return
    base = make_url(url)
    own = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{own}"'))
    admin.dispose()
    os.environ["TEST_DATABASE_URL"] = base.set(database=own).render_as_string(hide_password=False)


_own_postgres_database()

# Property tests (tests/test_properties.py). "ci", the default, runs the same examples every
# time and reports a failure as found; "minimise" runs those same examples and shrinks a
# failure to a minimal case (slow: minutes); "long" runs a thousand new ones per test.
_RELAXED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
_NO_SHRINKING = [Phase.explicit, Phase.generate, Phase.target]
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=_RELAXED,
    phases=_NO_SHRINKING,
)
settings.register_profile(
    "minimise", settings.get_profile("ci"), phases=[*_NO_SHRINKING, Phase.shrink]
)
settings.register_profile("long", max_examples=1000, deadline=None, suppress_health_check=_RELAXED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
_pg_database: Database | None = None


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def _postgres() -> Database:
    global _pg_database
    if _pg_database is None:
        _pg_database = Database(os.environ["TEST_DATABASE_URL"])
        with _pg_database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        _pg_database.upgrade()
    return _pg_database


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'test.sqlite3'}")
        db.upgrade()
        yield db
        db.dispose()
        return
    db = _postgres()
    yield db
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 5, 0, tzinfo=UTC))


@pytest.fixture
def cipher() -> ReplyCipher:
    return ReplyCipher(bytes(range(32)))


@pytest.fixture
def core(database: Database, catalog: Catalog, cipher: ReplyCipher, clock: ManualClock) -> Core:
    return Core(database, Context(catalog=catalog, cipher=cipher, clock=clock))


@pytest.fixture
def bot(core: Core, clock: ManualClock) -> Iterator[Harness]:
    harness = Harness(core, clock)
    yield harness
    harness.close()
