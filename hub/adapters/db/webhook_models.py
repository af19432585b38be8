"""Tables of outbound webhooks and of outbox consumers.

* `consumer_positions` — how far each durable reader of the `events` outbox has got (`webhooks` here;
  the chat relays can keep their own rows).
* `webhook_endpoints` — per-project receivers, their secrets and their health.
* `webhook_deliveries` — one message for one endpoint: the exact body sent, its state and its lease.
* `webhook_attempts` — every HTTP attempt of a delivery, kept 30 days.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.adapters.db.models import Base
from hub.adapters.db.types import BigId, JsonDoc, UTCDateTime, utcnow


class ConsumerPosition(Base):
    """The id of the last outbox event a named consumer has fully handled."""

    __tablename__ = "consumer_positions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(Text, default="")
    #: None: every webhook event type; otherwise the list subscribed to.
    event_types: Mapped[list[str] | None] = mapped_column(JsonDoc, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Only events with a larger id are delivered: those committed after the endpoint was (re-)enabled.
    events_after: Mapped[int] = mapped_column(BigInteger, default=0)
    #: First failed attempt since the last success; five days of that disables the endpoint.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_webhook_endpoints_project_id", "project_id"),
        Index("ix_webhook_endpoints_created_by", "created_by"),
    )


class WebhookDelivery(Base):
    """One message to one endpoint. `msg_id` (the `webhook-id` header) never changes across retries.

    status: `pending` (waiting for its next attempt), `succeeded`, `failed` (retry schedule exhausted) or
    `dead` (dropped because the endpoint was disabled). A worker holding it sets `locked_by` and
    `lease_until`; a lease that runs out makes the delivery claimable again.
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    event_type: Mapped[str] = mapped_column(String(40))
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: The JSON body exactly as sent (text, so retries send the same bytes).
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Failed attempts since the delivery was last queued: the position in the retry schedule.
    retry_step: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_status_id", "endpoint_id", "status", "id"),
        Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
        Index("ix_webhook_deliveries_lease_until", "lease_until"),
        Index("ix_webhook_deliveries_updated_at", "updated_at"),
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The first 2 KiB of the response body.
    response_body: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_webhook_attempts_delivery_id_id", "delivery_id", "id"),
        Index("ix_webhook_attempts_attempted_at", "attempted_at"),
    )
