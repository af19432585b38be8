"""Tables of inbound integrations (GitHub, Alertmanager, generic signed requests).

* `integrations` — one per sender and project: its kind, options, secret and the hub user it acts as.
* `integration_deliveries` — every request received at `/hooks/{id}`: its verdict and what it did.
  `delivery_key` (the sender's delivery id) is unique per integration: the row is the durable claim
  that makes a delivery run once, even when the sender retries it concurrently.
* `integration_links` — an external id (an alert group, a caller's id) mapped to the ticket it made,
  with the state the integration needs to tell a re-send from news.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.adapters.db.models import Base
from hub.adapters.db.types import BigId, JsonDoc, UTCDateTime, utcnow


class Integration(Base):
    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    options: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Kept as given out (HMAC needs the key itself), as outbound webhook secrets are.
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The hub user the integration acts as (author of its tickets and comments); kept when the
    #: integration is deleted, because its tickets and comments still name it.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_integrations_project_id", "project_id"),
        Index("ix_integrations_user_id", "user_id"),
        Index("ix_integrations_created_by", "created_by"),
    )


class IntegrationDelivery(Base):
    """One request received for an integration.

    verdict: `processing` (claimed, running), `processed`, `ignored` (valid, nothing to do), `invalid`
    (signed, but a body the integration cannot use), `failed` (an error on our side; the key is
    released so a retry runs it again), `duplicate` (a delivery id already claimed), `rejected` (bad or
    missing signature), `disabled` (the integration is switched off).
    """

    __tablename__ = "integration_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    #: The sender's delivery id (None for requests that claim nothing: rejected, duplicates).
    delivery_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event: Mapped[str] = mapped_column(String(64), default="")
    verdict: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int] = mapped_column(Integer, default=200)
    #: What it did, in words ("commented on OPS-12; moved OPS-12 to done").
    summary: Mapped[str] = mapped_column(Text, default="")
    #: The first 2 KiB of the request body, as text.
    body: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("integration_id", "delivery_key"),
        Index("ix_integration_deliveries_integration_id_id", "integration_id", "id"),
        Index("ix_integration_deliveries_received_at", "received_at"),
    )


class IntegrationLink(Base):
    """An external id of an integration and the ticket it stands for (None while being created)."""

    __tablename__ = "integration_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("integration_id", "external_id"),
        Index("ix_integration_links_ticket_id", "ticket_id"),
    )
