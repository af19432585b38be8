"""Tables of the retention job (`hub.services.retention`).

* `events_archive` — events moved out of the `events` outbox once older than `EVENTS_RETENTION_DAYS` and
  behind every consumer: the same columns, so the activity feed (`GET /api/projects/{id}/events`) reads
  both tables as one. Kept `EVENTS_ARCHIVE_DAYS` (0: for ever).
* `retention_marks` — per pruned stream, the highest id removed (`events`, `notifications`): a socket
  resuming from below it is told `resync_required` instead of silently missing what was removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.adapters.db.models import Base
from hub.adapters.db.types import BigId, JsonDoc, UTCDateTime, utcnow


class EventArchive(Base):
    """An event moved out of the outbox; ids are the original event ids (never reused)."""

    __tablename__ = "events_archive"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        Index("ix_events_archive_project_id_id", "project_id", "id"),
        Index("ix_events_archive_created_at", "created_at"),
        Index("ix_events_archive_ticket_id_id", "ticket_id", "id"),
    )


class RetentionMark(Base):
    """The highest id the retention job removed from a stream (`events`, `notifications`)."""

    __tablename__ = "retention_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
