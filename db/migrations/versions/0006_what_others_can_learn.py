"""what others can learn: failed /join attempts counted, no note of where people were seen

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

`people.last_seen_in` kept the channel where someone last used a command, only so the bot
could post there that it could not reach them by DM; that post told the channel what the
bot is for. The note is now shown only to the person, at their next command, so the column
goes. `failed_joins` and `failed_joins_since` limit how many codes one person may guess.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("last_seen_in")
        batch_op.add_column(
            sa.Column("failed_joins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("failed_joins_since", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("failed_joins_since")
        batch_op.drop_column("failed_joins")
        batch_op.add_column(sa.Column("last_seen_in", sa.String(length=64), nullable=True))
