"""chat subscription state: lifecycle (archived, removed, uninstalled), per-channel relay cursor and
backoff, mentions setting

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.adapters.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentions", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="active", nullable=False))
        batch_op.add_column(sa.Column("state_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("state_changed_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("retry_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_error", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_subscriptions", schema=None) as batch_op:
        for column in (
            "last_error",
            "retry_at",
            "failures",
            "position",
            "state_changed_at",
            "state_reason",
            "state",
            "mentions",
        ):
            batch_op.drop_column(column)
