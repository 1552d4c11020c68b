"""The weekly look-back: once a week, privately, the week's practices and one question.

It is off until a person chooses a weekday (`/settings lookback sunday`). It lists what
came and whether the person replied, in their own calendar, and nothing else: no counts,
no scores, no streaks, nothing about their partner, because a look-back that grades a
week turns a practice into a chore. The planner writes it as a notice when it wakes the
person at their time on that weekday (`bot.core.people.reschedule` includes it in the one
due instant), and `lookback_sent_on` makes it once a week however often the planner runs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core import notices
from bot.core.context import Context
from bot.core.people import due_instant_today, is_paused_on, zone_of
from bot.core.schedule import local_date
from db.models import Delivery, Person, Reply

WEEK = timedelta(days=7)

# One a week, in turn; each asks the person to look back, never to account for the week.
QUESTIONS = (
    "Which of these is still with you, and why that one?",
    "Was there a moment this week when one of these came back to you on its own?",
    "If you could do one of these again, which would it be, and with what changed?",
    "What did you notice about yourself this week that you would like to remember?",
    "Which one was hardest to begin, and what was it like once you had?",
)


def plan(session: Session, ctx: Context, person: Person, now: datetime) -> int:
    """Write the look-back if it is due now (1), else nothing (0)."""
    today = local_date(now, zone_of(person))
    if (
        person.lookback_weekday != today.weekday()
        or person.stopped
        or is_paused_on(person, today)
        or due_instant_today(person, today) > now
        or (person.lookback_sent_on is not None and person.lookback_sent_on > today - WEEK)
    ):
        return 0
    person.lookback_sent_on = today
    text = compose(session, ctx, person, today)
    if text is None:
        return 0  # nothing came this week: nothing to look back on, and no message
    notices.write(session, ctx, person, text)
    return 1


def compose(session: Session, ctx: Context, person: Person, today: date) -> str | None:
    """The look-back of the seven days before `today`, or None when none came."""
    first = today - WEEK
    came = session.scalars(
        select(Delivery)
        .where(
            Delivery.person_id == person.id,
            Delivery.practice_date >= first,
            Delivery.practice_date < today,
            or_(Delivery.sent_at.is_not(None), Delivery.status == "uncertain"),
        )
        .order_by(Delivery.practice_date)
    ).all()
    replied = set(
        session.scalars(
            select(Reply.delivery_id).where(Reply.delivery_id.in_([d.id for d in came]))
        )
    )
    lines = []
    for delivery in came:
        practice = ctx.catalog.get(delivery.practice_id)
        if practice is None:
            continue
        note = " (you replied)" if delivery.id in replied else ""
        if not note and delivery.status == "skipped":
            note = " (set aside)"
        lines.append(f"• {delivery.practice_date:%a %d %b}: {practice.title}{note}")
    if not lines:
        return None
    question = QUESTIONS[today.toordinal() // 7 % len(QUESTIONS)]
    return (
        f"Your week, looking back ({first:%a %d %b} to {today - timedelta(days=1):%a %d %b}):\n"
        + "\n".join(lines)
        + f"\n\nOne question to look back on: {question}\n\n"
        "Only you get this. Anything you write now is kept in your journal with the latest "
        "practice; /settings lookback off turns the look-back off."
    )
