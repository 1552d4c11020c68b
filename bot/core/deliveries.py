"""The daily practice: choosing it, writing it to the outbox, and handing it to senders.

Every delivery is a row before it is a message. Its unique key (person, practice day)
means a retry, a restart, a second worker or a change of settings can never produce a
second practice on one day; `bot.core.outbox` sends the rows.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core import conversation, lookback
from bot.core.catalog import Audience, Practice
from bot.core.cleaning import small_number
from bot.core.context import SNOOZE, Context
from bot.core.conversation import FocusKind
from bot.core.couples import owner_key, partner_of
from bot.core.messages import Button, Keyboard, Outcome, PracticeCard
from bot.core.parsing import InputError
from bot.core.people import (
    depth_limit_of,
    due_instant_today,
    is_paused_on,
    reschedule,
    steering_now,
    themes_of,
    today_for,
    zone_of,
)
from bot.core.schedule import local_date
from bot.core.selection import adjust_weight, choose_practice, together_themes
from db.models import Assignment, Delivery, Person
from db.session import insert_unless_present

log = logging.getLogger(__name__)

RECENT_DAYS = 7


def practice_buttons(delivery_id: int, *, today: bool = True, skipped: bool = False) -> Keyboard:
    """A card's buttons. Shown again from /history, an older practice cannot be snoozed
    (only today's comes back later) and a skipped one offers to be brought back."""
    aside = (
        Button("Bring back", f"/history back #{delivery_id}")
        if skipped
        else Button("Skip", f"/skip #{delivery_id}")
    )
    later = (Button("Snooze 1 h", f"/snooze #{delivery_id}"),) if today else ()
    return (
        (Button("Reply privately", f"/reply #{delivery_id}"),),
        (aside, *later),
        (
            Button("More like this", f"/more #{delivery_id}"),
            Button("Less like this", f"/less #{delivery_id}"),
        ),
    )


def card_for(
    ctx: Context, delivery: Delivery, intro: str = "", buttons: Keyboard | None = None
) -> PracticeCard:
    practice = practice_of(ctx, delivery)
    return PracticeCard(
        practice=practice,
        source=ctx.catalog.source_of(practice),
        practice_date=delivery.practice_date,
        delivery_id=delivery.id,
        intro=intro,
        buttons=practice_buttons(delivery.id) if buttons is None else buttons,
    )


def practice_of(ctx: Context, delivery: Delivery) -> Practice:
    practice = ctx.catalog.get(delivery.practice_id)
    if practice is None:
        raise InputError(
            "That practice is no longer in the library, so its buttons no longer work. "
            "/today gives you today's."
        )
    return practice


def _history(session: Session, ctx: Context, person: Person, partner: Person | None) -> list[str]:
    """The practices the couple has met, by their ids today: one met under an id since
    merged into another (`replaces` in the library) counts as the one it became, so it
    does not come back under its new name."""
    ids = [person.id] + ([partner.id] if partner else [])
    rows = session.scalars(
        select(Delivery.practice_id)
        .where(Delivery.person_id.in_(ids))
        .order_by(Delivery.practice_date, Delivery.id)
    )
    return [found.id if (found := ctx.catalog.get(row)) else row for row in rows]


def assign(session: Session, ctx: Context, person: Person, day: date) -> str:
    """The practice of `day` for the person's couple (or them alone), chosen once."""
    key = owner_key(person)
    existing = session.scalar(
        select(Assignment.practice_id).where(
            Assignment.owner_key == key, Assignment.practice_date == day
        )
    )
    if existing is not None and ctx.catalog.get(existing) is not None:
        return existing
    partner = partner_of(session, person)
    themes = themes_of(person)
    if partner is not None:
        themes = together_themes(themes, themes_of(partner))
    weights = dict(person.theme_weights)
    if partner is not None:
        for theme, weight in partner.theme_weights.items():
            weights[theme] = (float(weights.get(theme, 1.0)) * float(weight)) ** 0.5
    practice = choose_practice(
        ctx.catalog,
        audience=Audience.COUPLE if partner else Audience.SOLO,
        themes=themes,
        history=_history(session, ctx, person, partner),
        weights=weights,
        seed=f"{key}:{day.isoformat()}",
        depth_limit=depth_limit_of(person, partner),
    )
    if existing is not None:
        row = session.scalar(
            select(Assignment).where(Assignment.owner_key == key, Assignment.practice_date == day)
        )
        assert row is not None
        row.practice_id = practice.id
        return practice.id
    # Both partners (or two workers) may choose at the same instant; the first choice stands.
    insert_unless_present(
        session,
        Assignment,
        ("owner_key", "practice_date"),
        owner_key=key,
        practice_date=day,
        practice_id=practice.id,
    )
    chosen = session.scalar(
        select(Assignment.practice_id).where(
            Assignment.owner_key == key, Assignment.practice_date == day
        )
    )
    assert chosen is not None
    return chosen


def delivery_for_day(session: Session, person: Person, day: date) -> Delivery | None:
    return session.scalar(
        select(Delivery).where(Delivery.person_id == person.id, Delivery.practice_date == day)
    )


def create_delivery(
    session: Session, ctx: Context, person: Person, day: date, *, status: str
) -> Delivery:
    now = ctx.clock.now()
    delivery = Delivery(
        person_id=person.id,
        practice_date=day,
        practice_id=assign(session, ctx, person, day),
        status=status,
        due_at=now,
        attempts=0,
        created_at=now,
        sent_at=now if status == "sent" else None,
    )
    session.add(delivery)
    person.last_practice_date = max(day, person.last_practice_date or day)
    session.flush()
    return delivery


def today(session: Session, ctx: Context, person: Person) -> Outcome:
    day = today_for(person, ctx)
    delivery = delivery_for_day(session, person, day)
    if delivery is None:
        delivery = create_delivery(session, ctx, person, day, status="sent")
        reschedule(person, ctx.clock.now())
        intro = f"Today's practice · {day:%A %d %B}:"
    else:
        intro = f"Here is today's practice again · {day:%A %d %B}:"
        settle_snooze(delivery)
    conversation.focus_on(person, FocusKind.DELIVERY, delivery.id, ctx.clock.now())
    outcome = Outcome()
    outcome.replies.append(card_for(ctx, delivery, intro))
    return outcome


def settle_snooze(delivery: Delivery) -> None:
    """A snoozed practice promised to come back; once the person has it again (/today)
    or has answered it, sending it once more would remind them of something done. A
    snoozed row is one already sent and pending again: it goes back to sent. One the
    sender has already taken is on its way, and is left to arrive."""
    if delivery.status == "pending" and delivery.sent_at is not None:
        delivery.status = "sent"


def own_delivery(session: Session, person: Person, delivery_id: int) -> Delivery | None:
    delivery = session.get(Delivery, delivery_id)
    return delivery if delivery is not None and delivery.person_id == person.id else None


def find_delivery(session: Session, ctx: Context, person: Person, args: str) -> Delivery:
    """The delivery a button names (`#id`), or else the person's latest recent one."""
    token = args.strip().split(maxsplit=1)[0] if args.strip() else ""
    if token:
        number = small_number(token.removeprefix("#")) if token.startswith("#") else None
        delivery = own_delivery(session, person, number) if number else None
        if delivery is None:
            raise InputError(
                "That practice is no longer in your history. /history lists your recent "
                "ones, and /today gives you today's."
            )
        return delivery
    latest = latest_delivery(session, ctx, person)
    if latest is None:
        raise InputError("There's no recent practice to act on yet. Type /today to get one.")
    return latest


# A practice the person has seen, including one snoozed to come back later (and one whose
# sending ended in doubt): what free text may answer and what /history lists.
SEEN = or_(Delivery.sent_at.is_not(None), Delivery.status == "uncertain")


def latest_delivery(session: Session, ctx: Context, person: Person) -> Delivery | None:
    since = today_for(person, ctx) - timedelta(days=RECENT_DAYS)
    return session.scalar(
        select(Delivery)
        .where(Delivery.person_id == person.id, Delivery.practice_date >= since, SEEN)
        .order_by(Delivery.practice_date.desc(), Delivery.id.desc())
        .limit(1)
    )


def skip(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    delivery = find_delivery(session, ctx, person, args)
    delivery.status = "skipped"
    return Outcome().say(
        "Skipped. No need to explain; see you next time. Changed your mind? /history brings "
        "it back."
    )


def snooze(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    delivery = find_delivery(session, ctx, person, args)
    if delivery.practice_date != today_for(person, ctx):
        raise InputError("Only today's practice can be snoozed. /today shows it.")
    delivery.status = "pending"
    delivery.due_at = ctx.clock.now() + SNOOZE
    delivery.attempts = delivery.doubtful = delivery.parts_sent = 0
    local = delivery.due_at.astimezone(zone_of(person))
    return Outcome().say(f"Snoozed. It comes back at {local:%H:%M}.")


def steer(session: Session, ctx: Context, person: Person, args: str, *, more: bool) -> Outcome:
    """More or less like this moves the theme's weight once per card: a second tap of the
    same button changes nothing, and the other button takes the first tap back."""
    delivery = find_delivery(session, ctx, person, args)
    theme = practice_of(ctx, delivery).theme
    choice = "more" if more else "less"
    wording = f"a little {choice} {theme.label.lower()}"
    if delivery.feedback == choice:
        return Outcome().say(f"Already noted for this practice: {wording}. " + steering_now(person))
    weights = person.theme_weights
    if delivery.feedback in {"more", "less"}:  # the other button's tap, taken back
        weights = adjust_weight(weights, theme, more)
    person.theme_weights = adjust_weight(weights, theme, more)
    delivery.feedback = choice
    return Outcome().say(f"Noted: {wording} from now on. " + steering_now(person))


# --- The scheduler's side -------------------------------------------------------------


def plan_due(session: Session, ctx: Context, platform: str, limit: int) -> tuple[int, int]:
    """Write the outbox rows of up to `limit` people on `platform` due by now.

    Returns (people looked at, rows written); the caller repeats, one short transaction
    each, until nobody is left. People are locked with SKIP LOCKED on PostgreSQL so
    several planners split the work; SQLite serializes writers on its own.
    """
    now = ctx.clock.now()
    people = session.scalars(
        select(Person)
        .where(Person.platform == platform, Person.next_due_at <= now)
        .order_by(Person.next_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    written = 0
    for person in people:
        day = _day_to_deliver(person, now)
        if day is not None and delivery_for_day(session, person, day) is None:
            delivery = create_delivery(session, ctx, person, day, status="pending")
            delivery.due_at = now
            written += 1
        elif day is not None:
            person.last_practice_date = max(day, person.last_practice_date or day)
        written += lookback.plan(session, ctx, person, now)
        reschedule(person, now)
    return len(people), written


def _day_to_deliver(person: Person, now: datetime) -> date | None:
    """The practice day to send now, or None when the due one is stale or paused.

    After downtime, a practice due earlier today still goes out; older days do not.
    """
    due_day = person.next_due_date
    if due_day is None:
        return None
    today = local_date(now, zone_of(person))
    if due_day < today:
        done_today = person.last_practice_date is not None and person.last_practice_date >= today
        chosen_today = (1 << today.weekday()) & person.weekdays
        if done_today or not chosen_today or due_instant_today(person, today) > now:
            return None
        due_day = today
    if due_day > today:
        return None  # woken for the weekly look-back; the practice comes on its own day
    if is_paused_on(person, due_day) or person.stopped:
        return None
    return due_day
