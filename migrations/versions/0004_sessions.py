"""sessions: revocable login sessions and deactivated users

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 07:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.adapters.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deactivated_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("tokens_valid_after", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("replayed_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=True)
        )

    # Every existing refresh-token family becomes a session, so logins made before the upgrade keep
    # refreshing (their new access tokens carry the family as `sid`). A family with any revoked token
    # was revoked as a whole (`_revoke_family` revokes every token of it at once).
    op.execute(
        "INSERT INTO sessions (id, user_id, created_at, revoked_at) "
        "SELECT family_id, MIN(user_id), MIN(created_at), MAX(revoked_at) "
        "FROM refresh_tokens GROUP BY family_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_column("replayed_at")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("tokens_valid_after")
        batch_op.drop_column("deactivated_at")

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_user_id"))

    op.drop_table("sessions")
