"""Group workshops: a program posted day by day in a group chat or channel.

Members answer privately, so the group sees the practice and never anyone's words; the
facilitator sees only how many people replied each day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.catalog import Program
from bot.core.context import Context, Incoming
from bot.core.messages import Button, Outcome, PracticeCard, Recipient
from bot.core.parsing import InputError, format_time, parse_time
from bot.core.schedule import local_date, next_occurrence
from bot.core.zones import is_zone, parse_zone
from db.models import Reply, Workshop, WorkshopPost

DEFAULT_PROGRAM = "intimacy-not-closeness"
DEFAULT_TIME = "09:00"
DEFAULT_ZONE = "UTC"
EVERY_DAY = frozenset(range(7))

# Fewer replies than this are shown only as "fewer than 3": in a small group an exact
# small count could tell who replied.
SMALLEST_COUNT_SHOWN = 3


def running(session: Session, platform: str, chat_id: str) -> Workshop | None:
    return session.scalar(
        select(Workshop).where(
            Workshop.platform == platform,
            Workshop.chat_id == chat_id,
            Workshop.ended_at.is_(None),
        )
    )


def program_list(ctx: Context) -> str:
    return "\n".join(
        f"{p.id} — {p.title} ({len(p.days)} days): {p.description}"
        for p in ctx.catalog.programs.values()
    )


def find_program(ctx: Context, name: str) -> Program | None:
    wanted = name.strip().lower()
    for program in ctx.catalog.programs.values():
        if wanted in {program.id, program.title.lower()}:
            return program
    return None


def handle(session: Session, ctx: Context, incoming: Incoming, args: str) -> Outcome:
    """`/workshop start|status|stop` in a group. Only its administrators get here, and
    `/workshop` alone is answered with its help (both in `bot.core.commands`)."""
    sub, _, rest = args.strip().partition(" ")
    sub = sub.lower()
    assert incoming.chat_id is not None
    if sub == "status":
        return status(session, ctx, incoming)
    if sub == "start":
        return start(session, ctx, incoming, rest)
    if sub == "stop":
        return stop(session, ctx, incoming)
    raise InputError(f"“{sub}” isn't a workshop command. /help workshop lists them.")


def _looks_like_time(token: str) -> bool:
    return token[:1].isdigit() or token.lower() in {"noon", "midnight"}


def _parse_start(ctx: Context, args: str) -> tuple[Program, time, str]:
    """`[program] [HH:MM] [time zone]`, each optional, in that order."""
    tokens, now = args.split(), ctx.clock.now()
    program = ctx.catalog.programs.get(DEFAULT_PROGRAM)
    if tokens and (found := find_program(ctx, tokens[0])):
        program, tokens = found, tokens[1:]
    elif tokens and not _looks_like_time(tokens[0]) and not is_zone(" ".join(tokens), now):
        raise InputError(f"I don't know the program “{tokens[0]}”. Programs:\n{program_list(ctx)}")
    if program is None:
        raise InputError("There are no workshop programs in this library yet.")
    at = time.fromisoformat(DEFAULT_TIME)
    if tokens and _looks_like_time(tokens[0]):
        at, tokens = parse_time(tokens[0]), tokens[1:]
    zone = parse_zone(" ".join(tokens), now) if tokens else DEFAULT_ZONE
    return program, at, zone


def start(session: Session, ctx: Context, incoming: Incoming, args: str) -> Outcome:
    assert incoming.chat_id is not None
    current = running(session, incoming.platform, incoming.chat_id)
    if current is not None:
        raise InputError(
            f"A workshop is already running here ({describe(ctx, current)}). Type /workshop "
            "stop first to start another."
        )
    program, at, zone = _parse_start(ctx, args)
    workshop = Workshop(
        platform=incoming.platform,
        chat_id=incoming.chat_id,
        program_id=program.id,
        local_time=format_time(at),
        timezone=zone,
        started_by=incoming.user_id,
        created_at=ctx.clock.now(),
        next_day=1,
    )
    _reschedule(workshop, ctx.clock.now(), from_date=None)
    session.add(workshop)
    assert workshop.next_due_at is not None
    first = workshop.next_due_at.astimezone(ZoneInfo(zone))
    return Outcome().say(
        f"The workshop “{program.title}” is on: {len(program.days)} days, one practice posted "
        f"here every day at {workshop.local_time} ({zone}), the first on {first:%A %d %B}.\n\n"
        "Each practice has a “Reply privately” button. Replies go to the bot alone: nobody "
        "in this chat sees them, the facilitator included, who sees only how many replied "
        "(/workshop status)."
    )


def stop(session: Session, ctx: Context, incoming: Incoming) -> Outcome:
    assert incoming.chat_id is not None
    workshop = running(session, incoming.platform, incoming.chat_id)
    if workshop is None:
        raise InputError("No workshop is running here. /workshop start begins one.")
    workshop.ended_at = ctx.clock.now()
    workshop.next_due_at = None
    return Outcome().say(
        "The workshop has stopped. Everyone's replies stay private to the people who wrote them."
    )


def describe(ctx: Context, workshop: Workshop) -> str:
    program = ctx.catalog.programs.get(workshop.program_id)
    title = program.title if program else workshop.program_id
    total = len(program.days) if program else "?"
    posted = workshop.next_day - 1
    return f"“{title}”, {posted} of {total} days posted"


def status(session: Session, ctx: Context, incoming: Incoming) -> Outcome:
    assert incoming.chat_id is not None
    workshop = running(session, incoming.platform, incoming.chat_id) or session.scalar(
        select(Workshop)
        .where(Workshop.platform == incoming.platform, Workshop.chat_id == incoming.chat_id)
        .order_by(Workshop.id.desc())
        .limit(1)
    )
    if workshop is None:
        return Outcome().say("No workshop has run here yet. /workshop start begins one.")
    rows = session.execute(
        select(
            WorkshopPost.day_number,
            WorkshopPost.practice_date,
            func.count(func.distinct(Reply.person_id)),
        )
        .outerjoin(Reply, Reply.workshop_post_id == WorkshopPost.id)
        .where(WorkshopPost.workshop_id == workshop.id)
        .group_by(WorkshopPost.day_number, WorkshopPost.practice_date)
        .order_by(WorkshopPost.day_number)
    ).all()
    state = "running" if workshop.ended_at is None else "ended"
    lines = [f"Workshop {describe(ctx, workshop)} ({state})."]
    if not rows:
        lines.append("Nothing posted yet.")
    for day, when, count in rows:
        lines.append(f"Day {day} ({when:%a %d %b}): {_replied(count)}")
    lines.append(
        "Counts only: nobody's words are ever shown, and a count below "
        f"{SMALLEST_COUNT_SHOWN} shows as “fewer than {SMALLEST_COUNT_SHOWN}”."
    )
    outcome = Outcome().say("\n".join(lines))
    outcome.private = True
    return outcome


def _replied(count: int) -> str:
    if count < SMALLEST_COUNT_SHOWN:
        return f"fewer than {SMALLEST_COUNT_SHOWN} people replied"
    return f"{count} people replied"


def chat_of_post(session: Session, post_id: int) -> tuple[str, str] | None:
    """(platform, chat id) of the workshop a post was made in."""
    row = session.execute(
        select(Workshop.platform, Workshop.chat_id)
        .join(WorkshopPost, WorkshopPost.workshop_id == Workshop.id)
        .where(WorkshopPost.id == post_id)
    ).first()
    return (row[0], row[1]) if row else None


def _reschedule(workshop: Workshop, now: datetime, from_date: date | None) -> None:
    zone = ZoneInfo(workshop.timezone)
    occurrence = next_occurrence(
        zone=zone,
        at=time.fromisoformat(workshop.local_time),
        weekdays=EVERY_DAY,
        from_date=from_date or local_date(now, zone),
        not_before=now,
    )
    assert occurrence is not None
    workshop.next_due_at = occurrence.due_at
    workshop.next_due_date = occurrence.practice_date


def plan_posts(session: Session, ctx: Context, platform: str, limit: int) -> tuple[int, int]:
    """Write the day's post for up to `limit` workshops that are due; never two days at once.

    Returns (workshops looked at, posts written), like `deliveries.plan_due`.
    """
    now = ctx.clock.now()
    due = session.scalars(
        select(Workshop)
        .where(Workshop.platform == platform, Workshop.next_due_at <= now)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    written = 0
    for workshop in due:
        program = ctx.catalog.programs.get(workshop.program_id)
        if program is None or workshop.next_day > len(program.days):
            workshop.ended_at = workshop.ended_at or now
            workshop.next_due_at = None
            continue
        today = local_date(now, ZoneInfo(workshop.timezone))
        day = program.days[workshop.next_day - 1]
        session.add(
            WorkshopPost(
                workshop_id=workshop.id,
                day_number=workshop.next_day,
                practice_date=today,
                practice_id=day.practice,
                status="pending",
                due_at=now,
                attempts=0,
            )
        )
        written += 1
        workshop.next_day += 1
        if workshop.next_day > len(program.days):
            workshop.next_due_at = None
            workshop.ended_at = now
        else:
            _reschedule(workshop, now, from_date=today + timedelta(days=1))
    return len(due), written


def post_card(ctx: Context, post: WorkshopPost, workshop: Workshop) -> PracticeCard:
    practice = ctx.catalog.practices[post.practice_id]
    program = ctx.catalog.programs.get(workshop.program_id)
    total = len(program.days) if program else "?"
    title = program.title if program else workshop.program_id
    day_title = program.days[post.day_number - 1].title if program else ""
    intro = f"{title} · day {post.day_number} of {total}: {day_title}"
    return PracticeCard(
        practice=practice,
        source=ctx.catalog.source_of(practice),
        practice_date=post.practice_date,
        delivery_id=None,
        intro=intro,
        buttons=((Button("Reply privately", f"/reply ws-{post.id}"),),),
    )


def chat_recipient(workshop: Workshop) -> Recipient:
    return Recipient(workshop.platform, workshop.chat_id, is_chat=True)
