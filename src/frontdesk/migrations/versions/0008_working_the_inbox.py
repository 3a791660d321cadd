"""working the inbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:10:00.000000

Canned responses, conversation labels; per conversation its first inbound message, first
agent reply, first close and the visitor's rating, and the index reports read them by.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
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
        batch_op.add_column(sa.Column("first_inbound_us", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("first_reply_us", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("first_reply_agent_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_conversations_first_reply_agent_id_agents"),
            "agents",
            ["first_reply_agent_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.add_column(sa.Column("first_closed_us", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("rating_score", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rating_us", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_conversations_created", ["account_id", "created_us"])

    # What reports read per conversation, from the messages already there.
    first_reply = (
        "FROM messages m WHERE m.conversation_id = conversations.id"
        " AND m.direction = 'outbound' AND m.agent_id IS NOT NULL AND m.private = false"
        " ORDER BY m.created_us LIMIT 1"
    )
    op.execute(
        "UPDATE conversations SET"
        " first_inbound_us = (SELECT MIN(m.created_us) FROM messages m"
        " WHERE m.conversation_id = conversations.id AND m.direction = 'inbound'),"
        f" first_reply_us = (SELECT m.created_us {first_reply}),"
        f" first_reply_agent_id = (SELECT m.agent_id {first_reply})"
    )
    # Closes before this release left no time behind: the last change is the best guess.
    op.execute("UPDATE conversations SET first_closed_us = updated_us WHERE status = 'closed'")


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_created")
        batch_op.drop_column("rating_us")
        batch_op.drop_column("rating_comment")
        batch_op.drop_column("rating_score")
        batch_op.drop_column("first_closed_us")
        batch_op.drop_constraint(
            batch_op.f("fk_conversations_first_reply_agent_id_agents"), type_="foreignkey"
        )
        batch_op.drop_column("first_reply_agent_id")
        batch_op.drop_column("first_reply_us")
        batch_op.drop_column("first_inbound_us")

    with op.batch_alter_table("conversation_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_labels_label")

    op.drop_table("conversation_labels")
    op.drop_table("canned_responses")
