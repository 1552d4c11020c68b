"""The tables. The schema itself is created only by the Alembic migrations in `db/migrations`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Meta(Base):
    """Small facts about the database itself, such as the check value of the reply key."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(512))


class Couple(Base):
    __tablename__ = "couples"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]


class Person(Base):
    """Someone who talks to the bot on one platform, with their delivery settings."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id"),
        # The planner's query: who on these platforms is due by now. Both columns, so a
        # tick that finds nobody due costs one index probe per platform at any size.
        Index("ix_people_platform_due", "platform", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    # When they agreed to the privacy and safety note, and when their daily practice was set
    # up (by answering the questions, or with defaults when they moved on by a command).
    consented_at: Mapped[datetime | None]
    onboarded_at: Mapped[datetime | None]
    local_time: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    weekdays: Mapped[int] = mapped_column(Integer)
    themes: Mapped[str] = mapped_column(String(128))
    theme_weights: Mapped[dict[str, Any]] = mapped_column(default=dict)
    paused_until: Mapped[date | None] = mapped_column(Date)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the bot is waiting for from this person (`bot.core.conversation.Conversation`).
    conversation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The number the person's latest reply got; numbers are never reused, even after a delete.
    last_reply_number: Mapped[int] = mapped_column(Integer, default=0)
    # Codes that did not work, counted from `failed_joins_since`: a person may guess only
    # a few (`bot.core.couples.JOIN_ATTEMPTS`) before waiting.
    failed_joins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_joins_since: Mapped[datetime | None]
    couple_id: Mapped[int | None] = mapped_column(
        ForeignKey("couples.id", ondelete="SET NULL"), index=True
    )
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    next_due_date: Mapped[date | None] = mapped_column(Date)
    last_practice_date: Mapped[date | None] = mapped_column(Date)
    # How deep practices may go: None as earned, "deeper" never brave, "gentle" gentle only.
    depth_limit: Mapped[str | None] = mapped_column(String(8))
    # The weekday (0 Monday) the weekly look-back comes, None when it is off (the default),
    # and the day the last one was written, so it comes once a week.
    lookback_weekday: Mapped[int | None] = mapped_column(Integer)
    lookback_sent_on: Mapped[date | None] = mapped_column(Date)


class Invite(Base):
    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Assignment(Base):
    """Which practice an owner (a couple, or a person alone) gets on a practice day.

    Both partners read the same row, so they get the same practice even when their local
    times are hours apart and two workers serve them.
    """

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("owner_key", "practice_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_key: Mapped[str] = mapped_column(String(40))
    practice_date: Mapped[date] = mapped_column(Date)
    practice_id: Mapped[str] = mapped_column(String(80))


class Outbox:
    """Columns shared by the outboxes: a row is written before its message is sent.

    `status` is pending, sending (leased by the sender, its request about to go or in
    flight), sent, skipped, expired (its day passed unsent), uncertain or failed; see
    `bot.core.outbox` for the rules that move a row between them.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # How many attempts ended without the platform saying whether the message arrived
    # (a timeout after the request went out, a 5xx, a crash mid-send): at most two.
    doubtful: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Parts of a message too long for one platform message that are already out.
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_at: Mapped[datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(String(64))


class Delivery(Outbox, Base):
    """A person's daily practice: one per recipient and practice day."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("person_id", "practice_date"),
        Index("ix_deliveries_status_due", "status", "due_at"),
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    practice_date: Mapped[date] = mapped_column(Date)
    practice_id: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    feedback: Mapped[str | None] = mapped_column(String(8))


class Reply(Base):
    """A private reply, or a note when `practice_id` is empty; `ciphertext` is the only place
    its text exists."""

    __tablename__ = "replies"
    __table_args__ = (UniqueConstraint("person_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True
    )
    workshop_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop_posts.id", ondelete="SET NULL"), index=True
    )
    practice_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_at: Mapped[datetime | None]


class ReceivedShare(Base):
    """A reply a partner chose to give; it belongs to its recipient from then on."""

    __tablename__ = "received_shares"
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    from_name: Mapped[str] = mapped_column(String(128))
    practice_id: Mapped[str] = mapped_column(String(80))
    # The workshop post the reply answered: only it can name a facilitator's own practice.
    workshop_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop_posts.id", name="fk_received_shares_post", ondelete="SET NULL")
    )
    shared_at: Mapped[datetime]
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class Workshop(Base):
    """A program running in one group chat or channel, posting one practice a day."""

    __tablename__ = "workshops"
    __table_args__ = (Index("ix_workshops_platform_due", "platform", "next_due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64), index=True)
    program_id: Mapped[str] = mapped_column(String(80))
    local_time: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    started_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    next_day: Mapped[int] = mapped_column(Integer, default=1)
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    next_due_date: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None]
    # Held by /workshop pause until /workshop resume; nothing is posted meanwhile.
    paused_at: Mapped[datetime | None]
    # The facilitator's own program this workshop runs, when it is not the library's.
    custom_program_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_programs.id", name="fk_workshops_custom_program", ondelete="SET NULL")
    )


class CustomProgram(Base):
    """A facilitator's own workshop program, sent to the bot as a YAML or JSON file and
    checked like the library's; it belongs to its author, so forgetting them removes it."""

    __tablename__ = "custom_programs"
    __table_args__ = (UniqueConstraint("person_id", "program_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(80))
    # The checked document: {"program": {...}, "practices": [...]}, as `content/` holds them.
    document: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime]


class WorkshopPost(Outbox, Base):
    """One day's practice posted in a workshop's chat; the outbox row for groups."""

    __tablename__ = "workshop_posts"
    __table_args__ = (
        UniqueConstraint("workshop_id", "day_number"),
        Index("ix_workshop_posts_status_due", "status", "due_at"),
    )
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), index=True
    )
    day_number: Mapped[int] = mapped_column(Integer)
    practice_date: Mapped[date] = mapped_column(Date)
    practice_id: Mapped[str] = mapped_column(String(80))
    # "day": the day's practice; "closing": the message after the last day.
    kind: Mapped[str] = mapped_column(String(8), default="day", server_default="day")


class Notice(Outbox, Base):
    """A message to one person caused by what another did: a shared reply, a pairing.

    It is stored before it is sent, like a practice, so a platform that is down or still
    starting delays it and never loses it. The text is encrypted for its recipient, and
    erased once it has been sent.
    """

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_status_due", "status", "due_at"),)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
