"""one conversation state, reply numbers that are never reused, notes, durable notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

`people.onboarding_step` and `people.awaiting` become one `people.conversation` (see
`bot.core.conversation`) plus the facts `consented_at` and `onboarded_at`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_people = sa.table(
    "people",
    sa.column("id", sa.Integer()),
    sa.column("created_at", sa.DateTime()),
    sa.column("onboarding_step", sa.String()),
    sa.column("awaiting", sa.String()),
    sa.column("consented_at", sa.DateTime()),
    sa.column("onboarded_at", sa.DateTime()),
    sa.column("conversation", sa.JSON()),
)


def _conversation(step: str | None, awaiting: str | None, since: Any) -> dict[str, Any]:
    state: dict[str, Any] = {}
    if step is not None:
        state.update(question=step, asked_at=since.isoformat() + "+00:00")
    kind, _, ident = (awaiting or "").partition(":")
    if kind == "forget":
        state.update(question="forget", asked_at=since.isoformat() + "+00:00")
    elif kind in {"reply", "ws"} and ident.isdigit():
        state.update(
            focus="delivery" if kind == "reply" else "post",
            focus_id=int(ident),
            focus_at=since.isoformat() + "+00:00",
        )
    return state


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consented_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("onboarded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("conversation", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(
            sa.Column("last_reply_number", sa.Integer(), nullable=False, server_default="0")
        )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_people.c.id, _people.c.created_at, _people.c.onboarding_step, _people.c.awaiting)
    ).all()
    for person_id, created_at, step, awaiting in rows:
        onboarded = step is None
        consented = step not in {"consent"}
        connection.execute(
            _people.update()
            .where(_people.c.id == person_id)
            .values(
                consented_at=created_at if consented else None,
                onboarded_at=created_at if onboarded else None,
                conversation=_conversation(step, awaiting, created_at),
            )
        )
    op.execute(
        "UPDATE people SET last_reply_number = COALESCE("
        "(SELECT MAX(number) FROM replies WHERE replies.person_id = people.id), 0)"
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("conversation", server_default=None)
        batch_op.alter_column("last_reply_number", server_default=None)
        batch_op.drop_column("onboarding_step")
        batch_op.drop_column("awaiting")
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.alter_column("practice_id", existing_type=sa.String(length=80), nullable=True)
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("platform_message_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_notices_status_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("notices")
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.alter_column("practice_id", existing_type=sa.String(length=80), nullable=False)
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("onboarding_step", sa.String(length=16), nullable=True))
        batch_op.drop_column("last_reply_number")
        batch_op.drop_column("conversation")
        batch_op.drop_column("onboarded_at")
        batch_op.drop_column("consented_at")
