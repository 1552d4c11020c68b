"""Pairing two people into a couple with a short, single-use invite code.

Codes avoid characters that look alike (0/O, 1/I/L, 5/S, 2/Z, 8/B) because people read
them off one screen and type them on another.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.core import notices
from bot.core.context import INVITE_LIFETIME, Context
from bot.core.messages import Outcome, Recipient
from bot.core.parsing import InputError
from bot.core.people import together_lines
from db.models import Assignment, Couple, Invite, Person

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
DEEP_LINK_PREFIX = "join-"


def recipient_of(person: Person) -> Recipient:
    return Recipient(person.platform, person.platform_user_id)


def partner_of(session: Session, person: Person) -> Person | None:
    if person.couple_id is None:
        return None
    return session.scalar(
        select(Person).where(Person.couple_id == person.couple_id, Person.id != person.id)
    )


def owner_key(person: Person) -> str:
    """Whose practice calendar a person follows: their couple's, or their own."""
    return f"couple:{person.couple_id}" if person.couple_id else f"person:{person.id}"


def normalize_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def display_code(code: str) -> str:
    return f"{code[:3]}-{code[3:]}"


def make_invite(session: Session, ctx: Context, person: Person) -> Outcome:
    partner = partner_of(session, person)
    if partner is not None:
        raise InputError(
            f"You're already paired with {partner.display_name}. Type /unpair first if you "
            "want to pair with someone else."
        )
    now = ctx.clock.now()
    session.execute(
        update(Invite)
        .where(Invite.person_id == person.id, Invite.used_at.is_(None))
        .values(expires_at=now)
    )
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Invite.id).where(Invite.code == code)) is None:
            break
    session.add(
        Invite(code=code, person_id=person.id, created_at=now, expires_at=now + INVITE_LIFETIME)
    )
    link_maker = ctx.deep_links.get(person.platform)
    link = (
        f"\n\nOr send them this link, which opens the bot and pairs you in one tap: "
        f"{link_maker(DEEP_LINK_PREFIX + code)}"
        if link_maker
        else ""
    )
    return Outcome().say(
        f"Your invite code is {display_code(code)}. Send it to your partner; they type "
        f"/join {display_code(code)} to pair with you. It works once and lasts 48 hours."
        f"{link}\n\n"
        "Once paired, you both get the same practice on the same day, each at your own "
        "time. What you write stays private unless you choose to /share it."
    )


# Codes that did not work, per person and window: enough for typos, far too few to guess
# one of 25**6 codes.
JOIN_ATTEMPTS = 5
JOIN_WINDOW = timedelta(hours=1)
# One sentence for every code that cannot pair: unknown, used, expired, or its maker
# already paired. Telling these apart would tell a code's holder about its maker.
CODE_DOES_NOT_WORK = (
    "That code doesn't work. Codes work once, for 48 hours, and look like K7P-3QX: check "
    "it, or ask your partner for a new one with /pair."
)


def join(session: Session, ctx: Context, person: Person, code_text: str) -> Outcome:
    code = normalize_code(code_text)
    if not code:
        raise InputError("Type the code your partner got from /pair, for example /join K7P-3QX.")
    if person.couple_id is not None:
        raise InputError("You're already paired. Type /unpair first to pair with someone else.")
    now = ctx.clock.now()
    if person.failed_joins_since is None or person.failed_joins_since <= now - JOIN_WINDOW:
        person.failed_joins, person.failed_joins_since = 0, now
    if person.failed_joins >= JOIN_ATTEMPTS:
        wait = person.failed_joins_since + JOIN_WINDOW - now
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        return Outcome().say(
            f"That's {JOIN_ATTEMPTS} codes that didn't work within an hour, so I'm not trying "
            f"more for now. Try again in {minutes} minute{'s' if minutes != 1 else ''}, with "
            "the code your partner reads out from /pair."
        )
    invite = session.scalar(select(Invite).where(Invite.code == code).with_for_update())
    if invite is not None and invite.person_id == person.id:
        raise InputError(
            "That's your own invite code. Send it to your partner so they can /join you."
        )
    inviter = (
        session.get(Person, invite.person_id, with_for_update=True) if invite is not None else None
    )
    if (
        invite is None
        or inviter is None
        or invite.used_at is not None
        or invite.expires_at <= now
        or inviter.couple_id is not None
    ):
        # Not an InputError: the count must be committed with the answer.
        person.failed_joins += 1
        return Outcome().say(CODE_DOES_NOT_WORK)
    person.failed_joins, person.failed_joins_since = 0, None
    couple = Couple(created_at=now)
    session.add(couple)
    session.flush()
    inviter.couple_id = couple.id
    person.couple_id = couple.id
    invite.used_at = now
    outcome = Outcome().say(
        f"You're paired with {inviter.display_name}. From now on you both get the same "
        "practice on the same day, each at your own time. Your replies stay private unless "
        "you /share one.\n\n" + together(person, inviter)
    )
    notices.queue(
        session,
        ctx,
        outcome,
        inviter,
        f"{person.display_name} joined you. From now on you both get the same practice on the "
        "same day, each at your own time.\n\n" + together(inviter, person),
    )
    return outcome


def together(person: Person, partner: Person) -> str:
    """Which themes (and depth) the couple gets and why, so nobody is surprised later."""
    return " ".join(together_lines(person, partner)) + " /settings shows and changes yours."


def end_couple(session: Session, ctx: Context, person: Person, outcome: Outcome) -> bool:
    """Dissolve the person's couple; the partner is told only that the pairing ended.

    False when the person was not paired.
    """
    if person.couple_id is None:
        return False
    couple_id = person.couple_id
    partner = partner_of(session, person)
    session.execute(update(Person).where(Person.couple_id == couple_id).values(couple_id=None))
    session.execute(delete(Assignment).where(Assignment.owner_key == f"couple:{couple_id}"))
    session.execute(delete(Couple).where(Couple.id == couple_id))
    person.couple_id = None
    if partner is not None:
        partner.couple_id = None
        notices.queue(session, ctx, outcome, partner, "Your pairing has ended.")
    return True


def unpair(session: Session, ctx: Context, person: Person) -> Outcome:
    outcome = Outcome()
    if not end_couple(session, ctx, person, outcome):
        raise InputError("You're not paired with anyone. /pair gives you an invite code.")
    return outcome.say(
        "The pairing has ended. Your partner is told only that. You'll keep getting your "
        "own daily practice."
    )
