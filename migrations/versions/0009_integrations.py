"""integrations: inbound senders, their delivery log and external id links

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.adapters.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = hub.adapters.db.types.UTCDateTime(timezone=True)
_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("options", _JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("previous_secret", sa.String(length=100), nullable=True),
        sa.Column("previous_secret_expires_at", _TIME, nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_integrations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_integrations_user_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_integrations_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
    )
    op.create_index("ix_integrations_project_id", "integrations", ["project_id"])
    op.create_index("ix_integrations_user_id", "integrations", ["user_id"])
    op.create_index("ix_integrations_created_by", "integrations", ["created_by"])
    op.create_table(
        "integration_deliveries",
        sa.Column("id", _BIGID, nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("delivery_key", sa.String(length=200), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_deliveries_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_deliveries")),
        sa.UniqueConstraint(
            "integration_id",
            "delivery_key",
            name=op.f("uq_integration_deliveries_integration_id_delivery_key"),
        ),
    )
    op.create_index(
        "ix_integration_deliveries_integration_id_id", "integration_deliveries", ["integration_id", "id"]
    )
    op.create_index("ix_integration_deliveries_received_at", "integration_deliveries", ["received_at"])
    op.create_table(
        "integration_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("state", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_links_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_integration_links_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_links")),
        sa.UniqueConstraint(
            "integration_id", "external_id", name=op.f("uq_integration_links_integration_id_external_id")
        ),
    )
    op.create_index("ix_integration_links_ticket_id", "integration_links", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_integration_links_ticket_id", table_name="integration_links")
    op.drop_table("integration_links")
    op.drop_index("ix_integration_deliveries_received_at", table_name="integration_deliveries")
    op.drop_index("ix_integration_deliveries_integration_id_id", table_name="integration_deliveries")
    op.drop_table("integration_deliveries")
    op.drop_index("ix_integrations_created_by", table_name="integrations")
    op.drop_index("ix_integrations_user_id", table_name="integrations")
    op.drop_index("ix_integrations_project_id", table_name="integrations")
    op.drop_table("integrations")
