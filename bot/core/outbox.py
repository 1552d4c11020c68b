"""The outboxes' rules: which row is sent next, and what each kind of failure does to it.

Every message the bot sends on its own (a daily practice, a workshop post, a notice) is a
row before it is a message. The sender leases one row just before its own request
(status `sending`), so a crash leaves at most the requests in flight in doubt, and
everything else goes out after a restart. Only the elected sender leases rows, so a row
still `sending` when a sender starts was left by one that died (`take_over_orphans`).

The rule for a send whose outcome is unknown (README, "Exactly once"): it is tried once
more; if that attempt ends unknown too, the row is `uncertain` and left alone. So a fault
costs at most one extra copy, and a failure that proves nothing arrived costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, func, literal_column, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnClause

from bot.core import notices, workshops
from bot.core.context import Context
from bot.core.couples import recipient_of
from bot.core.deliveries import card_for
from bot.core.messages import Message, Recipient
from bot.core.people import reschedule, today_for
from bot.core.schedule import local_date, local_instant
from db.models import Delivery, Notice, Outbox, Person, Workshop, WorkshopPost

log = logging.getLogger(__name__)

# A notice nobody could be reached for in a week is dropped, with its text.
NOTICE_LIFETIME = timedelta(days=7)
# Attempts whose outcome is unknown that a row may have: the second is its one extra copy.
MAX_DOUBTFUL = 2


class Failure(StrEnum):
    """What a failed send proves; see `bot.core.ports`."""

    NOT_DELIVERED = "not delivered"
    UNKNOWN = "unknown"
    REJECTED = "rejected"
    GONE = "gone"


@dataclass(frozen=True)
class Send:
    """One leased outbox row, ready for an adapter to send.

    `kind` says which outbox it came from: "delivery" (a person's daily practice), "post"
    (a workshop's practice in a group chat) or "notice" (a message caused by someone else).
    `key` is the same on every attempt at this row (Discord's nonce is made from it).
    `attempt` counts this row's attempts, this one included; `doubtful` how many earlier
    ones ended with an unknown outcome. `due_at` is when a practice was due (for how late
    it arrived, `bot.metrics`); None for a notice.
    """

    kind: str
    row_id: int
    to: Recipient
    message: Message
    first_part: int = 0
    key: str = ""
    attempt: int = 1
    doubtful: int = 0
    due_at: datetime | None = None

    @property
    def last_chance(self) -> bool:
        """Whether an unknown outcome now leaves the row `uncertain`, never sent again."""
        return self.doubtful + 1 >= MAX_DOUBTFUL


# Each outbox by kind, with who its rows go to (a person, or a workshop's chat) and the
# column that says which one.
_SOURCES: dict[str, tuple[type[Outbox], type[Person | Workshop], InstrumentedAttribute[int]]] = {
    "delivery": (Delivery, Person, Delivery.person_id),
    "post": (WorkshopPost, Workshop, WorkshopPost.workshop_id),
    "notice": (Notice, Person, Notice.person_id),
}
OUTBOXES: dict[str, type[Outbox]] = {kind: source[0] for kind, source in _SOURCES.items()}


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... up to a minute. An outage is the circuit breaker's business (it
    stops sending altogether), so a row's own wait stays short."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 60))


def claim(session: Session, ctx: Context, platform: str) -> Send | None:
    """Lease the row due first on `platform`, right before its request; None when none is.

    Rows whose day has passed are expired on the way (older days are never sent late).
    """
    now = ctx.clock.now()
    while True:
        found: list[tuple[Outbox, Person | Workshop]] = []
        for model, owner, owner_id in _SOURCES.values():
            found.extend(_next_due(session, model, owner, owner_id, platform, now))
        if not found:
            return None
        row, who = min(found, key=lambda pair: pair[0].due_at)
        if _expired(ctx, row, who, now):
            _close(row, "expired")
            continue
        row.status = "sending"
        row.attempts += 1
        return _send_for(session, ctx, row, who)


def _next_due(
    session: Session,
    model: type[Outbox],
    owner: type[Person | Workshop],
    owner_id: InstrumentedAttribute[int],
    platform: str,
    now: datetime,
) -> list[tuple[Outbox, Person | Workshop]]:
    """The first due row of one outbox, locked with SKIP LOCKED so concurrent claims
    (the sender's own, or a deploy's overlap) never take the same row."""
    rows = session.execute(
        select(model, owner)
        .join(owner, owner.id == owner_id)
        .where(model.status == "pending", model.due_at <= now, owner.platform == platform)
        .order_by(model.due_at)
        .limit(1)
        .with_for_update(skip_locked=True, of=model)
    ).all()
    return [(row, who) for row, who in rows]  # type: ignore[misc]  # owner is Person | Workshop


def _expired(ctx: Context, row: Outbox, who: Person | Workshop, now: datetime) -> bool:
    if isinstance(row, Delivery):
        assert isinstance(who, Person)
        return row.practice_date < today_for(who, ctx)
    if isinstance(row, WorkshopPost):
        assert isinstance(who, Workshop)
        return row.practice_date < local_date(now, ZoneInfo(who.timezone))
    assert isinstance(row, Notice)
    return row.created_at < now - NOTICE_LIFETIME


def _send_for(session: Session, ctx: Context, row: Outbox, who: Person | Workshop) -> Send:
    kind = next(k for k, model in OUTBOXES.items() if isinstance(row, model))
    # A snoozed practice is a second message from the same row: a key of its own.
    key = f"{kind[0]}{row.id}" + ("s" if row.sent_at is not None else "")
    if isinstance(row, Delivery):
        assert isinstance(who, Person)
        day = f"{row.practice_date:%A %d %B}"
        intro = (
            f"Snoozed practice, as promised · {day}:"
            if row.sent_at
            else f"Today's practice · {day}:"
        )
        message: Message = card_for(ctx, row, intro)
        to = recipient_of(who)
    elif isinstance(row, WorkshopPost):
        assert isinstance(who, Workshop)
        message = workshops.post_message(session, ctx, row, who)
        to = workshops.chat_recipient(who)
    else:
        assert isinstance(row, Notice) and isinstance(who, Person)
        message, to = notices.message_of(ctx, row), recipient_of(who)
    return Send(
        kind,
        row.id,
        to,
        message,
        first_part=row.parts_sent,
        key=key,
        attempt=row.attempts,
        doubtful=row.doubtful,
        due_at=_due_at(row, who),
    )


def _due_at(row: Outbox, who: Person | Workshop) -> datetime | None:
    """When a practice was due: the recipient's chosen local time on its day (or when it
    was planned, if that was earlier: the time was changed since), or the end of a snooze.
    None for a notice, which is due when it is caused."""
    if isinstance(row, Delivery):
        if row.sent_at is not None:  # snoozed: due when the snooze ends
            return row.due_at
        chosen = local_instant(row.practice_date, time.fromisoformat(who.local_time), _zone(who))
        return min(chosen, row.created_at)
    if isinstance(row, WorkshopPost):
        return local_instant(row.practice_date, time.fromisoformat(who.local_time), _zone(who))
    return None


def _zone(who: Person | Workshop) -> ZoneInfo:
    return ZoneInfo(who.timezone)


def take_over_orphans(session: Session, ctx: Context, platforms: Sequence[str]) -> int:
    """Rows on these platforms left `sending` by a sender that died: their request may or
    may not have arrived, so each counts one unknown outcome (resent once, or left
    `uncertain`)."""
    orphans = 0
    for kind, (model, owner, owner_id) in _SOURCES.items():
        rows = session.scalars(
            select(model)
            .join(owner, owner.id == owner_id)
            .where(model.status == "sending", owner.platform.in_(platforms))
        )
        for row in rows:
            _unknown(ctx, kind, row, timedelta(0))  # due at once: it was due already
            orphans += 1
    return orphans


def release(session: Session, kind: str, row_id: int) -> None:
    """A leased row whose request never started (a drain) goes back to pending."""
    row = session.get(OUTBOXES[kind], row_id)
    if row is not None and row.status == "sending":
        row.status, row.attempts = "pending", row.attempts - 1


def record_part(session: Session, kind: str, row_id: int, parts_sent: int) -> None:
    """Parts up to `parts_sent` of a long message are out; a retry starts after them."""
    session.execute(
        update(OUTBOXES[kind]).where(OUTBOXES[kind].id == row_id).values(parts_sent=parts_sent)
    )


def record_sent(
    session: Session, ctx: Context, kind: str, row_id: int, message_id: str | None
) -> None:
    row = session.get(OUTBOXES[kind], row_id)
    if row is None:
        return
    row.sent_at = ctx.clock.now()
    row.parts_sent = 0
    if message_id is not None:
        row.platform_message_id = message_id
    _close(row, "sent")


def record_failure(
    session: Session,
    ctx: Context,
    kind: str,
    row_id: int,
    failure: Failure,
    *,
    retry_after: float | None = None,
) -> None:
    row = session.get(OUTBOXES[kind], row_id)
    if row is None:
        return
    now = ctx.clock.now()
    if failure is Failure.GONE:
        _close(row, "failed")
        _stop_sending_to_owner(session, row, now)
    elif failure is Failure.REJECTED:
        _close(row, "failed")
        log.warning("%s %s was refused by the platform for good; not retrying", kind, row.id)
    elif failure is Failure.UNKNOWN:
        _unknown(ctx, kind, row, backoff(row.attempts))
    else:
        wait = backoff(row.attempts)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        row.status, row.due_at = "pending", now + wait


def _unknown(ctx: Context, kind: str, row: Outbox, wait: timedelta) -> None:
    row.doubtful += 1
    if row.doubtful >= MAX_DOUBTFUL:
        _close(row, "uncertain")
        log.warning("%s %s: outcome unknown twice; not sending it again", kind, row.id)
        return
    row.status, row.due_at = "pending", ctx.clock.now() + wait


def _stop_sending_to_owner(session: Session, row: Outbox, now: datetime) -> None:
    if isinstance(row, WorkshopPost):
        workshop = session.get(Workshop, row.workshop_id)
        if workshop is not None and workshop.ended_at is None:
            workshop.ended_at, workshop.next_due_at = now, None
            log.info("workshop %s can no longer post in its chat; ended", workshop.id)
        return
    assert isinstance(row, Delivery | Notice)
    person = session.get(Person, row.person_id)
    if person is not None and not person.unreachable:
        person.unreachable = True
        reschedule(person, now)
        log.info("person %s cannot be reached; not sending until they write again", person.id)


def _close(row: Outbox, status: str) -> None:
    """A row is done with; a notice's text goes, since no copy is kept that need not be
    (a shared reply stays in the recipient's journal)."""
    row.status = status
    if isinstance(row, Notice):
        row.ciphertext = b""


@lru_cache(maxsize=16)
def _earliest_statement(platforms: tuple[str, ...]) -> Executable:
    """The earliest instant someone on these platforms is due, and the earliest pending
    outbox row for them. No part is bounded by the time: each walks an index in order and
    stops at its first entry (for an outbox, the first pending row on these platforms),
    so a prepared statement's generic plan stays as cheap as a fresh one (a `<= now`
    bound would not), and the statement is built once."""
    plan = [
        select(func.min(owner.next_due_at)).where(owner.platform == platform).scalar_subquery()
        for owner in (Person, Workshop)
        for platform in platforms
    ]
    # `pending` written into the statement: a generic plan then still knows how few rows
    # it is (most rows are sent), and reads them through the (status, due_at) index.
    pending: ColumnClause[str] = literal_column("'pending'")
    send = [
        select(model.due_at)
        .join(owner, owner.id == owner_id)
        .where(model.status == pending, owner.platform.in_(platforms))
        .order_by(model.due_at)
        .limit(1)
        .scalar_subquery()
        for model, owner, owner_id in _SOURCES.values()
    ]
    return select(*plan, *send)


def earliest(session: Session, platforms: Sequence[str]) -> tuple[datetime | None, datetime | None]:
    """(when someone is next due to be planned, when an outbox row is next due)."""
    row = session.execute(_earliest_statement(tuple(platforms))).one()
    split = 2 * len(platforms)
    return _first(row[:split]), _first(row[split:])


def _first(instants: Sequence[datetime | None]) -> datetime | None:
    found = [instant for instant in instants if instant is not None]
    return min(found) if found else None


def due(session: Session, platforms: Sequence[str], now: datetime) -> tuple[bool, bool]:
    """(someone to plan, a row to send), in one read: what an idle tick costs, whatever
    the number of people."""
    plan_at, send_at = earliest(session, platforms)
    return plan_at is not None and plan_at <= now, send_at is not None and send_at <= now


def depth(session: Session, platforms: Sequence[str], now: datetime) -> dict[str, int]:
    """Rows due by now and not sent yet (pending, or in flight), per platform: the backlog
    an operator watches (`bot.metrics`). Snoozed and retried rows count once they are due."""
    counts = dict.fromkeys(platforms, 0)
    for model, owner, owner_id in _SOURCES.values():
        rows = session.execute(
            select(owner.platform, func.count())
            .select_from(model)
            .join(owner, owner.id == owner_id)
            .where(
                model.status.in_(("pending", "sending")),
                model.due_at <= now,
                owner.platform.in_(platforms),
            )
            .group_by(owner.platform)
        )
        for platform, count in rows:
            counts[platform] += count
    return counts


def next_wakeup(session: Session, platforms: Sequence[str]) -> datetime | None:
    """The earliest instant anything is due; the terminal's /next-day jumps to it."""
    return _first(earliest(session, platforms))
