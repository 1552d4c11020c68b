"""Forget: a person can erase everything the bot holds about them, any time.

(`/export`, taking a copy of it all, is `bot.core.export`.)

What forget leaves, by design:

- Replies the person shared stay with the partner they were given to, under the name
  they had then (`received_shares.from_name`): a gift belongs to its recipient. So does
  the partner's unsent message delivering such a gift ("NAME shared a reply…").
- Any other unsent message to the partner that names the person ("NAME joined you") is
  dropped: the partner hears only "Your pairing has ended." (Messages already sent keep
  no text: the outbox erases it on sending.)
- A workshop the person started goes on for its group, with nobody recorded as its
  starter (`workshops.started_by` becomes `FORGOTTEN`). Its reply counts drop by their
  replies, which are deleted.

On SQLite every connection has `secure_delete` on, so deleted rows are overwritten in the
file, and after the forget commits the write-ahead log is checkpointed and truncated, so
no older copy of a page survives there either. PostgreSQL keeps dead rows on disk until
they are vacuumed (`wholehearted db vacuum`).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, delete, event, select, update
from sqlalchemy.orm import Session

from bot.core import conversation
from bot.core.context import Context
from bot.core.conversation import Question
from bot.core.couples import end_couple, partner_of
from bot.core.crypto import owner_tag
from bot.core.export import export
from bot.core.messages import Button, Keyboard, Outcome
from bot.core.replies import NO, YES
from bot.core.texts import SHARE_NOTE
from db.maintenance import checkpoint
from db.models import (
    Assignment,
    Delivery,
    Invite,
    Notice,
    Person,
    ReceivedShare,
    Reply,
    Workshop,
)

log = logging.getLogger(__name__)

__all__ = ["FORGET_BUTTONS", "FORGOTTEN", "export", "forget", "handle_forget"]

# What `workshops.started_by` holds once its starter is forgotten: nobody.
FORGOTTEN = ""


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
        "gave them to, under your name. It cannot be undone; /export first if you want a copy.\n\n"
        "Type yes to delete everything, or no to keep it.",
        FORGET_BUTTONS,
    )


def forget(session: Session, ctx: Context, person: Person) -> Outcome:
    """Delete the person and every row about them; see the module note for what stays."""
    outcome = Outcome()
    partner = partner_of(session, person)
    if partner is not None:
        _drop_unsent_news_of(session, ctx, person, partner)
    end_couple(session, ctx, person, outcome)
    session.execute(delete(Assignment).where(Assignment.owner_key == f"person:{person.id}"))
    for model in (Reply, Delivery, Invite, Notice):
        session.execute(delete(model).where(model.person_id == person.id))
    session.execute(delete(ReceivedShare).where(ReceivedShare.recipient_id == person.id))
    session.execute(
        update(Workshop)
        .where(
            Workshop.platform == person.platform,
            Workshop.started_by == person.platform_user_id,
        )
        .values(started_by=FORGOTTEN)
    )
    session.delete(person)
    if session.get_bind().dialect.name == "sqlite":
        engine = session.get_bind().engine
        event.listen(session, "after_commit", lambda _: _checkpoint(engine), once=True)
    return outcome.say(
        "Done: everything the bot held about you is deleted. If you ever want to come back, "
        "type /start."
    )


def _drop_unsent_news_of(session: Session, ctx: Context, person: Person, partner: Person) -> None:
    """The partner's unsent messages that name the person, except shared replies (gifts)."""
    tag = owner_tag(partner.id)
    unsent = session.scalars(
        select(Notice).where(Notice.person_id == partner.id, Notice.ciphertext != b"")
    )
    for notice in unsent:
        text = ctx.cipher.decrypt(notice.ciphertext, owner=tag)
        if text.startswith(f"{person.display_name} ") and SHARE_NOTE not in text:
            session.delete(notice)


def _checkpoint(engine: Engine) -> None:
    """After the commit: copy the overwritten pages into the file and empty the log."""
    try:
        checkpoint(engine)
    except Exception as error:  # the forget is done; only the log's old copies wait
        log.warning("the checkpoint after a forget failed: %s", type(error).__name__)
