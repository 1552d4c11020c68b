"""Private replies and notes, the journal, taking a reply back, and sharing one as a gift.

Whatever a person writes that is not a command or an answer to the bot's question is kept
here, exactly once: as a reply to the practice in focus, or as a note when there is none.
Reply text is decrypted only to show it to its author, or to hand the author's chosen
reply to their partner. It is never logged, and a reply that sounds like danger is passed
on only after its author has read the safety note and confirmed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.core import conversation, notices, workshops
from bot.core.cleaning import small_number
from bot.core.context import MAX_REPLY_CHARS, Context
from bot.core.conversation import FocusKind, Question
from bot.core.couples import partner_of
from bot.core.crisis import sounds_like_crisis
from bot.core.crypto import owner_tag
from bot.core.deliveries import RECENT_DAYS, latest_delivery, own_delivery, settle_snooze
from bot.core.messages import Button, Keyboard, Outcome, Text
from bot.core.parsing import InputError
from bot.core.people import today_for, zone_of
from bot.core.texts import CRISIS_REPLY, SHARE_NOTE
from db.models import Delivery, Person, ReceivedShare, Reply, Workshop, WorkshopPost

PAGE_SIZE = 10
UNDO_WINDOW = timedelta(minutes=10)
CALLBACK_BYTES = 64  # the longest button action any platform carries (Telegram's limit)

_ACKNOWLEDGEMENTS = frozenset(
    {
        "ok", "okay", "okey", "k", "kk", "thanks", "thank you", "thank u", "thanks a lot",
        "thx", "ty", "cheers", "cool", "nice", "great", "got it", "noted", "alright",
        "done", "will do",
    }
)  # fmt: skip
_DELIVERY_REF = re.compile(r"#([0-9]+)")
POST_REFERENCE = re.compile(r"ws-([0-9]+)")
_POST_LINE = re.compile(r"/(?:reply|start)(?:@\S*)?\s+ws-([0-9]+)(?:\s|$)", re.IGNORECASE)


class NotAMember(InputError):
    """A reply to a workshop post from someone the platform did not vouch for as a member
    of that post's chat: it is not counted there."""


def post_named(line: str) -> int | None:
    """The workshop post a line replies to (`/reply ws-7 …`, `/start ws-7`), if any."""
    match = _POST_LINE.match(line.strip())
    return small_number(match.group(1)) if match else None


def is_acknowledgement(text: str) -> bool:
    """ "ok", "thanks", 👍: a nod to the bot, not a reply to the practice."""
    folded = " ".join(text.lower().split()).strip("!.,:;)( ")
    if folded in _ACKNOWLEDGEMENTS:
        return True
    return len(text.encode()) <= 24 and not any(ch.isalnum() for ch in text)


@dataclass(frozen=True)
class Target:
    """The practice a reply goes to, and when it was put in front of the person."""

    kind: FocusKind
    row: Delivery | WorkshopPost
    shown_at: datetime

    @property
    def practice_id(self) -> str:
        return self.row.practice_id

    @property
    def reference(self) -> str:
        """How commands and buttons name it: `#12` or `ws-7`."""
        return f"#{self.row.id}" if self.kind is FocusKind.DELIVERY else f"ws-{self.row.id}"


def target(
    session: Session, ctx: Context, person: Person, reply_to_message_id: str | None = None
) -> Target | None:
    """Where free text goes: the practice message replied to, else the newest of the
    practice in focus and the latest practice delivered in the last days."""
    now = ctx.clock.now()
    if reply_to_message_id is not None:
        quoted = session.scalar(
            select(Delivery).where(
                Delivery.person_id == person.id,
                Delivery.platform_message_id == reply_to_message_id,
            )
        )
        if quoted is not None:
            return Target(FocusKind.DELIVERY, quoted, now)
    found: list[Target] = []
    state = conversation.of(person)
    recent = now - timedelta(days=RECENT_DAYS)
    if state.focus and state.focus_id and state.focus_at and state.focus_at >= recent:
        row = _focused_row(session, person, state.focus, state.focus_id)
        if row is not None:
            found.append(Target(state.focus, row, state.focus_at))
    latest = latest_delivery(session, ctx, person)
    if latest is not None:
        found.append(Target(FocusKind.DELIVERY, latest, latest.sent_at or latest.due_at))
    return max(found, key=lambda t: t.shown_at, default=None)


def _focused_row(
    session: Session, person: Person, kind: FocusKind, row_id: int
) -> Delivery | WorkshopPost | None:
    if kind is FocusKind.POST:
        return session.get(WorkshopPost, row_id)
    return own_delivery(session, person, row_id)


def keep_button(found: Target | None, text: str) -> Button | None:
    """A button that keeps `text` after all, when the bot decided not to."""
    if text.startswith(("#", "ws-")):
        return None  # it would read as a reference to a practice
    action = f"/reply {found.reference} {text}" if found else f"/reply {text}"
    if len(action.encode()) > CALLBACK_BYTES:
        return None
    return Button("Keep it in my journal", action)


def keep(
    session: Session, ctx: Context, person: Person, text: str, found: Target | None
) -> Outcome:
    """Free text that is nobody's answer: a reply, a note, or a nod that is not stored."""
    body = text.strip()
    if not body:
        return Outcome().say(
            "There was nothing in that message I could read, so nothing was saved."
        )
    if is_acknowledgement(body):
        button = keep_button(found, body)
        return Outcome().say(
            f"Thank you. I didn't keep “{body}” as a reply, since it reads like a quick "
            "acknowledgement." + (" Tap below if you'd like it in your journal." if button else ""),
            ((button,),) if button else (),
        )
    return save(session, ctx, person, body, found)


def save(
    session: Session, ctx: Context, person: Person, text: str, found: Target | None
) -> Outcome:
    """Store the text (in several parts when it is longer than one reply may be)."""
    body = text.strip()
    if not body:
        raise InputError("That reply is empty. Write a few words, then send them again.")
    pieces = parts_of(body, MAX_REPLY_CHARS)
    flags = [sounds_like_crisis(piece) for piece in pieces]
    numbers = [
        _store(session, ctx, person, piece, found, flagged)
        for piece, flagged in zip(pieces, flags, strict=True)
    ]
    flagged = any(flags)
    undo: Keyboard = ((Button("Undo", "/undo " + " ".join(map(str, numbers))),),)
    if flagged:
        return Outcome().say(CRISIS_REPLY, undo)
    listed = _numbers(numbers)
    parts = f", in {len(numbers)} parts," if len(numbers) > 1 else ""
    if found is None:
        return Outcome().say(
            f"There's no practice to attach this to, so I kept it as a private note in your "
            f"journal{parts} as {listed}. Only you can read it.",
            undo,
        )
    where = " Nobody in the group sees it." if found.kind is FocusKind.POST else ""
    named = _named(session, ctx, person, found)
    return Outcome().say(
        f"Saved privately{named}{parts} as {listed}. Only you can read it.{where}",
        undo,
    )


def _named(session: Session, ctx: Context, person: Person, found: Target) -> str:
    """` to “Title”`, with the practice's day when it is not today's: a reply to an older
    practice says which one it went to."""
    post_id = found.row.id if isinstance(found.row, WorkshopPost) else None
    practice = workshops.practice_named(session, ctx, found.practice_id, post_id)
    if practice is None:
        return ""
    row, day = found.row, ""
    if isinstance(row, Delivery) and row.practice_date != today_for(person, ctx):
        day = f" of {row.practice_date:%A %d %B}"
    return f" to “{practice.title}”{day}"


def parts_of(text: str, limit: int) -> list[str]:
    """Cut a reply into parts of about `limit` characters that, put back together, are
    exactly the text: at a line break where there is one, else a space, else anywhere.

    Every part holds some words; a run of blank space stays with the part before it.
    """
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        words_from = len(window) - len(window.lstrip())
        if words_from == len(window):  # only blank space here: it goes with the part before
            blank = len(rest) - len(rest.lstrip())
            parts[-1] += rest[:blank]
            rest = rest[blank:]
            continue
        cut = max(window.rfind("\n", words_from + 1), 0) or max(
            window.rfind(" ", words_from + 1), 0
        )
        cut = cut + 1 if cut else limit
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest.strip() or not parts:
        parts.append(rest)
    else:
        parts[-1] += rest
    return parts


def _numbers(numbers: list[int]) -> str:
    labels = [f"#{n}" for n in numbers]
    noun = "reply" if len(labels) == 1 else "replies"
    return (
        f"{noun} {', '.join(labels[:-1])} and {labels[-1]}"
        if len(labels) > 1
        else f"reply {labels[0]}"
    )


def _store(
    session: Session,
    ctx: Context,
    person: Person,
    body: str,
    found: Target | None,
    flagged: bool,
) -> int:
    # The counter is bumped in the database, so two replies at the same instant (Discord
    # handles events concurrently; two workers may share PostgreSQL) never get one number.
    number = session.execute(
        update(Person)
        .where(Person.id == person.id)
        .values(last_reply_number=Person.last_reply_number + 1)
        .returning(Person.last_reply_number)
    ).scalar_one()
    if found and isinstance(found.row, Delivery):
        settle_snooze(found.row)  # answered: the snoozed copy need not come back
    session.add(
        Reply(
            person_id=person.id,
            number=number,
            delivery_id=found.row.id if found and found.kind is FocusKind.DELIVERY else None,
            workshop_post_id=found.row.id if found and found.kind is FocusKind.POST else None,
            practice_id=found.practice_id if found else None,
            created_at=ctx.clock.now(),
            ciphertext=ctx.cipher.encrypt(body, owner=owner_tag(person.id)),
            flagged=flagged,
        )
    )
    return number


def split_reference(args: str) -> tuple[str, str]:
    """`#12 text` → ("#12", "text"); the text keeps its own line breaks."""
    match = re.match(r"(\S+)\s*(.*)", args.strip(), re.DOTALL)
    return (match.group(1), match.group(2)) if match else ("", "")


def referenced(
    session: Session, ctx: Context, person: Person, token: str, member_of: str | None
) -> Target | None:
    """The practice `#12` (a daily practice) or `ws-7` (a workshop post) names, if the
    token is such a reference at all; a reference to nothing raises a clear sentence, and
    so does a post in a chat the platform did not say the person is a member of."""
    now = ctx.clock.now()
    if (match := _DELIVERY_REF.fullmatch(token)) is not None:
        number = small_number(match.group(1))
        delivery = own_delivery(session, person, number) if number else None
        if delivery is None:
            raise InputError(
                "That practice is no longer in your history. /history lists your recent "
                "ones, and /today gives you today's."
            )
        return Target(FocusKind.DELIVERY, delivery, now)
    if (match := POST_REFERENCE.fullmatch(token)) is not None:
        number = small_number(match.group(1))
        post = session.get(WorkshopPost, number) if number else None
        # Only a day's practice the group received takes replies: not a skipped day, nor
        # the closing message.
        if post is None or post.kind != workshops.DAY or post.status == workshops.SKIPPED:
            raise InputError(
                "That workshop practice no longer exists, so there's nothing to reply to."
            )
        workshop = session.get(Workshop, post.workshop_id)
        assert workshop is not None
        if workshop.platform != person.platform or workshop.chat_id != member_of:
            raise NotAMember(
                "That practice belongs to a workshop group I couldn't confirm you're a member "
                "of, so I can't count a reply there. If you are in the group, tap “Reply "
                "privately” under the practice again."
            )
        return Target(FocusKind.POST, post, now)
    return None


def start_reply(
    session: Session, ctx: Context, person: Person, args: str, member_of: str | None
) -> Outcome:
    """`/reply`, a Reply button (`/reply #12`, `/reply ws-7`), or either with the text.

    Without text, the practice comes into focus and the next messages reply to it, whatever
    question was open; with text, it is saved at once. Text that does not start with a
    reference (`/reply #grateful for the walk`) is all reply.
    """
    token, rest = split_reference(args)
    try:
        chosen = referenced(session, ctx, person, token, member_of)
    except NotAMember as refusal:
        if not rest.strip():
            raise
        # Their words are kept all the same, as a note that no group counts.
        outcome = save(session, ctx, person, rest, None)
        outcome.replies.insert(0, Text(str(refusal)))
        return outcome
    text = rest if chosen is not None else args.strip()
    if chosen is None:
        chosen = target(session, ctx, person)
    if chosen is not None:
        # The practice a person names (a Reply button, a reply form) is the one their
        # next messages go to as well.
        conversation.focus_on(person, chosen.kind, chosen.row.id, ctx.clock.now())
    if text:
        return save(session, ctx, person, text, chosen)
    if chosen is None:
        return Outcome().say(
            "There's no practice to reply to yet. Anything you write now is kept as a private "
            "note in your journal; /today gives you today's practice."
        )
    name = _named(session, ctx, person, chosen)
    group = "; the workshop group never sees it" if chosen.kind is FocusKind.POST else ""
    # Someone replying from a workshop may never have seen the privacy note of /start.
    kept = (
        " It is kept encrypted; /export gives you a copy and /forget deletes everything."
        if person.consented_at is None
        else ""
    )
    return Outcome().say(
        f"Write your reply{name} in your next message. Only you will be able to read "
        f"it{group}.{kept}"
    )


def _reply_numbered(session: Session, person: Person, token: str, command: str) -> Reply:
    number = small_number(token.lstrip("#"))
    if number is None:
        raise InputError(f"Type /{command} NUMBER, for example /{command} 3; /journal shows them.")
    reply = session.scalar(
        select(Reply).where(Reply.person_id == person.id, Reply.number == number)
    )
    if reply is None:
        raise InputError(f"You have no reply #{number}. /journal shows their numbers.")
    return reply


def _latest_reply(session: Session, person: Person) -> Reply | None:
    return session.scalar(
        select(Reply).where(Reply.person_id == person.id).order_by(Reply.number.desc()).limit(1)
    )


def _removed(session: Session, person: Person, replies: list[Reply]) -> str:
    session.execute(delete(Reply).where(Reply.id.in_([r.id for r in replies])))
    labels = ", ".join(f"#{r.number}" for r in replies)
    sentence = f"Deleted {'reply' if len(replies) == 1 else 'replies'} {labels}."
    if any(r.shared_at for r in replies):
        partner = partner_of(session, person)
        who = partner.display_name if partner else "the partner you gave it to"
        sentence += f" The copy you shared stays with {who}: a gift, once given, is theirs."
    return sentence


def undo(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    """Take back what was just saved: the Undo button under a saved reply."""
    tokens = args.split()
    replies = [_reply_numbered(session, person, t, "undo") for t in tokens]
    if not replies:
        latest = _latest_reply(session, person)
        if latest is None:
            raise InputError("There's nothing to undo: you have no replies.")
        replies = [latest]
    too_old = [r for r in replies if r.created_at < ctx.clock.now() - UNDO_WINDOW]
    if too_old:
        number = too_old[0].number
        raise InputError(
            f"Reply #{number} was saved more than ten minutes ago, so Undo no longer applies. "
            f"/delete {number} deletes it (I'll ask you to confirm)."
        )
    return Outcome().say(_removed(session, person, replies))


def delete_reply(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    """`/delete 3` asks; `/delete 3 yes` (or yes to the question) deletes; no keeps it."""
    token, rest = split_reference(args)
    if not token:
        raise InputError("Which reply? /journal shows their numbers; then type /delete 3.")
    reply = _reply_numbered(session, person, token, "delete")
    answer = rest.strip().lower()
    if answer in YES:
        conversation.settle(person)
        return Outcome().say(_removed(session, person, [reply]))
    if answer in NO:
        conversation.settle(person)
        return Outcome().say(f"Kept reply #{reply.number}.")
    conversation.ask(person, Question.DELETE, ctx.clock.now(), about=reply.number)
    preview = ctx.cipher.decrypt(reply.ciphertext, owner=owner_tag(person.id))
    preview = preview if len(preview) <= 60 else preview[:57].rstrip() + "…"
    return Outcome().say(
        f"Delete reply #{reply.number} (“{preview}”)? This cannot be undone. "
        "Type yes to delete it, or no to keep it.",
        delete_buttons(reply.number),
    )


def share_buttons(number: int) -> Keyboard:
    return (
        (
            Button("Yes, share it", f"/share {number} yes"),
            Button("Keep it private", f"/share {number} no"),
        ),
    )


def delete_buttons(number: int) -> Keyboard:
    return (
        (
            Button(f"Yes, delete #{number}", f"/delete {number} yes"),
            Button("Keep it", f"/delete {number} no"),
        ),
    )


YES = frozenset({"yes", "y", "yes please", "yes, delete", "delete", "delete it", "confirm"})
NO = frozenset(
    {
        "no", "n", "nope", "no thanks", "cancel", "keep", "keep it", "don't", "dont",
        "never mind", "nevermind", "keep everything",
    }
)  # fmt: skip


def _local(when: datetime, person: Person) -> str:
    return f"{when.astimezone(zone_of(person)):%d %b %Y}"


def journal(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    page = small_number(args.strip() or "1")
    if page is None:
        raise InputError("Type /journal for the latest replies, or /journal 2 for older ones.")
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
        practice = workshops.practice_named(session, ctx, reply.practice_id, reply.workshop_post_id)
        title = practice.title if practice else (reply.practice_id or "a note")
        shared = " · shared" if reply.shared_at else ""
        text = ctx.cipher.decrypt(reply.ciphertext, owner=owner_tag(person.id))
        lines.append(f"\n#{reply.number} · {_local(reply.created_at, person)} · {title}{shared}")
        lines.append(text)
    if len(replies) > PAGE_SIZE:
        lines.append(f"\nOlder replies: /journal {page + 1}")
    if received:
        lines.append("\nShared with you:")
        for share in received:
            practice = workshops.practice_named(
                session, ctx, share.practice_id, share.workshop_post_id
            )
            title = practice.title if practice else (share.practice_id or "a note")
            text = ctx.cipher.decrypt(share.ciphertext, owner=owner_tag(person.id))
            lines.append(f"\nFrom {share.from_name} · {_local(share.shared_at, person)} · {title}")
            lines.append(text)
    buttons: Keyboard = ()
    if replies:
        lines.append("\nTo give one to your partner: /share NUMBER. To delete one: /delete NUMBER.")
        shown = [r.number for r in replies[:PAGE_SIZE]]
        buttons = tuple(
            tuple(Button(f"Delete #{n}", f"/delete {n}") for n in shown[i : i + 5])
            for i in range(0, len(shown), 5)
        )
    return Outcome().say("\n".join(lines), buttons)


def share(session: Session, ctx: Context, person: Person, args: str) -> Outcome:
    partner = partner_of(session, person)
    if partner is None:
        raise InputError(
            "You're not paired, so there's nobody to share with. /pair gives you an invite code."
        )
    token, answer = split_reference(args)
    if token:
        reply = _reply_numbered(session, person, token, "share")
    else:
        latest = _latest_reply(session, person)
        if latest is None:
            raise InputError("You have no replies yet. Write one after a practice first.")
        reply = latest
    if reply.shared_at is not None:
        raise InputError(
            f"You already shared reply #{reply.number} on {_local(reply.shared_at, person)}."
        )
    answer = answer.strip().lower()
    if answer in NO:
        conversation.settle(person)
        return Outcome().say(f"Kept reply #{reply.number} private.")
    if reply.flagged and answer not in YES:
        # It got the safety note: it goes only once its author has read that and says so.
        conversation.ask(person, Question.SHARE, ctx.clock.now(), about=reply.number)
        return Outcome().say(
            f"Reply #{reply.number} sounded like it may be about something hard or unsafe. "
            f"Before it goes to {partner.display_name}: share it only if it is safe for them "
            "to read it, and for you that they do. If you're not sure, keep it; /safety "
            "lists where to find help.\n\nType yes to share it, or no to keep it private.",
            share_buttons(reply.number),
        )
    conversation.settle(person)
    now = ctx.clock.now()
    text = ctx.cipher.decrypt(reply.ciphertext, owner=owner_tag(person.id))
    reply.shared_at = now
    session.add(
        ReceivedShare(
            recipient_id=partner.id,
            from_name=person.display_name,
            practice_id=reply.practice_id or "",
            workshop_post_id=reply.workshop_post_id,
            shared_at=now,
            ciphertext=ctx.cipher.encrypt(text, owner=owner_tag(partner.id)),
        )
    )
    practice = workshops.practice_named(session, ctx, reply.practice_id, reply.workshop_post_id)
    delivery = session.get(Delivery, reply.delivery_id) if reply.delivery_id else None
    # The partner had the same practice that day, so its day says which one it answers.
    day = f" (the practice of {delivery.practice_date:%A %d %B})" if delivery else ""
    about = f" about “{practice.title}”{day}" if practice else ""
    outcome = Outcome()
    notices.queue(
        session,
        ctx,
        outcome,
        partner,
        f"{person.display_name} shared a reply{about} with you:\n\n{text}\n\n{SHARE_NOTE}",
    )
    return outcome.say(
        f"Shared reply #{reply.number} with {partner.display_name}. It is on its way; nothing "
        "is expected back."
    )
