"""Private replies, the journal, and sharing one reply as a gift.

Reply text is decrypted only to show it to its author, or to hand the author's chosen
reply to their partner. It is never logged, and a reply that sounds like danger is never
passed on.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.context import MAX_REPLY_CHARS, Context
from bot.core.couples import partner_of, recipient_of
from bot.core.deliveries import find_delivery, latest_delivery
from bot.core.messages import Notice, Outcome, Text
from bot.core.parsing import InputError
from bot.core.people import zone_of
from bot.core.texts import CRISIS_REPLY, SHARE_NOTE
from db.models import Delivery, Person, ReceivedShare, Reply, WorkshopPost

PAGE_SIZE = 10

_CRISIS = re.compile(
    r"\b(kill (myself|me)|suicid\w*|end (it all|my life)|want to die|self[- ]harm|"
    r"hurt(s|ing)? myself|(hits?|hitting|beats?|chokes?|choking) me|afraid of (him|her|them|"
    r"my partner)|scared of (him|her|them|my partner)|threaten\w* (me|to)|abus\w*|"
    r"not safe|unsafe at home|rape\w*)\b",
    re.IGNORECASE,
)


def sounds_like_crisis(text: str) -> bool:
    return _CRISIS.search(text) is not None


def owner_tag(person_id: int) -> str:
    return f"person:{person_id}"


def _check_text(text: str) -> str:
    body = text.strip()
    if not body:
        raise InputError("That reply is empty. Write a few words, then send them again.")
    if len(body) > MAX_REPLY_CHARS:
        raise InputError(
            f"That reply is {len(body):,} characters; the limit is {MAX_REPLY_CHARS:,}. "
            "Nothing was saved: split it into two messages and send them again."
        )
    return body


def _store(
    session: Session,
    ctx: Context,
    person: Person,
    body: str,
    *,
    practice_id: str,
    delivery: Delivery | None = None,
    post: WorkshopPost | None = None,
) -> Outcome:
    number = (
        session.scalar(select(func.max(Reply.number)).where(Reply.person_id == person.id)) or 0
    ) + 1
    flagged = sounds_like_crisis(body)
    session.add(
        Reply(
            person_id=person.id,
            number=number,
            delivery_id=delivery.id if delivery else None,
            workshop_post_id=post.id if post else None,
            practice_id=practice_id,
            created_at=ctx.clock.now(),
            ciphertext=ctx.cipher.encrypt(body, owner=owner_tag(person.id)),
            flagged=flagged,
        )
    )
    person.awaiting = None
    if flagged:
        return Outcome().say(CRISIS_REPLY)
    practice = ctx.catalog.get(practice_id)
    title = f" to “{practice.title}”" if practice else ""
    where = " Nobody in the group sees it." if post else ""
    return Outcome().say(f"Saved privately{title} as reply #{number}. Only you can read it.{where}")


def save_reply(
    session: Session, ctx: Context, person: Person, text: str, delivery: Delivery | None
) -> Outcome:
    body = _check_text(text)
    if delivery is None:
        delivery = latest_delivery(session, ctx, person)
    if delivery is None:
        raise InputError(
            "There's no practice to attach this to yet, so nothing was saved. "
            "Type /today to get one, then send your reply again."
        )
    return _store(session, ctx, person, body, practice_id=delivery.practice_id, delivery=delivery)


def workshop_post(session: Session, token: str) -> WorkshopPost:
    post_id = token.removeprefix("ws-")
    post = session.get(WorkshopPost, int(post_id)) if post_id.isdigit() else None
    if post is None:
        raise InputError("That workshop practice no longer exists, so there's nothing to reply to.")
    return post


def save_workshop_reply(
    session: Session, ctx: Context, person: Person, token: str, text: str
) -> Outcome:
    post = workshop_post(session, token)
    return _store(session, ctx, person, _check_text(text), practice_id=post.practice_id, post=post)


def start_reply(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    """Reply buttons and typed replies.

    `/reply #12` (a daily practice's button) or `/reply ws-7` (a workshop post's) waits for
    the next message; with text after the reference, or `/reply text` for the latest
    practice, the reply is saved at once.
    """
    reference, _, rest = args.strip().partition(" ")
    if reference.startswith("ws-"):
        if rest.strip():
            return save_workshop_reply(session, ctx, person, reference, rest)
        post = workshop_post(session, reference)
        person.awaiting = f"ws:{post.id}"
        practice = ctx.catalog.get(post.practice_id)
        name = f" to “{practice.title}”" if practice else ""
        return Outcome().say(
            f"Write your reply{name} in your next message. Only you will be able to read "
            "it; the workshop group never sees it."
        )
    if reference.startswith("#") or not reference:
        delivery = find_delivery(session, ctx, person, reference)
        if rest.strip():
            return save_reply(session, ctx, person, rest, delivery)
        person.awaiting = f"reply:{delivery.id}"
        practice = ctx.catalog.get(delivery.practice_id)
        name = f" to “{practice.title}”" if practice else ""
        return Outcome().say(
            f"Write your reply{name} in your next message. Only you will be able to read it."
        )
    return save_reply(session, ctx, person, args, None)


def awaited_reply(session: Session, ctx: Context, person: Person, text: str) -> Outcome | None:
    """Save `text` as the reply the person's last reply button asked for, if any."""
    kind, _, ident = (person.awaiting or "").partition(":")
    if kind == "ws":
        return save_workshop_reply(session, ctx, person, f"ws-{ident}", text)
    if kind == "reply":
        delivery = session.get(Delivery, int(ident))
        if delivery is not None and delivery.person_id == person.id:
            return save_reply(session, ctx, person, text, delivery)
    return None


def _local(when: datetime, person: Person) -> str:
    return f"{when.astimezone(zone_of(person)):%d %b %Y}"


def journal(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    try:
        page = int(args.strip() or "1")
    except ValueError:
        raise InputError(
            "Type /journal for the latest replies, or /journal 2 for older ones."
        ) from None
    if page < 1:
        raise InputError("Pages start at 1: type /journal or /journal 2.")
    replies = session.scalars(
        select(Reply)
        .where(Reply.person_id == person.id)
        .order_by(Reply.number.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    received = (
        session.scalars(
            select(ReceivedShare)
            .where(ReceivedShare.recipient_id == person.id)
            .order_by(ReceivedShare.shared_at.desc())
            .limit(5)
        ).all()
        if page == 1
        else []
    )
    if not replies and not received:
        if page > 1:
            return Outcome().say("There are no older replies.")
        return Outcome().say(
            "Your journal is empty. After a practice, just write your reply here; only you "
            "will see it."
        )
    lines = ["Your journal (only you can see this):"]
    for reply in replies[:PAGE_SIZE]:
        practice = ctx.catalog.get(reply.practice_id)
        title = practice.title if practice else reply.practice_id
        shared = " · shared" if reply.shared_at else ""
        text = ctx.cipher.decrypt(reply.ciphertext, owner=owner_tag(person.id))
        lines.append(f"\n#{reply.number} · {_local(reply.created_at, person)} · {title}{shared}")
        lines.append(text)
    if len(replies) > PAGE_SIZE:
        lines.append(f"\nOlder replies: /journal {page + 1}")
    if received:
        lines.append("\nShared with you:")
        for share in received:
            practice = ctx.catalog.get(share.practice_id)
            title = practice.title if practice else share.practice_id
            text = ctx.cipher.decrypt(share.ciphertext, owner=owner_tag(person.id))
            lines.append(f"\nFrom {share.from_name} · {_local(share.shared_at, person)} · {title}")
            lines.append(text)
    if page == 1 and replies:
        lines.append("\nTo give one to your partner: /share NUMBER.")
    return Outcome().say("\n".join(lines))


def share(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    partner = partner_of(session, person)
    if partner is None:
        raise InputError(
            "You're not paired, so there's nobody to share with. /pair gives you an invite code."
        )
    token = args.strip().lstrip("#")
    query = select(Reply).where(Reply.person_id == person.id)
    if token:
        if not token.isdigit():
            raise InputError("Type /share for your latest reply, or /share 3 for reply #3.")
        reply = session.scalar(query.where(Reply.number == int(token)))
        if reply is None:
            raise InputError(f"You have no reply #{token}. /journal shows their numbers.")
    else:
        reply = session.scalar(query.order_by(Reply.number.desc()).limit(1))
        if reply is None:
            raise InputError("You have no replies yet. Write one after a practice first.")
    if reply.flagged:
        raise InputError(
            "This reply sounded like something hard or unsafe, so I won't pass it on. If you "
            "want your partner to know, tell them yourself, when and where it is safe. "
            "/safety lists where to find help."
        )
    if reply.shared_at is not None:
        raise InputError(
            f"You already shared reply #{reply.number} on {_local(reply.shared_at, person)}."
        )
    now = ctx.clock.now()
    text = ctx.cipher.decrypt(reply.ciphertext, owner=owner_tag(person.id))
    reply.shared_at = now
    session.add(
        ReceivedShare(
            recipient_id=partner.id,
            from_name=person.display_name,
            practice_id=reply.practice_id,
            shared_at=now,
            ciphertext=ctx.cipher.encrypt(text, owner=owner_tag(partner.id)),
        )
    )
    practice = ctx.catalog.get(reply.practice_id)
    about = f" about “{practice.title}”" if practice else ""
    outcome = Outcome().say(
        f"Shared reply #{reply.number} with {partner.display_name}. Nothing is expected back."
    )
    outcome.notices.append(
        Notice(
            recipient_of(partner),
            Text(
                f"{person.display_name} shared a reply{about} with you:\n\n{text}\n\n{SHARE_NOTE}"
            ),
        )
    )
    return outcome
