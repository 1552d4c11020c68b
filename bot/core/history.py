"""`/history`: a person's recent daily practices, to read one again, reply to it, or bring
back one they skipped.

It reaches back two weeks (`HISTORY_DAYS`), newest first, a week to a page: long enough to
come back to a practice missed on a busy week or a short trip, short enough that the list
is a handful of moments the person still remembers. Their replies to anything older stay in
/journal, and an older card's own Reply button keeps working. Workshop practices are not
here: they belong to their group's program.

Every button is a typed command (`/history reread #12`, `/reply #12`, `/history back #12`),
so it works on every platform and after a restart. A practice read again, or brought back,
comes into focus: the person's next message is a reply to it, as after /today.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import conversation
from bot.core.cleaning import small_number
from bot.core.context import Context
from bot.core.conversation import FocusKind
from bot.core.deliveries import SEEN, card_for, practice_buttons
from bot.core.messages import Button, Keyboard, Outcome
from bot.core.parsing import InputError
from bot.core.people import today_for
from db.models import Delivery, Person, Reply

HISTORY_DAYS = 14
PAGE_SIZE = 7  # a week of daily practices
_USAGE = (
    "Type /history for your practices of the last two weeks, or /history 2 for the week "
    "before; the buttons under it read one again, reply to it, or bring back one you skipped."
)


def history(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    """`/history [page]`, and what its buttons send: `reread #12`, `back #12`."""
    word, _, rest = " ".join(args.split()).partition(" ")
    if word.lower() == "reread":
        return reread(session, ctx, person, rest)
    if word.lower() == "back":
        return bring_back(session, ctx, person, rest)
    page = small_number(word or "1")
    if page is None:
        raise InputError(_USAGE)
    return listing(session, ctx, person, page)


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _oldest(ctx: Context, person: Person) -> date:
    return today_for(person, ctx) - timedelta(days=HISTORY_DAYS - 1)


def listing(session: Session, ctx: Context, person: Person, page: int) -> Outcome:
    rows = session.scalars(
        select(Delivery)
        .where(
            Delivery.person_id == person.id,
            Delivery.practice_date >= _oldest(ctx, person),
            SEEN,
        )
        .order_by(Delivery.practice_date.desc(), Delivery.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    if not rows:
        if page > 1:
            raise InputError(
                "There are no older practices in the last two weeks. /history shows the newest."
            )
        return Outcome().say(
            "You have had no practices in the last two weeks. /today gives you today's."
        )
    shown = rows[:PAGE_SIZE]
    answered = _replies_by_delivery(session, [d.id for d in shown])
    lines = ["Your practices of the last two weeks, newest first:"]
    buttons: list[tuple[Button, ...]] = []
    for delivery in shown:
        practice = ctx.catalog.get(delivery.practice_id)
        title = f"“{practice.title}”" if practice else "a practice no longer in the library"
        state = _state(delivery, *answered.get(delivery.id, (0, False)))
        lines.append(f"{_day(delivery.practice_date)} · {title} · {state}")
        if practice is not None:
            buttons.append(_buttons(delivery))
    newer = (Button("Newer", f"/history {page - 1}"),) if page > 1 else ()
    older = (Button("Older", f"/history {page + 1}"),) if len(rows) > PAGE_SIZE else ()
    if newer or older:
        buttons.append((*newer, *older))
    if older:
        lines.append(f"\nOlder ones: /history {page + 1}")
    return Outcome().say("\n".join(lines), tuple(buttons))


def _replies_by_delivery(session: Session, ids: list[int]) -> dict[int, tuple[int, bool]]:
    """(how many replies, whether one was shared) for each delivery that has replies."""
    rows = session.execute(
        select(Reply.delivery_id, func.count(), func.count(Reply.shared_at))
        .where(Reply.delivery_id.in_(ids))
        .group_by(Reply.delivery_id)
    ).all()
    return {row[0]: (row[1], row[2] > 0) for row in rows if row[0] is not None}


def _state(delivery: Delivery, replies: int, shared: bool) -> str:
    kept = "1 reply" if replies == 1 else f"{replies} replies"
    if delivery.status == "skipped":
        return f"skipped ({kept} kept)" if replies else "skipped"
    if shared:
        return "replied, shared with your partner"
    return "replied" if replies else "not answered yet"


def _buttons(delivery: Delivery) -> tuple[Button, ...]:
    """Labelled with the day, so each still says which practice it is when Discord turns
    a long list of buttons into a menu."""
    day, ref = _day(delivery.practice_date), f"#{delivery.id}"
    if delivery.status == "skipped":
        return (
            Button(f"Reread {day}", f"/history reread {ref}"),
            Button(f"Bring back {day}", f"/history back {ref}"),
        )
    return (
        Button(f"Reread {day}", f"/history reread {ref}"),
        Button(f"Reply {day}", f"/reply {ref}"),
    )


def _chosen(session: Session, ctx: Context, person: Person, args: str, verb: str) -> Delivery:
    """The practice a /history button names: the person's own, seen, and recent."""
    token = args.strip()
    if not token:
        raise InputError(
            f"Which practice? /history lists them with buttons; typed, it is /history {verb} "
            "#12, with the number its buttons carry."
        )
    number = small_number(token.removeprefix("#")) if token.startswith("#") else None
    if number is None:
        raise InputError(
            f"“{token[:40]}” doesn't name a practice. /history lists yours with buttons; "
            f"typed, it is /history {verb} #12."
        )
    delivery = session.scalar(
        select(Delivery).where(Delivery.id == number, Delivery.person_id == person.id, SEEN)
    )
    if delivery is None:
        raise InputError(
            f"I can't find practice #{number} among yours. /history lists your recent ones."
        )
    if delivery.practice_date < _oldest(ctx, person):
        raise InputError(
            f"Practice #{number} is from {delivery.practice_date:%A %d %B}, more than two weeks "
            "ago, so /history no longer offers it. Your replies to it stay in /journal."
        )
    return delivery


def _card_buttons(ctx: Context, person: Person, delivery: Delivery) -> Keyboard:
    return practice_buttons(
        delivery.id,
        today=delivery.practice_date == today_for(person, ctx),
        skipped=delivery.status == "skipped",
    )


def reread(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    """The card again, in focus: what the person writes next is a reply to it."""
    delivery = _chosen(session, ctx, person, args, "reread")
    skipped = " You skipped it; “Bring back” undoes that." if delivery.status == "skipped" else ""
    intro = f"Your practice of {delivery.practice_date:%A %d %B}, again.{skipped}"
    card = card_for(ctx, delivery, intro, _card_buttons(ctx, person, delivery))
    conversation.focus_on(person, FocusKind.DELIVERY, delivery.id, ctx.clock.now())
    outcome = Outcome()
    outcome.replies.append(card)
    return outcome


def bring_back(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    """Undo a skip: the practice is answerable again and no longer shows as skipped."""
    delivery = _chosen(session, ctx, person, args, "back")
    day = f"{delivery.practice_date:%A %d %B}"
    if delivery.status != "skipped":
        raise InputError(
            f"Your practice of {day} isn't skipped, so there's nothing to bring back. Its "
            "Reply button in /history answers it."
        )
    # Only a practice that reached the person is listed, so it goes back to sent.
    delivery.status = "sent"
    conversation.focus_on(person, FocusKind.DELIVERY, delivery.id, ctx.clock.now())
    practice = ctx.catalog.get(delivery.practice_id)
    title = f"“{practice.title}” " if practice else ""
    return Outcome().say(
        f"Brought back {title}of {day}: it is no longer skipped. What you write next is a "
        "reply to it.",
        ((Button("Read it again", f"/history reread #{delivery.id}"),),),
    )
