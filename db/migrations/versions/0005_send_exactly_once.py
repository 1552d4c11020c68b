"""send exactly once: doubtful attempts, parts already sent, indexes for an idle tick

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

The outboxes lose their time lease (only the elected sender leases rows, and it takes
over what a dead one left) and gain `doubtful` and `parts_sent` (see `bot.core.outbox`).
The planners' queries get indexes on (platform, next_due_at).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OUTBOXES = ("deliveries", "workshop_posts", "notices")


def upgrade() -> None:
    for table in OUTBOXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("doubtful", sa.Integer(), nullable=False, server_default="0")
            )
            batch_op.add_column(
                sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0")
            )
            batch_op.drop_column("lease_until")
    op.create_index("ix_people_platform_due", "people", ["platform", "next_due_at"])
    op.create_index("ix_workshops_platform_due", "workshops", ["platform", "next_due_at"])


def downgrade() -> None:
    op.drop_index("ix_workshops_platform_due", table_name="workshops")
    op.drop_index("ix_people_platform_due", table_name="people")
    for table in OUTBOXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
            batch_op.drop_column("parts_sent")
            batch_op.drop_column("doubtful")
