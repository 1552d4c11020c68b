"""Messages to one person caused by another's action, through the outbox like a practice.

A shared reply or "your partner joined you" is a row, written in the same transaction as
the action, before anyone is told it happened. The ticker sends it with the same claim,
retry and give-up rules as the daily practice, so a platform adapter that is still
starting, or a platform that is down, delays the message and never loses it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.crypto import owner_tag
from bot.core.messages import Outcome, Text
from db.models import Notice, Person


def queue(session: Session, ctx: Context, outcome: Outcome, to: Person, text: str) -> None:
    write(session, ctx, to, text)
    outcome.sends_queued = True


def write(session: Session, ctx: Context, to: Person, text: str) -> None:
    """The notice row alone, for the planner (the weekly look-back), whose sender runs on."""
    now = ctx.clock.now()
    session.add(
        Notice(
            person_id=to.id,
            created_at=now,
            ciphertext=ctx.cipher.encrypt(text, owner=owner_tag(to.id)),
            status="pending",
            due_at=now,
            attempts=0,
        )
    )


def message_of(ctx: Context, notice: Notice) -> Text:
    return Text(ctx.cipher.decrypt(notice.ciphertext, owner=owner_tag(notice.person_id)))
