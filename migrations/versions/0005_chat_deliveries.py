"""chat deliveries: the platform requests already taken (redelivery dedupe)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.adapters.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_deliveries",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("delivery_key", sa.String(length=255), nullable=False),
        sa.Column("received_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("platform", "delivery_key", name=op.f("pk_chat_deliveries")),
    )
    with op.batch_alter_table("chat_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_chat_deliveries_received_at", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_deliveries_received_at")

    op.drop_table("chat_deliveries")
