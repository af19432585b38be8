"""project_invites (invite links), and events.ticket_id / events_archive.ticket_id (ticket timelines)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.adapters.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = hub.adapters.db.types.UTCDateTime(timezone=True)

#: The ticket of an existing `ticket.*` (payload.ticket.id) or `comment.*` (payload.ticket_id) event,
#: as `hub.domain.events.ticket_id_of` stores it for new ones.
_BACKFILL_PG = """
    UPDATE {table} SET ticket_id = CAST(CASE WHEN type LIKE 'comment.%' THEN payload ->> 'ticket_id'
                                              ELSE payload #>> '{{ticket,id}}' END AS integer)
    WHERE (type LIKE 'comment.%' AND payload ->> 'ticket_id' ~ '^[1-9][0-9]{{0,8}}$')
       OR (type LIKE 'ticket.%' AND payload #>> '{{ticket,id}}' ~ '^[1-9][0-9]{{0,8}}$')
"""
_BACKFILL_SQLITE = """
    UPDATE {table} SET ticket_id = CASE WHEN type LIKE 'comment.%' THEN json_extract(payload, '$.ticket_id')
                                        ELSE json_extract(payload, '$.ticket.id') END
    WHERE (type LIKE 'comment.%' AND typeof(json_extract(payload, '$.ticket_id')) = 'integer')
       OR (type LIKE 'ticket.%' AND typeof(json_extract(payload, '$.ticket.id')) = 'integer')
"""


def upgrade() -> None:
    op.create_table(
        "project_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.Column("last_used_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_invites_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_project_invites_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_project_invites_token_hash")),
    )
    op.create_index("ix_project_invites_project_id_id", "project_invites", ["project_id", "id"])
    op.create_index("ix_project_invites_created_by", "project_invites", ["created_by"])
    backfill = _BACKFILL_SQLITE if op.get_bind().dialect.name == "sqlite" else _BACKFILL_PG
    for table in ("events", "events_archive"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        op.execute(backfill.format(table=table))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_ticket_id_id", ["ticket_id", "id"], unique=False)


def downgrade() -> None:
    for table in ("events_archive", "events"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_ticket_id_id")
            batch_op.drop_column("ticket_id")
    op.drop_index("ix_project_invites_created_by", table_name="project_invites")
    op.drop_index("ix_project_invites_project_id_id", table_name="project_invites")
    op.drop_table("project_invites")
