"""agent token lifetimes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 03:05:00.000000

Tokens made by /login expire and are told apart from the API tokens an admin made; every
token records (coarsely) when it was last used, for the Security page.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agent_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("from_login", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("expires_us", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("last_used_us", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_us")
        batch_op.drop_column("expires_us")
        batch_op.drop_column("from_login")
