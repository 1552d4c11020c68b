"""workshops

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workshops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("program_id", sa.String(length=80), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_day", sa.Integer(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(), nullable=True),
        sa.Column("next_due_date", sa.Date(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshops_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workshops_next_due_at"), ["next_due_at"], unique=False)

    op.create_table(
        "workshop_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("day_number", sa.Integer(), nullable=False),
        sa.Column("practice_date", sa.Date(), nullable=False),
        sa.Column("practice_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("platform_message_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workshop_id", "day_number"),
    )
    with op.batch_alter_table("workshop_posts", schema=None) as batch_op:
        batch_op.create_index("ix_workshop_posts_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_workshop_posts_workshop_id"), ["workshop_id"], unique=False
        )

    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workshop_post_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_replies_workshop_post_id"), ["workshop_post_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_replies_workshop_post_id",
            "workshop_posts",
            ["workshop_post_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_constraint("fk_replies_workshop_post_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_replies_workshop_post_id"))
        batch_op.drop_column("workshop_post_id")

    with op.batch_alter_table("workshop_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workshop_posts_workshop_id"))
        batch_op.drop_index("ix_workshop_posts_status_due")

    op.drop_table("workshop_posts")
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workshops_next_due_at"))
        batch_op.drop_index(batch_op.f("ix_workshops_chat_id"))

    op.drop_table("workshops")
