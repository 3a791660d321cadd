"""working the inbox

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-07 03:10:00.000000

Canned responses, conversation labels, the first close and the visitor's rating per
conversation, and the index reports read conversations by.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_canned_responses_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint(
            "account_id", "shortcut", name=op.f("uq_canned_responses_account_id_shortcut")
        ),
    )
    op.create_table(
        "conversation_labels",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_labels_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "label", name=op.f("pk_conversation_labels")),
    )
    with op.batch_alter_table("conversation_labels", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_labels_label", ["label", "conversation_id"])

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_closed_us", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("rating_score", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rating_us", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_conversations_created", ["account_id", "created_us"])

    # Closes before this release left no time behind: the last change is the best guess.
    op.execute("UPDATE conversations SET first_closed_us = updated_us WHERE status = 'closed'")


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_created")
        batch_op.drop_column("rating_us")
        batch_op.drop_column("rating_comment")
        batch_op.drop_column("rating_score")
        batch_op.drop_column("first_closed_us")

    with op.batch_alter_table("conversation_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_labels_label")

    op.drop_table("conversation_labels")
    op.drop_table("canned_responses")
