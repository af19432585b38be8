"""Invite links of a project (`hub.services.projects.invites`): only a SHA-256 of each token is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.adapters.db.models import Base
from hub.adapters.db.types import UTCDateTime, utcnow


class ProjectInvite(Base):
    """A link that lets whoever holds it join `project_id` with `role`, until it expires, is revoked
    or has been used `max_uses` times (no limit when NULL)."""

    __tablename__ = "project_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    #: hex SHA-256 of the token; the token itself is shown once, when the invite is made.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: When it last let someone in (or raised their role): a used-up invite ended then.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_project_invites_project_id_id", "project_id", "id"),
        Index("ix_project_invites_created_by", "created_by"),
    )
