"""email

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:53:55.558269

Email both ways (contract section 8): each conversation's email state (reply token, batched
notices), the threads for In-Reply-To, received Message-IDs (one message per Message-ID),
agents' notification switch, and what the visitor has seen (section 10).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_conversations",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("reply_token", sa.String(length=32), nullable=True),
        sa.Column("unanswered_due_us", sa.BigInteger(), nullable=True),
        sa.Column("notified_inbound_us", sa.BigInteger(), nullable=False),
        sa.Column("replies_due_us", sa.BigInteger(), nullable=True),
        sa.Column("emailed_reply_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_email_conversations_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_email_conversations")),
        sa.UniqueConstraint("reply_token", name=op.f("uq_email_conversations_reply_token")),
    )
    op.create_table(
        "email_threads",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("first_message_id", sa.String(length=255), nullable=False),
        sa.Column("last_message_id", sa.String(length=255), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_email_threads_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_threads")),
        sa.UniqueConstraint(
            "conversation_id", "recipient", name=op.f("uq_email_threads_conversation_id_recipient")
        ),
    )
    op.create_table(
        "inbound_emails",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id_header", sa.String(length=998), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_inbound_emails_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_inbound_emails_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_emails")),
        sa.UniqueConstraint(
            "conversation_id",
            "message_id_header",
            name=op.f("uq_inbound_emails_conversation_id_message_id_header"),
        ),
    )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_notifications", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitor_last_seen_us", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("visitor_last_seen_us")

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("email_notifications")

    op.drop_table("inbound_emails")
    op.drop_table("email_threads")
    op.drop_table("email_conversations")
