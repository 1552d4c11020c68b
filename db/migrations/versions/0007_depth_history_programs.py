"""depth a couple and a facilitator would stay for: depth choice, weekly look-back,
paused workshops, closing posts, facilitators' own programs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

`people.depth_limit` caps how deep practices go (none: as earned; "deeper": never brave;
"gentle": gentle only). `people.lookback_weekday` is the day of the week the weekly
look-back comes (none: off, the default) and `lookback_sent_on` the last day one was
written, so it comes once a week. `workshops.paused_at` holds a workshop without ending
it; `workshop_posts.kind` tells a day's practice ("day") from the closing message
("closing"). `custom_programs` keeps a facilitator's own program as they sent it (checked
JSON), owned by their person row so forgetting them removes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("depth_limit", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("lookback_weekday", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lookback_sent_on", sa.Date(), nullable=True))
    op.create_table(
        "custom_programs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("program_id", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("person_id", "program_id"),
    )
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "custom_program_id",
                sa.Integer(),
                sa.ForeignKey(
                    "custom_programs.id",
                    name="fk_workshops_custom_program",
                    ondelete="SET NULL",
                ),
                nullable=True,
            )
        )
    with op.batch_alter_table("workshop_posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), nullable=False, server_default="day")
        )


def downgrade() -> None:
    with op.batch_alter_table("workshop_posts", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.drop_constraint("fk_workshops_custom_program", type_="foreignkey")
        batch_op.drop_column("custom_program_id")
        batch_op.drop_column("paused_at")
    op.drop_table("custom_programs")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("lookback_sent_on")
        batch_op.drop_column("lookback_weekday")
        batch_op.drop_column("depth_limit")
