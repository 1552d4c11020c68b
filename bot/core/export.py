"""`/export`: everything the bot holds about a person, as JSON and as a journal to read.

The JSON (`schema_version` 1) has every column of every row that is about the person, in
readable form: times in their own zone with the offset, practices by title and question
as well as by id, invite codes as they were shown. Columns of `people` that no section
below names (a column added later) still come out under their own names, so the export
never silently misses one. The Markdown journal is the same replies, in order, to read.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import conversation
from bot.core.catalog import Practice
from bot.core.context import Context
from bot.core.conversation import FocusKind, Question
from bot.core.couples import display_code, owner_key, partner_of
from bot.core.crypto import owner_tag
from bot.core.messages import Document, Outcome
from bot.core.parsing import format_days, mask_to_days
from bot.core.people import (
    DEPTH_WORDS,
    PAUSED_INDEFINITELY,
    depth_limit_of,
    due_instant_today,
    lookback_words,
    themes_of,
    zone_of,
)
from bot.core.selection import steering_in_words
from bot.core.workshops import practice_named, program_of, tally
from db.models import (
    Assignment,
    Couple,
    CustomProgram,
    Delivery,
    Invite,
    Notice,
    Person,
    ReceivedShare,
    Reply,
    Workshop,
    WorkshopPost,
)

SCHEMA_VERSION = 1
# The columns of `people` the sections below show in readable form; any other column
# (one added later) is exported under its own name.
_PERSON_COLUMNS_SHOWN = frozenset(
    {
        "id",
        "platform",
        "platform_user_id",
        "display_name",
        "created_at",
        "consented_at",
        "onboarded_at",
        "local_time",
        "timezone",
        "weekdays",
        "themes",
        "theme_weights",
        "paused_until",
        "stopped",
        "unreachable",
        "conversation",
        "last_reply_number",
        "couple_id",
        "next_due_at",
        "next_due_date",
        "last_practice_date",
    }
)
_WAITING_FOR: dict[str, str] = {
    Question.CONSENT: "your agreement to the privacy and safety note",
    Question.TIME: "the time of day for your practice",
    Question.ZONE: "your time zone",
    Question.DAYS: "the days you want a practice",
    Question.THEMES: "the themes you want",
    Question.FORGET: "yes or no: delete everything the bot holds about you",
}


class _Reader:
    """Readable forms of stored values for one person: times in their zone, practices by
    title and question."""

    def __init__(self, ctx: Context, person: Person) -> None:
        self.ctx = ctx
        self.zone: ZoneInfo = zone_of(person)

    def when(self, moment: datetime | None) -> str | None:
        """An instant in the person's zone with its offset: 2026-11-23T07:00:00-05:00."""
        if moment is None:
            return None
        return moment.astimezone(self.zone).isoformat(timespec="seconds")

    def practice(self, practice_id: str | None) -> Practice | None:
        return self.ctx.catalog.get(practice_id) if practice_id else None

    def practice_fields(
        self, practice_id: str | None, found: Practice | None = None
    ) -> dict[str, Any]:
        """`found` when the caller knows the practice better than the library does (a
        facilitator's own, which only its workshop can name)."""
        found = found or self.practice(practice_id)
        return {
            "practice_id": practice_id or None,
            "practice_title": found.title if found else None,
            "practice_question": found.question if found else None,
        }

    def value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return self.when(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bytes):
            return f"{len(value)} encrypted bytes"
        return value


def export(session: Session, ctx: Context, person: Person) -> Outcome:
    """Two documents: the journal to read, then the complete JSON."""
    data = export_data(session, ctx, person)
    day = datetime.fromisoformat(data["exported_at"]).date().isoformat()
    outcome = Outcome()
    outcome.replies.append(
        Document(
            filename=f"wholehearted-journal-{day}.md",
            data=journal_markdown(data).encode("utf-8"),
            caption="Your journal: every reply you wrote, under its practice, to read.",
        )
    )
    outcome.replies.append(
        Document(
            filename=f"wholehearted-export-{day}.json",
            data=json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"),
            caption="Everything the bot holds about you. Keep it somewhere safe: it holds "
            "your private replies.",
        )
    )
    return outcome


def export_data(session: Session, ctx: Context, person: Person) -> dict[str, Any]:
    read = _Reader(ctx, person)
    tag = owner_tag(person.id)
    return {
        "schema_version": SCHEMA_VERSION,
        "exported_at": read.when(ctx.clock.now()),
        "time_zone": person.timezone,
        "about_times": "Every time is in your time zone, with its offset from UTC.",
        "person": _person(read, person),
        "settings": _settings(person),
        "pairing": _pairing(session, read, person),
        "invites_made": [
            {
                "code": display_code(invite.code),
                "made_at": read.when(invite.created_at),
                "expires_at": read.when(invite.expires_at),
                "used_at": read.when(invite.used_at),
            }
            for invite in session.scalars(
                select(Invite).where(Invite.person_id == person.id).order_by(Invite.id)
            )
        ],
        "workshops_started": _workshops(session, read, person),
        # Their own workshop programs, as they sent them (checked): the file can be sent again.
        "my_programs": [
            {"sent_at": read.when(row.created_at), **row.document}
            for row in session.scalars(
                select(CustomProgram)
                .where(CustomProgram.person_id == person.id)
                .order_by(CustomProgram.program_id)
            )
        ],
        "practice_calendar": [
            {"practice_date": a.practice_date.isoformat(), **read.practice_fields(a.practice_id)}
            for a in session.scalars(
                select(Assignment)
                .where(Assignment.owner_key == owner_key(person))
                .order_by(Assignment.practice_date)
            )
        ],
        "deliveries": [
            {
                "practice_date": d.practice_date.isoformat(),
                **read.practice_fields(d.practice_id),
                "planned_at": read.when(d.created_at),
                "due_at": read.when(d.due_at),
                "delivered_at": read.when(d.sent_at),
                "status": d.status,
                "attempts": d.attempts,
                "message_id": d.platform_message_id,
                "feedback": d.feedback,
            }
            for d in session.scalars(
                select(Delivery).where(Delivery.person_id == person.id).order_by(Delivery.id)
            )
        ],
        "replies": _replies(session, read, person),
        "shared_with_me": [
            {
                "from": s.from_name,
                **read.practice_fields(
                    s.practice_id,
                    practice_named(session, ctx, s.practice_id, s.workshop_post_id),
                ),
                "shared_at": read.when(s.shared_at),
                "text": ctx.cipher.decrypt(s.ciphertext, owner=tag),
            }
            for s in session.scalars(
                select(ReceivedShare)
                .where(ReceivedShare.recipient_id == person.id)
                .order_by(ReceivedShare.shared_at, ReceivedShare.id)
            )
        ],
        "messages_for_me": [
            {
                "made_at": read.when(n.created_at),
                "status": n.status,
                "sent_at": read.when(n.sent_at),
                # The text is erased once sent; until then it waits here, encrypted.
                "text": ctx.cipher.decrypt(n.ciphertext, owner=tag) if n.ciphertext else None,
            }
            for n in session.scalars(
                select(Notice).where(Notice.person_id == person.id).order_by(Notice.id)
            )
        ],
        "conversation": _conversation(session, read, person),
    }


def _person(read: _Reader, person: Person) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "platform": person.platform,
        "platform_user_id": person.platform_user_id,
        "display_name": person.display_name,
        "joined_at": read.when(person.created_at),
        "consented_at": read.when(person.consented_at),
        "onboarded_at": read.when(person.onboarded_at),
        "unreachable": person.unreachable,
        "stopped": person.stopped,
        "paused_until": _paused(person.paused_until),
        "next_practice_due_at": read.when(
            due_instant_today(person, person.next_due_date) if person.next_due_date else None
        ),
        "next_practice_date": _day(person.next_due_date),
        "last_practice_date": _day(person.last_practice_date),
        "replies_numbered_so_far": person.last_reply_number,
        "internal_id": person.id,
    }
    # Anything else stored on the person's row (the failed-code count, columns added
    # later), under its column name.
    for column in Person.__table__.columns:
        if column.key not in _PERSON_COLUMNS_SHOWN:
            shown[column.key] = read.value(getattr(person, column.key, None))
    return shown


def _paused(until: date | None) -> str | None:
    if until is None:
        return None
    return "until you /resume" if until == PAUSED_INDEFINITELY else until.isoformat()


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _settings(person: Person) -> dict[str, Any]:
    return {
        "time": person.local_time,
        "time_zone": person.timezone,
        "days": format_days(mask_to_days(person.weekdays)),
        "themes": [t.value for t in themes_of(person)],
        "theme_labels": [t.label for t in themes_of(person)],
        "theme_weights": person.theme_weights,
        "depth": DEPTH_WORDS[depth_limit_of(person)],
        "steering": steering_in_words(person.theme_weights) or "none",
        "weekly_lookback": lookback_words(person),
    }


def _pairing(session: Session, read: _Reader, person: Person) -> dict[str, Any] | None:
    if person.couple_id is None:
        return None
    partner = partner_of(session, person)
    couple = session.get(Couple, person.couple_id)
    return {
        "partner_display_name": partner.display_name if partner else None,
        "paired_since": read.when(couple.created_at) if couple else None,
    }


def _workshops(session: Session, read: _Reader, person: Person) -> list[dict[str, Any]]:
    found = session.scalars(
        select(Workshop)
        .where(
            Workshop.platform == person.platform,
            Workshop.started_by == person.platform_user_id,
        )
        .order_by(Workshop.id)
    )
    rows = []
    for workshop in found:
        program = program_of(read.ctx, workshop)
        posted, skipped = tally(session, workshop)
        rows.append(
            {
                "chat_id": workshop.chat_id,
                "program_id": workshop.program_id,
                "program_title": program.title if program else None,
                "time": workshop.local_time,
                "time_zone": workshop.timezone,
                "started_at": read.when(workshop.created_at),
                "state": _workshop_state(workshop),
                "ended_at": read.when(workshop.ended_at),
                "days_posted": posted,
                "days_skipped": skipped,
            }
        )
    return rows


def _workshop_state(workshop: Workshop) -> str:
    if workshop.ended_at is not None:
        return "ended"
    return "paused" if workshop.paused_at is not None else "running"


def _replies(session: Session, read: _Reader, person: Person) -> list[dict[str, Any]]:
    tag = owner_tag(person.id)
    rows = session.execute(
        select(Reply, Workshop, Delivery.practice_date)
        .outerjoin(Delivery, Delivery.id == Reply.delivery_id)
        .outerjoin(WorkshopPost, WorkshopPost.id == Reply.workshop_post_id)
        .outerjoin(Workshop, Workshop.id == WorkshopPost.workshop_id)
        .where(Reply.person_id == person.id)
        .order_by(Reply.number)
    ).all()
    replies = []
    for reply, workshop, practice_date in rows:
        program = program_of(read.ctx, workshop) if workshop is not None else None
        practice = practice_named(session, read.ctx, reply.practice_id, reply.workshop_post_id)
        kind = "workshop reply" if reply.workshop_post_id else "reply"
        replies.append(
            {
                "number": reply.number,
                "kind": kind if reply.practice_id else "note",
                **read.practice_fields(reply.practice_id, practice),
                # The day of the daily practice it answers, which may be days before it.
                "practice_date": practice_date.isoformat() if practice_date else None,
                "workshop": program.title if program else None,
                "written_at": read.when(reply.created_at),
                "shared_at": read.when(reply.shared_at),
                "got_the_safety_note": reply.flagged,
                "text": read.ctx.cipher.decrypt(reply.ciphertext, owner=tag),
            }
        )
    return replies


def _conversation(session: Session, read: _Reader, person: Person) -> dict[str, Any]:
    state = conversation.of(person)
    waiting_for = None
    if state.question is Question.DELETE:
        waiting_for = f"yes or no: delete reply #{state.about}"
    elif state.question is not None:
        waiting_for = _WAITING_FOR.get(state.question, f"your answer ({state.question.value})")
        if state.about is not None:
            waiting_for += f", about #{state.about}"
    in_focus = None
    if state.focus is not None and state.focus_id is not None:
        row: Delivery | WorkshopPost | None = (
            session.get(Delivery, state.focus_id)
            if state.focus is FocusKind.DELIVERY
            else session.get(WorkshopPost, state.focus_id)
        )
        in_focus = {
            "kind": state.focus.value,
            **read.practice_fields(row.practice_id if row else None),
            "since": read.when(state.focus_at),
        }
    return {
        "waiting_for": waiting_for,
        "asked_at": read.when(state.asked_at),
        "next_message_replies_to": in_focus,
        "stored_state": person.conversation,
    }


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def journal_markdown(data: dict[str, Any]) -> str:
    """The export's replies as a journal to read: each under its practice and question."""
    person = data["person"]
    lines = [
        f"# Wholehearted journal of {person['display_name']}",
        "",
        f"Exported {_readable(data['exported_at'])} ({data['time_zone']}). Only you have "
        "this file: keep it somewhere safe.",
    ]
    if not data["replies"]:
        lines += ["", "You have not written any replies yet."]
    for reply in data["replies"]:
        title = reply["practice_title"] or ("A note" if reply["kind"] == "note" else "A practice")
        lines += ["", f"## #{reply['number']} · {_readable(reply['written_at'])} · {title}"]
        if reply["workshop"]:
            lines += ["", f"*From the workshop “{reply['workshop']}”.*"]
        if reply["practice_date"] and not reply["written_at"].startswith(reply["practice_date"]):
            day = date.fromisoformat(reply["practice_date"])
            lines += ["", f"*A reply to the practice of {day:%A %d %B %Y}.*"]
        if reply["practice_question"]:
            lines += ["", _quote(reply["practice_question"])]
        lines += ["", reply["text"]]
        if reply["shared_at"]:
            lines += ["", f"*Shared on {_readable(reply['shared_at'])}.*"]
    if data["shared_with_me"]:
        lines += ["", "# Shared with you"]
        for share in data["shared_with_me"]:
            title = share["practice_title"] or "A note"
            lines += [
                "",
                f"## From {share['from']} · {_readable(share['shared_at'])} · {title}",
            ]
            if share["practice_question"]:
                lines += ["", _quote(share["practice_question"])]
            lines += ["", share["text"]]
    return "\n".join(lines) + "\n"


def _readable(stamp: str) -> str:
    """2026-11-23T07:05:00-05:00 → 23 Nov 2026, 07:05."""
    return f"{datetime.fromisoformat(stamp):%d %b %Y, %H:%M}"
