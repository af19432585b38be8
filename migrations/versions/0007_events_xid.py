"""events.xid: the writing transaction's id (PostgreSQL's xid8, as a bigint) for outbox readers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 15:00:00.000000

The writers fill it (`hub/adapters/db/outbox.py`); on PostgreSQL the column also defaults to the
current transaction's id, so a row written by any other statement records it too. SQLite leaves it
NULL (one writer at a time: ids commit in order there).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    default = None
    if op.get_bind().dialect.name == "postgresql":
        default = sa.text("CAST(CAST(pg_current_xact_id() AS text) AS bigint)")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("xid", sa.BigInteger(), server_default=default, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("xid")
