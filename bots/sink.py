"""The small interface a chat platform implements for the relays (`bots/relay.py`, `bots/notify.py`).

Everything platform-specific — rendering, message ids, API calls — lives behind it. Errors:

    Exception
    ├── PermanentSendError   the target cannot take messages (channel gone, bot removed, user
    │   │                    unknown): the relay pauses that subscription (and tells its creator),
    │   │                    never retrying forever
    │   └── RejectedMessageError   the platform refused this message itself (too long, past a
    │                        block limit): a bug of our rendering; the relay skips it, a digest
    │                        is not marked sent
    ├── RateLimitedError     the platform asked us to wait `retry_after` seconds: that channel's
    │                        lane waits, the others go on (not counted as a failure)
    └── anything else        transient (network, 5xx): that channel keeps its cursor and is tried
                             again with exponential backoff; paused after too many in a row
"""

from __future__ import annotations

from typing import Any, Protocol

from hub.services.chat.accounts import ChatUser
from hub.services.chat.relay import Target


class PermanentSendError(Exception):
    """The destination will not accept this message however often we try."""


class RejectedMessageError(PermanentSendError):
    """The platform refused the message we built (its size or shape), not the destination."""


class RateLimitedError(Exception):
    """The platform answered 429 for this call: try this destination again after `retry_after` s."""

    def __init__(self, what: str, retry_after: float) -> None:
        super().__init__(f"{what}: rate limited, retry after {retry_after:g} s")
        self.retry_after = retry_after


class RelaySink(Protocol):
    platform: str

    async def post_ticket(self, target: Target, ticket: dict[str, Any], *, event_id: int) -> str:
        """Post a ticket's root message; return its id (which is also its thread id)."""

    async def update_ticket(
        self, target: Target, message_id: str, ticket: dict[str, Any], *, deleted: bool = False
    ) -> None:
        """Re-render the root message with the ticket's current state (idempotent)."""

    async def post_reply(self, target: Target, thread_id: str, lines: list[str], *, event_id: int) -> str:
        """A short reply in the ticket's thread describing changes."""

    async def post_comment(
        self, target: Target, thread_id: str, comment: dict[str, Any], origin: str, *, event_id: int
    ) -> str:
        """A hub comment as a reply in the ticket's thread, attributed to its author and origin."""

    async def update_comment(
        self,
        target: Target,
        message_id: str,
        comment: dict[str, Any],
        origin: str,
        *,
        thread_id: str | None = None,
    ) -> None:
        """Follow an edit of a relayed comment (posted in the ticket's thread `thread_id`)."""

    async def delete_message(self, target: Target, message_id: str, *, thread_id: str | None = None) -> None:
        """Delete a relayed message (in thread `thread_id`, if any); an already deleted one is not an
        error."""

    async def find_posted(self, target: Target, thread_id: str | None, event_id: int) -> str | None:
        """The id of a message this relay posted for `event_id` (in the thread, or the channel's
        recent history when `thread_id` is None), if it exists: reconciles a crash after a post."""

    def chat_message_of(self, meta: dict[str, Any], target: Target) -> str | None:
        """If a comment's `meta` says it was typed as a message in `target`'s channel, that message's
        id (the relay then records it instead of echoing the comment back)."""

    async def post_summary(self, target: Target, summary: dict[str, Any], message_id: str | None) -> str:
        """Create (and pin) or edit in place the channel's board summary; return its message id."""

    async def send_dm(self, account: ChatUser, notification: dict[str, Any]) -> None:
        """A direct message for one notification."""

    async def send_pause_note(
        self, account: ChatUser, channel_id: str, project_key: str, reason: str
    ) -> None:
        """Tell a subscription's creator (a DM) that relaying `project_key` into `channel_id` stopped
        for `reason`, and how to resume it."""

    async def send_digest(self, account: ChatUser, notifications: list[dict[str, Any]]) -> None:
        """One direct message listing a day's digest notifications."""
