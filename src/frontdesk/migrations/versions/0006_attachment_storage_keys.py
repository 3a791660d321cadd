"""attachment storage keys indexed

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:30:00.000000

The orphan sweep (files/sweep.py) asks which of a batch of stored keys some attachment
names; without an index each batch would scan every attachment.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachments_storage_key"), ["storage_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_storage_key"))
