"""report counts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:20:00.000000

What reports add up instead of counting messages: per conversation its public inbound and
outbound messages and the public replies of its first agent to reply, and per conversation
and any other agent that agent's public replies; counted here from the messages already
stored, kept by post_message from now on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("inbound_count", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("outbound_count", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "first_agent_replies", sa.Integer(), server_default=sa.text("0"), nullable=False
            )
        )
    op.create_table(
        "reply_counts",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_reply_counts_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_reply_counts_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "agent_id", name=op.f("pk_reply_counts")),
    )
    with op.batch_alter_table("reply_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_counts_agent_id"), ["agent_id"], unique=False)

    # One pass over the messages for each (UPDATE … FROM: SQLite 3.33 and later): a
    # correlated count per conversation took several times as long on PostgreSQL.
    op.execute(
        "UPDATE conversations SET inbound_count = counted.inbound,"
        " outbound_count = counted.outbound"
        " FROM (SELECT conversation_id,"
        " SUM(CASE WHEN direction = 'inbound' THEN 1 ELSE 0 END) AS inbound,"
        " SUM(CASE WHEN direction = 'outbound' THEN 1 ELSE 0 END) AS outbound"
        " FROM messages WHERE private = false GROUP BY conversation_id) AS counted"
        " WHERE conversations.id = counted.conversation_id"
    )
    replies = (
        "SELECT conversation_id, agent_id, COUNT(*) AS replies FROM messages"
        " WHERE direction = 'outbound' AND agent_id IS NOT NULL AND private = false"
        " GROUP BY conversation_id, agent_id"
    )
    op.execute(
        "UPDATE conversations SET first_agent_replies = counted.replies"
        f" FROM ({replies}) AS counted"
        " WHERE conversations.id = counted.conversation_id"
        " AND conversations.first_reply_agent_id = counted.agent_id"
    )
    op.execute(
        "INSERT INTO reply_counts (conversation_id, agent_id, replies)"
        " SELECT counted.conversation_id, counted.agent_id, counted.replies"
        f" FROM ({replies}) AS counted"
        " JOIN conversations c ON c.id = counted.conversation_id"
        " WHERE c.first_reply_agent_id IS NULL OR c.first_reply_agent_id != counted.agent_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("reply_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reply_counts_agent_id"))

    op.drop_table("reply_counts")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("first_agent_replies")
        batch_op.drop_column("outbound_count")
        batch_op.drop_column("inbound_count")
