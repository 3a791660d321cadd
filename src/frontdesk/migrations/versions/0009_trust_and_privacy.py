"""trust and privacy

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 02:57:22.595771

Trust and privacy (contract section 9): each account's blocklist and the version that
tells instances their in-memory copy is current, the retention setting, the address of a
visitor's latest write (for "Block"), agents' TOTP secrets and hashed recovery codes, and
the audit log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocklist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_blocklist_entries_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocklist_entries")),
    )
    with op.batch_alter_table("blocklist_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_blocklist_entries_account", ["account_id", "kind", "value"], unique=False
        )

    op.create_table(
        "agent_totp",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_totp_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_totp")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("agent_name", sa.String(length=255), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_audit_events_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_audit_events_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_account", ["account_id", "id"], unique=False)

    op.create_table(
        "totp_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_us", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_totp_recovery_codes_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_recovery_codes")),
    )
    with op.batch_alter_table("totp_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_totp_recovery_codes_agent_id"), ["agent_id"], unique=False
        )

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("blocklist_version", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitor_address", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("visitor_address")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("blocklist_version")
        batch_op.drop_column("retention_days")

    with op.batch_alter_table("totp_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_totp_recovery_codes_agent_id"))

    op.drop_table("totp_recovery_codes")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_account")

    op.drop_table("audit_events")
    op.drop_table("agent_totp")
    with op.batch_alter_table("blocklist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_blocklist_entries_account")

    op.drop_table("blocklist_entries")
