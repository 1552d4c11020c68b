"""Group workshops: a program posted day by day in a group chat or channel.

Members answer privately, so the group sees the practice and never anyone's words; the
facilitator sees only how many people replied each day. A facilitator can pause, resume
and skip a day; after the last day the group gets a closing message with counts only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from bot.core import program_files
from bot.core.catalog import Practice, Program, Source
from bot.core.context import Context, Incoming
from bot.core.messages import Button, Message, Outcome, PracticeCard, Recipient, Text
from bot.core.parsing import InputError, format_time, parse_time
from bot.core.schedule import local_date, next_occurrence
from bot.core.texts import WORKSHOP_CLOSING
from bot.core.zones import is_zone, parse_zone
from db.models import Reply, Workshop, WorkshopPost

DEFAULT_PROGRAM = "intimacy-not-closeness"
DEFAULT_TIME = "09:00"
DEFAULT_ZONE = "UTC"
EVERY_DAY = frozenset(range(7))

# Fewer replies than this are shown only as "fewer than 3": in a small group an exact
# small count could tell who replied.
SMALLEST_COUNT_SHOWN = 3

# A post's kind (`workshop_posts.kind`): a day's practice, or the message after the last day.
DAY, CLOSING = "day", "closing"
# A post saying the workshop ended because its program is gone (see `PROGRAM_GONE`).
GONE = "gone"
PROGRAM_GONE = (
    "This workshop has ended: its program “{program}” was deleted by the person who sent it, "
    "so there are no more days to post. Replies already written stay private to their "
    "authors. An administrator can begin another with /workshop start."
)
# A day the facilitator skipped is a row too (status `skipped`, never sent), so the day
# is accounted for and can never be posted later.
SKIPPED = "skipped"
# Day rows that never reached the group.
NOT_POSTED = (SKIPPED, "expired", "failed")


def running(
    session: Session, platform: str, chat_id: str, *, lock: bool = False
) -> Workshop | None:
    """The chat's workshop that has not ended (paused or waiting for its closing included);
    `lock` when it is about to change, so the planner never posts a day being skipped."""
    query = select(Workshop).where(
        Workshop.platform == platform,
        Workshop.chat_id == chat_id,
        Workshop.ended_at.is_(None),
    )
    return session.scalar(query.with_for_update() if lock else query)


def program_list(ctx: Context, own: Sequence[Program] = ()) -> str:
    """The library's programs, then the asker's own (`program_files.of_starter`)."""
    lines = [
        f"{p.id} — {p.title} ({len(p.days)} days): {p.description}"
        for p in ctx.catalog.programs.values()
    ]
    if own:
        lines.append("\nYour own programs (only you see and start them):")
        lines += [f"{p.id} — {p.title} ({len(p.days)} days): {p.description}" for p in own]
    return "\n".join(lines)


def _normal(name: str) -> str:
    """A program's name as compared: case, curly apostrophes and spacing don't matter."""
    straight = name.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(straight.lower().split())


def find_program(ctx: Context, name: str, own: Sequence[Program] = ()) -> Program | None:
    """The program `name` names, by id or by title: the library's or the starter's own."""
    wanted = _normal(name)
    for program in (*ctx.catalog.programs.values(), *own):
        if wanted in {program.id, _normal(program.title)}:
            return program
    return None


def program_of(ctx: Context, workshop: Workshop) -> Program | None:
    """The program a workshop runs; None if it is gone from the library, or was a
    facilitator's own that they deleted or that went when they were forgotten."""
    own = _own_program(workshop)
    if own is not None:
        return own.program
    return ctx.catalog.programs.get(workshop.program_id)


def _own_program(workshop: Workshop) -> program_files.OwnProgram | None:
    """A facilitator's program, read in the session the workshop was loaded in."""
    session = object_session(workshop)
    return program_files.of_workshop(session, workshop) if session is not None else None


def _practice(ctx: Context, workshop: Workshop, practice_id: str) -> tuple[Practice, Source] | None:
    own = _own_program(workshop)
    if own is not None:
        return own.practice(ctx.catalog, practice_id)
    found = ctx.catalog.get(practice_id)
    return (found, ctx.catalog.source_of(found)) if found else None


def practice_named(
    session: Session, ctx: Context, practice_id: str | None, post_id: int | None
) -> Practice | None:
    """The practice a reply answers: for a reply to a workshop that runs a facilitator's
    own program, theirs (its id is theirs alone, so only the post can say whose); for
    any other, the library's. None for a note, or a practice no longer anywhere."""
    if not practice_id:
        return None
    post = session.get(WorkshopPost, post_id) if post_id is not None else None
    workshop = session.get(Workshop, post.workshop_id) if post is not None else None
    found = _practice(ctx, workshop, practice_id) if workshop is not None else None
    return found[0] if found else ctx.catalog.get(practice_id)


def handle(session: Session, ctx: Context, incoming: Incoming, args: str) -> Outcome:
    """`/workshop start|status|stop|pause|resume|skip` in a group. Only its administrators
    get here, and `/workshop` alone is answered with its help (both in `bot.core.commands`)."""
    sub, _, rest = args.strip().partition(" ")
    sub = sub.lower()
    assert incoming.chat_id is not None
    if sub == "status":
        return status(session, ctx, incoming)
    if sub == "start":
        return start(session, ctx, incoming, rest)
    changes = {"stop": stop, "pause": pause, "resume": resume, "skip": skip}
    if sub in changes:
        workshop = running(session, incoming.platform, incoming.chat_id, lock=True)
        if workshop is None:
            raise InputError("No workshop is running here. /workshop start begins one.")
        return changes[sub](session, ctx, workshop)
    raise InputError(f"“{sub}” isn't a workshop command. /help workshop lists them.")


def _looks_like_time(token: str) -> bool:
    return token[:1].isdigit() or token.lower() in {"noon", "midnight"}


def _named_program(
    ctx: Context, tokens: Sequence[str], own: Sequence[Program] = ()
) -> tuple[Program, int] | None:
    """The program the longest leading run of words names, with how many words it took."""
    for count in range(len(tokens), 0, -1):
        if found := find_program(ctx, " ".join(tokens[:count]), own):
            return found, count
    return None


def _unknown_name(tokens: Sequence[str], now: datetime) -> str:
    """The words meant as a program that names none: those before the time, or else
    before the time zone the line ends with."""
    end = next((i for i, token in enumerate(tokens) if _looks_like_time(token)), len(tokens))
    if end == len(tokens):
        end = next((i for i in range(end) if is_zone(" ".join(tokens[i:]), now)), end)
    return " ".join(tokens[:end])


def _unknown_program(ctx: Context, name: str, own: Sequence[Program] = ()) -> InputError:
    names = "; ".join(
        f"{p.title} ({p.id}, {len(p.days)} days)" for p in (*ctx.catalog.programs.values(), *own)
    )
    return InputError(f"I don't know the program “{name}”; the programs are: {names}.")


def _parse_start(ctx: Context, args: str, own: Sequence[Program] = ()) -> tuple[Program, time, str]:
    """`[program] [HH:MM] [time zone]`, each optional, in that order. The program is named
    by its id or its title, which may have spaces (`lighten up 19:00 Europe/London`)."""
    tokens, now = args.split(), ctx.clock.now()
    program = ctx.catalog.programs.get(DEFAULT_PROGRAM)
    if named := _named_program(ctx, tokens, own):
        program, tokens = named[0], tokens[named[1] :]
    elif name := _unknown_name(tokens, now):
        raise _unknown_program(ctx, name, own)
    if program is None:
        raise InputError("There are no workshop programs in this library yet.")
    at = time.fromisoformat(DEFAULT_TIME)
    if tokens and _looks_like_time(tokens[0]):
        at, tokens = parse_time(tokens[0]), tokens[1:]
    zone = parse_zone(" ".join(tokens), now) if tokens else DEFAULT_ZONE
    return program, at, zone


def start(session: Session, ctx: Context, incoming: Incoming, args: str) -> Outcome:
    """A new workshop. One whose days are all posted and only waits for its closing
    message does not stand in the way: its closing is posted now, before the new one."""
    assert incoming.chat_id is not None
    current = running(session, incoming.platform, incoming.chat_id, lock=True)
    mine = program_files.of_starter(session, incoming.platform, incoming.user_id)
    program, at, zone = _parse_start(ctx, args, [own.program for own in mine])
    outcome = Outcome()
    if current is not None:
        if not _only_closing_left(ctx, current):
            raise InputError(
                f"A workshop is already running here ({describe(session, ctx, current)}). "
                "Type /workshop stop first to start another."
            )
        _close(session, ctx, current)
        outcome.sends_queued = True
    workshop = Workshop(
        platform=incoming.platform,
        chat_id=incoming.chat_id,
        program_id=program.id,
        local_time=format_time(at),
        timezone=zone,
        started_by=incoming.user_id,
        created_at=ctx.clock.now(),
        next_day=1,
        custom_program_id=next((o.row_id for o in mine if o.program is program), None),
    )
    _reschedule(workshop, ctx.clock.now(), from_date=None)
    session.add(workshop)
    return outcome.say(
        f"The workshop “{program.title}” is on: {len(program.days)} days, one practice posted "
        f"here every day at {workshop.local_time} ({zone}), the first on "
        f"{_when(workshop, '%A %d %B')}.\n\n"
        "Each practice has a “Reply privately” button. Replies go to the bot alone: nobody "
        "in this chat sees them, the facilitator included, who sees only how many replied "
        "(/workshop status)."
    )


def stop(session: Session, ctx: Context, workshop: Workshop) -> Outcome:
    """Ends the workshop. If every day is posted already, the closing message is due
    anyway and goes now; a workshop stopped part way ends without one."""
    if _only_closing_left(ctx, workshop):
        _close(session, ctx, workshop)
        outcome = Outcome().say(
            "Every day has been posted, so the workshop ends now with its closing message."
        )
        outcome.sends_queued = True
        return outcome
    workshop.ended_at = ctx.clock.now()
    workshop.next_due_at = None
    return Outcome().say(
        "The workshop has stopped. Everyone's replies stay private to the people who wrote them."
    )


def pause(session: Session, ctx: Context, workshop: Workshop) -> Outcome:
    """Holds the workshop: nothing is posted until it is resumed."""
    if workshop.paused_at is not None:
        raise InputError(
            f"The workshop is already {_state(workshop)}. /workshop resume continues it."
        )
    workshop.paused_at, workshop.next_due_at = ctx.clock.now(), None
    return _for_the_chat(
        f"The workshop “{_title(ctx, workshop)}” is paused: nothing is posted here until an "
        "administrator types /workshop resume."
    )


def resume(session: Session, ctx: Context, workshop: Workshop) -> Outcome:
    """Continues at the workshop's time: today if it has not passed and today's post has
    not been made, otherwise tomorrow."""
    if workshop.paused_at is None:
        raise InputError("The workshop isn't paused. /workshop pause holds it.")
    now = ctx.clock.now()
    today = local_date(now, ZoneInfo(workshop.timezone))
    workshop.paused_at = None
    _reschedule(workshop, now, from_date=max(today, workshop.next_due_date or today))
    return _for_the_chat(
        f"The workshop “{_title(ctx, workshop)}” continues: {_next_up(ctx, workshop)}."
    )


def skip(session: Session, ctx: Context, workshop: Workshop) -> Outcome:
    """Moves past the next day without posting it; the day after comes at the time the
    skipped one would have."""
    program = program_of(ctx, workshop)
    if program is None or workshop.next_day > len(program.days):
        raise InputError(
            "Nothing is left to skip: every day of this workshop has been posted. Next: "
            f"{_next_up(ctx, workshop)}."
        )
    day = program.days[workshop.next_day - 1]
    now = ctx.clock.now()
    session.add(
        WorkshopPost(
            workshop_id=workshop.id,
            day_number=workshop.next_day,
            practice_date=workshop.next_due_date or local_date(now, ZoneInfo(workshop.timezone)),
            practice_id=day.practice,
            status=SKIPPED,
            due_at=now,
            attempts=0,
            kind=DAY,
        )
    )
    skipped = workshop.next_day
    workshop.next_day += 1
    return _for_the_chat(
        f"Day {skipped} of “{program.title}”, “{day.title}”, is skipped. Next: "
        f"{_next_up(ctx, workshop)}."
    )


def _for_the_chat(body: str) -> Outcome:
    """A change everyone in the chat should know of, said openly there."""
    outcome = Outcome().say(body)
    outcome.for_everyone = True
    return outcome


def _title(ctx: Context, workshop: Workshop) -> str:
    program = program_of(ctx, workshop)
    return program.title if program else workshop.program_id


def _only_closing_left(ctx: Context, workshop: Workshop) -> bool:
    program = program_of(ctx, workshop)
    return program is not None and workshop.next_day > len(program.days)


def _local(workshop: Workshop, instant: datetime, form: str) -> str:
    return f"{instant.astimezone(ZoneInfo(workshop.timezone)):{form}}"


def _when(workshop: Workshop, form: str = "%a %d %b at %H:%M") -> str:
    assert workshop.next_due_at is not None
    return _local(workshop, workshop.next_due_at, form)


def _next_up(ctx: Context, workshop: Workshop) -> str:
    """What the chat gets next, as the end of a sentence."""
    program = program_of(ctx, workshop)
    if workshop.ended_at is not None or program is None:
        return "nothing more: the workshop has ended"
    if workshop.next_day > len(program.days):
        thing = "the closing message"
    else:
        day = program.days[workshop.next_day - 1]
        thing = f"day {workshop.next_day} of {len(program.days)}, “{day.title}”"
    if workshop.paused_at is not None:
        return f"{thing}, once the workshop is resumed"
    return f"{thing}, on {_when(workshop)}"


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def tally(session: Session, workshop: Workshop) -> tuple[int, int]:
    """(days posted, days skipped) so far."""
    rows = session.execute(
        select(WorkshopPost.status, func.count())
        .where(WorkshopPost.workshop_id == workshop.id, WorkshopPost.kind == DAY)
        .group_by(WorkshopPost.status)
    ).all()
    posted = sum(count for state, count in rows if state not in NOT_POSTED)
    skipped = sum(count for state, count in rows if state == SKIPPED)
    return posted, skipped


def describe(session: Session, ctx: Context, workshop: Workshop) -> str:
    program = program_of(ctx, workshop)
    total = len(program.days) if program else "?"
    posted, skipped = tally(session, workshop)
    also = f", {skipped} skipped" if skipped else ""
    return f"“{_title(ctx, workshop)}”, {posted} of {total} days posted{also}"


def _state(workshop: Workshop) -> str:
    if workshop.ended_at is not None:
        return "ended"
    if workshop.paused_at is not None:
        return f"paused since {_local(workshop, workshop.paused_at, '%a %d %b')}"
    return "running"


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
            WorkshopPost.status,
            func.count(func.distinct(Reply.person_id)),
        )
        .outerjoin(Reply, Reply.workshop_post_id == WorkshopPost.id)
        .where(WorkshopPost.workshop_id == workshop.id, WorkshopPost.kind == DAY)
        .group_by(WorkshopPost.day_number, WorkshopPost.practice_date, WorkshopPost.status)
        .order_by(WorkshopPost.day_number)
    ).all()
    lines = [f"Workshop {describe(session, ctx, workshop)} ({_state(workshop)})."]
    if not rows:
        lines.append("Nothing posted yet.")
    for day, when, state, count in rows:
        shown = state if state == SKIPPED else "not posted" if state in NOT_POSTED else None
        lines.append(f"Day {day} ({when:%a %d %b}): {shown or _replied(count)}")
    if workshop.ended_at is None:
        lines.append(f"Next: {_next_up(ctx, workshop)}.")
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


def _close(session: Session, ctx: Context, workshop: Workshop) -> None:
    """Ends a workshop whose days are all done, writing its closing message to the outbox.

    The closing is due the day after the last day, at the workshop's time (the planner
    calls this then): the last day's practice has had its whole day for replies before
    they are counted, and the group hears at the hour it is used to, never at night.
    Its day number is the one after the last day done (a program its author shortened
    since included), so the unique (workshop, day) makes it exactly once; its counts are
    read when it is sent (`closing_text`).
    """
    program = program_of(ctx, workshop)
    assert program is not None
    now = ctx.clock.now()
    session.add(
        WorkshopPost(
            workshop_id=workshop.id,
            day_number=workshop.next_day,
            practice_date=local_date(now, ZoneInfo(workshop.timezone)),
            practice_id=program.days[-1].practice,
            status="pending",
            due_at=now,
            attempts=0,
            kind=CLOSING,
        )
    )
    workshop.ended_at, workshop.next_due_at = now, None


def plan_posts(session: Session, ctx: Context, platform: str, limit: int) -> tuple[int, int]:
    """Write the day's post (or, after the last day, the closing message) for up to
    `limit` workshops that are due; never two days at once.

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
        program = program_of(ctx, workshop)
        if program is None:
            _end_without_program(session, workshop, now)
            written += 1
            continue
        written += 1
        if workshop.next_day > len(program.days):
            _close(session, ctx, workshop)
            continue
        today = local_date(now, ZoneInfo(workshop.timezone))
        session.add(
            WorkshopPost(
                workshop_id=workshop.id,
                day_number=workshop.next_day,
                practice_date=today,
                practice_id=program.days[workshop.next_day - 1].practice,
                status="pending",
                due_at=now,
                attempts=0,
                kind=DAY,
            )
        )
        workshop.next_day += 1
        _reschedule(workshop, now, from_date=today + timedelta(days=1))
    return len(due), written


def _end_without_program(session: Session, workshop: Workshop, now: datetime) -> None:
    """Ends a workshop whose program is gone (its author deleted it, or was forgotten),
    with a sentence to the group, so it never just falls silent."""
    session.add(
        WorkshopPost(
            workshop_id=workshop.id,
            day_number=workshop.next_day,
            practice_date=local_date(now, ZoneInfo(workshop.timezone)),
            practice_id="",
            status="pending",
            due_at=now,
            attempts=0,
            kind=GONE,
        )
    )
    workshop.ended_at, workshop.next_due_at = now, None


def post_message(session: Session, ctx: Context, post: WorkshopPost, workshop: Workshop) -> Message:
    """What an outbox row of a workshop says: a day's practice, or the closing message."""
    if post.kind == CLOSING:
        return Text(closing_text(session, ctx, workshop))
    return post_card(ctx, post, workshop)


def closing_text(session: Session, ctx: Context, workshop: Workshop) -> str:
    """What the group did, in counts only: never a name, never a word anyone wrote."""
    posted, skipped = tally(session, workshop)
    people = session.scalar(
        select(func.count(func.distinct(Reply.person_id)))
        .join(WorkshopPost, WorkshopPost.id == Reply.workshop_post_id)
        .where(WorkshopPost.workshop_id == workshop.id)
    )
    return WORKSHOP_CLOSING.format(
        title=_title(ctx, workshop),
        posted=_days(posted),
        skipped=_days(skipped) if skipped else "none",
        replied=_replied(people or 0),
    )


def post_card(ctx: Context, post: WorkshopPost, workshop: Workshop) -> Message:
    program, found = program_of(ctx, workshop), _practice(ctx, workshop, post.practice_id)
    if program is None or found is None:
        return Text(PROGRAM_GONE.format(program=workshop.program_id))
    practice, source = found
    total = len(program.days)
    # A program its author replaced with a shorter one may no longer have this day.
    day_title = program.days[post.day_number - 1].title if post.day_number <= total else ""
    intro = f"{_title(ctx, workshop)} · day {post.day_number} of {total}: {day_title}"
    return PracticeCard(
        practice=practice,
        source=source,
        practice_date=post.practice_date,
        delivery_id=None,
        intro=intro,
        buttons=((Button("Reply privately", f"/reply ws-{post.id}"),),),
    )


def chat_recipient(workshop: Workshop) -> Recipient:
    return Recipient(workshop.platform, workshop.chat_id, is_chat=True)
