"""availability

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:59:48.619750

Availability (contract section 7): the account's time zone, weekly hours, holidays, away
message and auto-assignment (with its round-robin cursor), and each agent's own
online/away switch. Existing rows get the contract's defaults.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

AWAY = "We're away right now. Leave a message and we'll get back to you by email."


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False)
        )
        batch_op.add_column(
            sa.Column("business_hours", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("holidays", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("away_message", sa.Text(), server_default=AWAY, nullable=True)
        )
        batch_op.add_column(
            sa.Column("auto_assign", sa.String(length=16), server_default="none", nullable=False)
        )
        batch_op.add_column(
            sa.Column("assign_cursor", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("availability", sa.String(length=8), server_default="online", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("availability")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("assign_cursor")
        batch_op.drop_column("auto_assign")
        batch_op.drop_column("away_message")
        batch_op.drop_column("holidays")
        batch_op.drop_column("business_hours")
        batch_op.drop_column("timezone")
