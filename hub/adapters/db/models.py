"""SQLAlchemy models: the tables of the hub. Rules live in `hub.services`, not here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hub.adapters.db.types import BigId, JsonDoc, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    preferences: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by a site admin: no login, no refresh, every token and socket refused
    #: (see services/accounts/auth.py).
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Access tokens *without* a session (`switchboard token`) issued at or before this second are
    #: refused: set when all of the user's sessions are cut (password change, "sign out everywhere").
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginSession(Base):
    """One login: the refresh-token family of that id and every access token issued from it (`sid`).

    Revoking the row ends them all at once; every request reads it with the user (one statement)."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RefreshToken(Base):
    """One refresh token of a rotation family; only its SHA-256 is stored."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: When this token, already rotated, was presented again within the grace (allowed once).
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    ticket_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="raise")

    __table_args__ = (Index("ix_memberships_user_id", "user_id"),)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="todo")
    priority: Mapped[str] = mapped_column(String(16), default="medium")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(lazy="raise")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="raise")
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="raise")
    labels: Mapped[list[TicketLabel]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="TicketLabel.name"
    )
    watchers: Mapped[list[TicketWatcher]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="TicketWatcher.user_id"
    )

    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        Index("ix_tickets_project_id_status_id", "project_id", "status", "id"),
        Index("ix_tickets_project_id_assignee_id_id", "project_id", "assignee_id", "id"),
        Index("ix_tickets_assignee_id", "assignee_id"),
        Index("ix_tickets_reporter_id", "reporter_id"),
    )
    # The ORM adds `WHERE version = <loaded>` to every UPDATE and bumps it: optimistic concurrency
    # that holds even when two transactions race past the service's own check.
    __mapper_args__ = {"version_id_col": version}

    @property
    def key(self) -> str:
        return f"{self.project.key}-{self.number}"


class TicketLabel(Base):
    __tablename__ = "ticket_labels"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), primary_key=True)

    __table_args__ = (Index("ix_ticket_labels_name_ticket_id", "name", "ticket_id"),)


class TicketWatcher(Base):
    __tablename__ = "ticket_watchers"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_ticket_watchers_user_id", "user_id"),)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16), default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)

    author: Mapped[User] = relationship(lazy="raise")

    __table_args__ = (
        Index("ix_comments_ticket_id_id", "ticket_id", "id"),
        Index("ix_comments_author_id", "author_id"),
    )


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    notification_type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=True
    )
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    event_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # The routing decision, per destination: "immediate", "digest" or "off"
    # (see services/notifications/routing.py).
    # The web list shows rows whose web is not "off"; the chat bots read their own column.
    deliver_web: Mapped[str] = mapped_column(String(16), default="immediate")
    deliver_slack: Mapped[str] = mapped_column(String(16), default="immediate")
    deliver_discord: Mapped[str] = mapped_column(String(16), default="immediate")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        Index("ix_notifications_project_id", "project_id"),
        Index("ix_notifications_event_id", "event_id"),
    )


class Event(Base):
    """The outbox: one append-only row per change, written in the change's own transaction."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    #: The id of the HTTP request (or chat command) that wrote the event, for tracing.
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: PostgreSQL: the writing transaction's id (xid8), taken before the row's id is drawn; see
    #: `hub.adapters.db.horizon`. NULL on SQLite.
    xid: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: The ticket a `ticket.*` / `comment.*` event is about (`domain.events.ticket_id_of`), for the
    #: ticket's timeline (`GET /api/tickets/{ref}/events`); NULL for other events.
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        Index("ix_events_project_id_id", "project_id", "id"),
        Index("ix_events_created_at", "created_at"),
        Index("ix_events_ticket_id_id", "ticket_id", "id"),
    )
