"""Exactly once under concurrency: many messages at the same instant, as Discord (which
handles events concurrently) and several workers on one PostgreSQL database deliver them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.core.context import Incoming
from bot.core.crypto import owner_tag
from bot.core.messages import Message
from bot.core.service import Core
from db.models import Assignment, Person, Reply
from tests.harness import PLATFORM, Harness, as_text


def at_once(count: int, work: Callable[[int], list[Message]]) -> list[str]:
    """Run `work(0..count-1)` in threads released together; the answers' texts."""
    gate = threading.Barrier(count)

    def run(index: int) -> str:
        gate.wait()
        return "\n".join(as_text(m) for m in work(index))

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def say(core: Core, who: str, text: str) -> list[Message]:
    return core.handle_sync(Incoming(PLATFORM, who, who.title(), text)).replies


def stored(core: Core, who: str) -> list[tuple[int, str]]:
    with core.db.transaction() as session:
        person = session.scalar(select(Person).where(Person.platform_user_id == who))
        assert person is not None
        rows = session.scalars(select(Reply).where(Reply.person_id == person.id)).all()
        tag = owner_tag(person.id)
        return sorted((r.number, core.ctx.cipher.decrypt(r.ciphertext, owner=tag)) for r in rows)


def test_fifty_replies_from_one_person_at_the_same_instant_are_each_kept_once(
    bot: Harness,
) -> None:
    bot.onboard("ana")
    bot.say("ana", "/today")
    answers = at_once(50, lambda n: say(bot.core, "ana", f"thought number {n}"))
    assert all("Saved privately" in a for a in answers), answers
    rows = stored(bot.core, "ana")
    assert [number for number, _ in rows] == list(range(1, 51))
    assert sorted(text for _, text in rows) == sorted(f"thought number {n}" for n in range(50))


def test_twenty_people_replying_at_once_each_keep_their_own_words(bot: Harness) -> None:
    people = [f"p{n}" for n in range(20)]
    for who in people:
        bot.onboard(who)
        bot.say(who, "/today")
    answers = at_once(60, lambda n: say(bot.core, people[n % 20], f"{people[n % 20]} says {n}"))
    assert all("Saved privately" in a for a in answers), answers
    for index, who in enumerate(people):
        rows = stored(bot.core, who)
        assert [number for number, _ in rows] == [1, 2, 3]
        assert sorted(t for _, t in rows) == sorted(
            f"{who} says {n}" for n in (index, index + 20, index + 40)
        )


def test_a_new_person_writing_twice_at_once_is_created_once(bot: Harness) -> None:
    answers = at_once(10, lambda n: say(bot.core, "newcomer", "/start"))
    assert all("Shall we begin" in a for a in answers), answers
    with bot.core.db.transaction() as session:
        count = session.scalar(
            select(func.count()).select_from(Person).where(Person.platform_user_id == "newcomer")
        )
    assert count == 1


def test_both_partners_asking_for_today_at_once_get_the_same_practice(bot: Harness) -> None:
    bot.onboard("ana")
    bot.onboard("ben")
    bot.pair("ana", "ben")
    answers = at_once(2, lambda n: say(bot.core, ("ana", "ben")[n], "/today"))
    assert all(a.startswith("Today's practice") for a in answers), answers
    assert answers[0].split("\n")[2] == answers[1].split("\n")[2]  # the same title
    with bot.core.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Assignment)) == 1
