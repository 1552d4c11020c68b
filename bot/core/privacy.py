"""Export and forget: a person can take everything the bot holds, or erase it, any time."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.core import conversation
from bot.core.context import Context
from bot.core.conversation import Question
from bot.core.couples import end_couple, partner_of
from bot.core.crypto import owner_tag
from bot.core.messages import Button, Document, Keyboard, Outcome
from bot.core.parsing import format_days, mask_to_days
from bot.core.people import themes_of
from bot.core.replies import NO, YES
from db.models import Assignment, Delivery, Invite, Notice, Person, ReceivedShare, Reply


def export(session: Session, ctx: Context, person: Person) -> Outcome:
    partner = partner_of(session, person)
    tag = owner_tag(person.id)
    data: dict[str, Any] = {
        "exported_at": ctx.clock.now().isoformat(),
        "person": {
            "platform": person.platform,
            "platform_user_id": person.platform_user_id,
            "display_name": person.display_name,
            "joined_at": person.created_at.isoformat(),
        },
        "settings": {
            "time": person.local_time,
            "time_zone": person.timezone,
            "days": format_days(mask_to_days(person.weekdays)),
            "themes": [t.value for t in themes_of(person)],
            "theme_weights": person.theme_weights,
            "paused_until": person.paused_until.isoformat() if person.paused_until else None,
            "stopped": person.stopped,
        },
        "partner": {"display_name": partner.display_name} if partner else None,
        "deliveries": [
            {
                "practice_date": d.practice_date.isoformat(),
                "practice_id": d.practice_id,
                "status": d.status,
                "feedback": d.feedback,
            }
            for d in session.scalars(
                select(Delivery).where(Delivery.person_id == person.id).order_by(Delivery.id)
            )
        ],
        "replies": [
            {
                "number": r.number,
                "practice_id": r.practice_id,
                "written_at": r.created_at.isoformat(),
                "shared_at": r.shared_at.isoformat() if r.shared_at else None,
                "text": ctx.cipher.decrypt(r.ciphertext, owner=tag),
            }
            for r in session.scalars(
                select(Reply).where(Reply.person_id == person.id).order_by(Reply.number)
            )
        ],
        "shared_with_me": [
            {
                "from": s.from_name,
                "practice_id": s.practice_id,
                "shared_at": s.shared_at.isoformat(),
                "text": ctx.cipher.decrypt(s.ciphertext, owner=tag),
            }
            for s in session.scalars(
                select(ReceivedShare).where(ReceivedShare.recipient_id == person.id)
            )
        ],
    }
    day = ctx.clock.now().date().isoformat()
    outcome = Outcome()
    outcome.replies.append(
        Document(
            filename=f"wholehearted-export-{day}.json",
            data=json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"),
            caption="Everything the bot holds about you. Keep it somewhere safe: it holds "
            "your private replies.",
        )
    )
    return outcome


FORGET_BUTTONS: Keyboard = (
    (Button("Yes, delete everything", "/forget yes"), Button("Keep it", "/forget no")),
)


def handle_forget(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    """`/forget` asks; `/forget yes` (or yes to the question) deletes; no keeps everything."""
    answer = args.strip().lower()
    if answer in YES:
        return forget(session, ctx, person)
    if answer in NO:
        conversation.settle(person)
        return Outcome().say("Kept. Nothing was deleted.")
    conversation.ask(person, Question.FORGET, ctx.clock.now())
    return Outcome().say(
        "This deletes everything the bot holds about you: your replies, settings and delivery "
        "history, and ends any pairing. Replies you already shared stay with the partner you "
        "gave them to. It cannot be undone; /export first if you want a copy.\n\n"
        "Type yes to delete everything, or no to keep it.",
        FORGET_BUTTONS,
    )


def forget(session: Session, ctx: Context, person: Person) -> Outcome:
    outcome = Outcome()
    end_couple(session, ctx, person, outcome)
    session.execute(delete(Assignment).where(Assignment.owner_key == f"person:{person.id}"))
    for model in (Reply, Delivery, Invite, Notice):
        session.execute(delete(model).where(model.person_id == person.id))
    session.execute(delete(ReceivedShare).where(ReceivedShare.recipient_id == person.id))
    session.delete(person)
    return outcome.say(
        "Done: everything the bot held about you is deleted. If you ever want to come back, "
        "type /start."
    )
