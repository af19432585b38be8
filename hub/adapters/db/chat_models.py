"""Tables of the chat adapters (Slack now, Discord later): who is who, what relays where, what was sent.

* `chat_identities` — a chat account (platform, team/guild, external user id) linked to a hub user.
* `chat_link_codes` — one-time codes (`/ticket link CODE`), stored as SHA-256, valid 10 minutes.
* `chat_subscriptions` — a channel relaying a project's events (filters, format, pinned summary).
* `chat_ticket_messages` — the root message of a ticket in a channel, its thread, and which event it
  last reflects; `pending_event_id` is the write-ahead marker that makes the relay exactly-once.
* `chat_comment_messages` — a hub comment and its reply in a ticket's thread (edits/deletes follow it;
  comments written in chat are recorded here too, so nothing is echoed back).
* `chat_deliveries` — the platform requests already taken (Slack `event_id`s, interaction ids): a
  redelivered request finds its row and is acknowledged without running again (`services/chat/deliveries`).
* `slack_installations`, `slack_bots`, `slack_oauth_states` — slack_sdk's own tables for multi-workspace
  OAuth, declared on our metadata (through slack_sdk's table builders) so Alembic owns them.

Ticket and comment ids in the message maps are plain integers, not foreign keys: a deleted ticket's
root message must still be found to mark it deleted.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from hub.adapters.db.models import Base
from hub.adapters.db.types import JsonDoc, UTCDateTime, utcnow

PLATFORMS = ("slack", "discord")


class ChatIdentity(Base):
    __tablename__ = "chat_identities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    #: "email" (matched a verified email) or "code" (redeemed a link code).
    linked_via: Mapped[str] = mapped_column(String(16))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("platform", "team_id", "external_id"),
        Index("ix_chat_identities_user_id", "user_id"),
    )


class ChatLinkCode(Base):
    __tablename__ = "chat_link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_chat_link_codes_user_id", "user_id"),)


class ChatSubscription(Base):
    __tablename__ = "chat_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    #: None: every relayed event kind; otherwise a list such as ["created", "status_changed"].
    event_types: Mapped[list[str] | None] = mapped_column(JsonDoc, nullable=True)
    #: None: any ticket; otherwise only tickets carrying one of these labels.
    labels: Mapped[list[str] | None] = mapped_column(JsonDoc, nullable=True)
    format: Mapped[str] = mapped_column(String(16), default="compact")
    #: Keep a pinned board summary in the channel (counts per status, today's changes, who works on what).
    summary: Mapped[bool] = mapped_column(default=False)
    #: The pinned board summary message (Slack ts / Discord message id), edited in place.
    summary_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    #: Mention linked people (`<@U…>` / `<@id>`) for assignees and @mentions in channel posts.
    mentions: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: "active" relays. "paused": the relay gave up after repeated failures (`state_reason` says why;
    #: subscribing again resumes). "archived": the channel was archived (unarchive resumes).
    #: "removed": the channel was deleted or the bot removed from it. "uninstalled": the app was
    #: uninstalled or its tokens revoked in that workspace. Only "active" subscriptions relay.
    state: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    state_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The relay's own cursor for this channel (the last event fully relayed to it); None: not yet
    #: started (the relay starts it at its consumer position). One failing channel never holds
    #: back another.
    position: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: Consecutive failed attempts to deliver to this channel, the next attempt, the last error.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("platform", "team_id", "channel_id", "project_id"),
        Index("ix_chat_subscriptions_project_id", "project_id"),
        Index("ix_chat_subscriptions_created_by", "created_by"),
    )


class ChatTicketMessage(Base):
    __tablename__ = "chat_ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = mapped_column(Integer)
    #: The root message (Slack ts); None between the write-ahead marker and the platform's answer.
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    thread_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The newest event this channel's messages reflect; older or equal events are skipped.
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Set before a non-idempotent post and cleared after it; found set on restart → reconcile.
    pending_event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("platform", "team_id", "channel_id", "ticket_id"),
        Index("ix_chat_ticket_messages_platform_channel_id_thread_id", "platform", "channel_id", "thread_id"),
        Index("ix_chat_ticket_messages_ticket_id", "ticket_id"),
    )


class ChatCommentMessage(Base):
    __tablename__ = "chat_comment_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    comment_id: Mapped[int] = mapped_column(Integer)
    ticket_id: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The event that created the reply (found again by its metadata after a crash).
    event_id: Mapped[int] = mapped_column(BigInteger)
    #: True when the comment was written in this chat (the message is the user's own: never edited).
    from_chat: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("platform", "team_id", "channel_id", "comment_id"),
        Index(
            "ix_chat_comment_messages_platform_channel_id_message_id", "platform", "channel_id", "message_id"
        ),
    )


class ChatDelivery(Base):
    """One request from a chat platform that was taken; its key is unique per platform."""

    __tablename__ = "chat_deliveries"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: e.g. `T123/event:Ev0ABC` or `T123/view_submission:1.2.3` (`bots/slack/dedupe.py`).
    delivery_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: When the current claim was taken (a reclaim after a crash moves it).
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When its processing finished; None while it runs, or if the process died meanwhile.
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_chat_deliveries_received_at", "received_at"),)


# slack_sdk's OAuth tables, on our metadata so the migration creates them and drift tests cover them.
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, "slack_installations"
)
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, "slack_oauth_states")
