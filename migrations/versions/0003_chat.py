"""chat: identities, link codes, subscriptions, message maps, slack oauth

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:16:49.657556
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.adapters.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "chat_comment_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("from_chat", sa.Boolean(), nullable=False),
        sa.Column("created_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_comment_messages")),
        sa.UniqueConstraint(
            "platform",
            "team_id",
            "channel_id",
            "comment_id",
            name=op.f("uq_chat_comment_messages_platform_team_id_channel_id_comment_id"),
        ),
    )
    with op.batch_alter_table("chat_comment_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chat_comment_messages_platform_channel_id_message_id",
            ["platform", "channel_id", "message_id"],
            unique=False,
        )

    op.create_table(
        "chat_ticket_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("pending_event_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_ticket_messages")),
        sa.UniqueConstraint(
            "platform",
            "team_id",
            "channel_id",
            "ticket_id",
            name=op.f("uq_chat_ticket_messages_platform_team_id_channel_id_ticket_id"),
        ),
    )
    with op.batch_alter_table("chat_ticket_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chat_ticket_messages_platform_channel_id_thread_id",
            ["platform", "channel_id", "thread_id"],
            unique=False,
        )
        batch_op.create_index("ix_chat_ticket_messages_ticket_id", ["ticket_id"], unique=False)

    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        sa.Column("bot_token", sa.String(length=200), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=True),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("bot_scopes", sa.String(length=1000), nullable=True),
        sa.Column("bot_refresh_token", sa.String(length=200), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_bots")),
    )
    with op.batch_alter_table("slack_bots", schema=None) as batch_op:
        batch_op.create_index(
            "slack_bots_idx", ["client_id", "enterprise_id", "team_id", "installed_at"], unique=False
        )

    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("enterprise_url", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        sa.Column("bot_token", sa.String(length=200), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=True),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("bot_scopes", sa.String(length=1000), nullable=True),
        sa.Column("bot_refresh_token", sa.String(length=200), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("user_token", sa.String(length=200), nullable=True),
        sa.Column("user_scopes", sa.String(length=1000), nullable=True),
        sa.Column("user_refresh_token", sa.String(length=200), nullable=True),
        sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("incoming_webhook_url", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel_id", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_configuration_url", sa.String(length=200), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", sa.String(length=32), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_installations")),
    )
    with op.batch_alter_table("slack_installations", schema=None) as batch_op:
        batch_op.create_index(
            "slack_installations_idx",
            ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
            unique=False,
        )

    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_oauth_states")),
    )
    op.create_table(
        "chat_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("linked_via", sa.String(length=16), nullable=False),
        sa.Column("linked_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_identities")),
        sa.UniqueConstraint(
            "platform", "team_id", "external_id", name=op.f("uq_chat_identities_platform_team_id_external_id")
        ),
    )
    with op.batch_alter_table("chat_identities", schema=None) as batch_op:
        batch_op.create_index("ix_chat_identities_user_id", ["user_id"], unique=False)

    op.create_table(
        "chat_link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_link_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_chat_link_codes_code_hash")),
    )
    with op.batch_alter_table("chat_link_codes", schema=None) as batch_op:
        batch_op.create_index("ix_chat_link_codes_user_id", ["user_id"], unique=False)

    op.create_table(
        "chat_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "event_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Boolean(), nullable=False),
        sa.Column("summary_message_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_chat_subscriptions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_chat_subscriptions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_subscriptions")),
        sa.UniqueConstraint(
            "platform",
            "team_id",
            "channel_id",
            "project_id",
            name=op.f("uq_chat_subscriptions_platform_team_id_channel_id_project_id"),
        ),
    )
    with op.batch_alter_table("chat_subscriptions", schema=None) as batch_op:
        batch_op.create_index("ix_chat_subscriptions_created_by", ["created_by"], unique=False)
        batch_op.create_index("ix_chat_subscriptions_project_id", ["project_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("chat_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_subscriptions_project_id")
        batch_op.drop_index("ix_chat_subscriptions_created_by")

    op.drop_table("chat_subscriptions")
    with op.batch_alter_table("chat_link_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_link_codes_user_id")

    op.drop_table("chat_link_codes")
    with op.batch_alter_table("chat_identities", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_identities_user_id")

    op.drop_table("chat_identities")
    op.drop_table("slack_oauth_states")
    with op.batch_alter_table("slack_installations", schema=None) as batch_op:
        batch_op.drop_index("slack_installations_idx")

    op.drop_table("slack_installations")
    with op.batch_alter_table("slack_bots", schema=None) as batch_op:
        batch_op.drop_index("slack_bots_idx")

    op.drop_table("slack_bots")
    with op.batch_alter_table("chat_ticket_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_ticket_messages_ticket_id")
        batch_op.drop_index("ix_chat_ticket_messages_platform_channel_id_thread_id")

    op.drop_table("chat_ticket_messages")
    with op.batch_alter_table("chat_comment_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_comment_messages_platform_channel_id_message_id")

    op.drop_table("chat_comment_messages")
