"""a shared reply names its practice, even one of a facilitator's own programs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

`received_shares.workshop_post_id` is the workshop post the shared reply answered, as
`replies.workshop_post_id` is for the reply itself: a facilitator's own practice has an
id only its program knows, so only the post can name it in the partner's journal and
export.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("received_shares", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "workshop_post_id",
                sa.Integer(),
                sa.ForeignKey(
                    "workshop_posts.id", name="fk_received_shares_post", ondelete="SET NULL"
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("received_shares", schema=None) as batch_op:
        batch_op.drop_constraint("fk_received_shares_post", type_="foreignkey")
        batch_op.drop_column("workshop_post_id")
