"""The library's editorial rules: each one passes the shipped library and fails a crafted
bad practice, and what the clean-up changed (audiences, retired ids) holds for people."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update

from bot.core import library_rules
from bot.core.catalog import Audience, Catalog, Practice, Program, Theme
from bot.core.deliveries import create_delivery
from bot.core.messages import PracticeCard
from bot.core.people import find_person
from bot.core.selection import choose_practice
from db.models import Assignment, Delivery
from tests.harness import PLATFORM, Harness


def practice(**fields: Any) -> Practice:
    record: dict[str, Any] = {
        "id": "playfulness-crafted",
        "theme": "playfulness",
        "title": "A crafted practice",
        "steps": ["Hum a tune while you make tea."],
        "question": "What did you notice?",
        "minutes": 3,
        "depth": "gentle",
        "for": ["solo", "couple"],
        "source": "blair",
    }
    record.update(fields)
    return Practice.model_validate(record)


def problems_with(catalog: Catalog, *extra: Practice) -> list[str]:
    practices = {**catalog.practices, **{p.id: p for p in extra}}
    return library_rules.problems(practices, catalog.programs, files=catalog.files)


def about(found: list[str], practice_id: str) -> str:
    return "\n".join(p for p in found if practice_id in p)


def test_the_shipped_library_keeps_every_rule(catalog: Catalog) -> None:
    assert library_rules.problems(catalog.practices, catalog.programs, files=catalog.files) == []


def test_a_practice_for_someone_alone_cannot_need_both_partners(catalog: Catalog) -> None:
    game = practice(
        id="playfulness-staring-game",
        title="Who blinks first",
        steps=["Sit facing your partner and take turns pulling faces; whoever laughs loses."],
    )
    found = about(problems_with(catalog, game), "playfulness-staring-game")
    assert "field 'for': marked for solo, but the steps need both partners" in found
    for wording in (
        "Cook a meal together and talk about your week.",
        "Both of you write one wish on a card.",
        "Ask a question. Your partner tells you the first thing that comes to mind.",
    ):
        crafted = practice(id="playfulness-two-needed", title="Two needed", steps=[wording])
        assert "marked for solo" in about(problems_with(catalog, crafted), "two-needed"), wording
    for_a_couple = game.model_copy(update={"audiences": frozenset({Audience.COUPLE})})
    assert "marked for solo" not in about(problems_with(catalog, for_a_couple), "staring-game")


def test_steps_cannot_take_longer_than_the_card_says(catalog: Catalog) -> None:
    for step in (
        "When your partner gets home, give them fifteen minutes before any questions.",
        "Take a 10-minute walk on your own.",
        "Block out an hour for yourself and spend it well.",
    ):
        crafted = practice(id="resilience-too-long", theme="resilience", steps=[step])
        found = about(problems_with(catalog, crafted), "resilience-too-long")
        assert "field 'minutes': 3, but the steps speak of" in found, step
    said_aloud = practice(steps=["Tell your partner: “I need an hour on my own tonight.”"])
    assert about(problems_with(catalog, said_aloud), "playfulness-crafted") == ""


def test_a_step_cannot_wait_for_a_moment_that_may_not_come(catalog: Catalog) -> None:
    for step in (
        "Next time you disagree, ask one question first.",
        "The next time your partner sighs, smile.",
        "If your partner is grumpy today, picture a raincloud over their head.",
    ):
        crafted = practice(id="conflict-waiting", theme="conflict", steps=[step])
        found = about(problems_with(catalog, crafted), "conflict-waiting")
        assert "cannot be done on the day it arrives" in found, step


def test_near_duplicates_are_found_by_their_words_and_titles(catalog: Catalog) -> None:
    # The retired "Give your inner critic a silly voice", as it read before the clean-up.
    goose = practice(
        id="self-reflection-honking-critic",
        theme="self-reflection",
        title="Give your inner critic a silly voice",
        steps=[
            "Give the harsh voice in your head a ridiculous name and a cartoon voice. "
            "A grumpy goose works well.",
            "When it pipes up today, hear it in that voice, and answer it the way you’d answer "
            "a friend.",
        ],
        question="What did the critic say today, and how did it sound once it was honking?",
    )
    found = "\n".join(problems_with(catalog, goose))
    assert "inner-critic-puppet: field 'steps': too close to self-reflection-honking" in found
    look_alike = practice(id="playfulness-look-alike", title="Turn your inner critic to a puppet")
    found = about(problems_with(catalog, look_alike), "playfulness-look-alike")
    assert "playfulness-inner-critic-puppet: field 'title': too close to" in found


def test_one_quotation_style(catalog: Catalog) -> None:
    straight = practice(steps=['Say "thank you" and mean it.'], question="Wasn't that nice?")
    found = about(problems_with(catalog, straight), "playfulness-crafted")
    assert "field 'steps': use curly quotes" in found and "field 'question'" in found
    assert library_rules.typographic("Skip 'fine'; say \"I'm tired\".") == (
        "Skip “fine”; say “I’m tired”."
    )


def test_programs_do_not_repeat_one_another(catalog: Catalog) -> None:
    borrowed = catalog.programs["lighten-up"].days[0]
    copycat = Program(id="copycat", title="Copycat", description="Borrows a day.", days=(borrowed,))
    found = library_rules.problems(
        catalog.practices, {**catalog.programs, "copycat": copycat}, files={}
    )
    assert found == [
        f"copycat: day 1: '{borrowed.practice}' is already a day of lighten-up; "
        "programs should not repeat one another"
    ]


def test_a_retired_id_must_really_be_retired(catalog: Catalog) -> None:
    kept = practice(replaces=("playfulness-inner-critic-puppet",))
    found = about(problems_with(catalog, kept), "playfulness-crafted")
    assert "field 'replaces': 'playfulness-inner-critic-puppet' is still a practice" in found


def test_someone_alone_only_ever_gets_practices_for_one_person(catalog: Catalog) -> None:
    not_for_solo = {p.id for p in catalog.practices.values() if Audience.SOLO not in p.audiences}
    assert "playfulness-straight-face-contest" in not_for_solo
    history: list[str] = []
    for day in range(2 * len(catalog.practices)):
        chosen = choose_practice(
            catalog,
            audience=Audience.SOLO,
            themes=set(Theme),
            history=history,
            weights={Theme.PLAYFULNESS.value: 4.0},
            seed=f"alone:{day}",
        )
        history.append(chosen.id)
    assert not_for_solo.isdisjoint(history)
    assert len(set(history)) == len(catalog.for_audience(Audience.SOLO))


def test_an_old_card_for_a_merged_practice_still_works(bot: Harness) -> None:
    """A delivery made before "Give your inner critic a silly voice" was merged into the
    puppet practice still shows, and takes a reply, as the practice that replaced it."""
    assert bot.core.ctx.catalog.get("self-reflection-goose-critic") is not None
    bot.clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    bot.onboard("ana")
    bot.run_until(datetime(2026, 11, 23, 7, 5, tzinfo=UTC))
    assert len(bot.messenger.cards_for("ana")) == 1
    with bot.core.db.transaction() as session:
        session.execute(update(Delivery).values(practice_id="self-reflection-goose-critic"))
        session.execute(update(Assignment).values(practice_id="self-reflection-goose-critic"))
    bot.say("ana", "/today")
    (again,) = [m for m in bot.last_replies if isinstance(m, PracticeCard)]
    assert again.practice.title == "Turn your inner critic into a puppet"
    answer = bot.say("ana", "It sounded like a goose and I laughed.")
    assert "Traceback" not in answer and answer


def test_a_practice_met_under_a_retired_id_does_not_come_back_under_the_new_one(
    bot: Harness,
) -> None:
    """Someone who had "Give your inner critic a silly voice" before it was merged has had
    the puppet practice: a whole round of their practices passes without it."""
    bot.clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    bot.onboard("ana")
    ctx = bot.core.ctx
    start = date(2026, 11, 23)
    with bot.core.db.transaction() as session:
        ana = find_person(session, PLATFORM, "ana")
        assert ana is not None
        first = create_delivery(session, ctx, ana, start, status="sent")
        first.practice_id = "self-reflection-goose-critic"
        session.flush()
        themes = set(ana.themes.split(","))
        pool = [p for p in ctx.catalog.for_audience(Audience.SOLO) if p.theme.value in themes]
        later = [
            create_delivery(session, ctx, ana, start + timedelta(days=n), status="sent")
            for n in range(1, len(pool))
        ]
        chosen = [d.practice_id for d in later]
    assert "playfulness-inner-critic-puppet" not in chosen
    assert len(set(chosen)) == len(chosen)
