"""`SlackSink`: the relays' operations as Slack Web API calls.

Every message the relay posts carries `metadata` `{event_type: "switchboard_relay", event_payload:
{event_id, ticket_id}}`; `find_posted` finds it again (conversations.replies / conversations.history
with `include_all_metadata`) when a crash left a write-ahead marker. Errors that will not go away by
retrying (channel archived, bot not in channel, user gone, …) become `PermanentSendError`; a message
Slack refuses for its content (`msg_too_long`, `invalid_blocks`) becomes `RejectedMessageError`.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.sink import PermanentSendError, RateLimitedError, RejectedMessageError
from bots.slack import render
from bots.slack.clients import SlackClients, impatient
from bots.slack.limits import escape
from bots.slack.people import SlackMentions
from bots.text import ticket_url
from hub.services.chat.accounts import ChatUser
from hub.services.chat.relay import Target

PERMANENT = {
    "channel_not_found", "not_in_channel", "is_archived", "account_inactive", "user_not_found",
    "cannot_dm_bot", "invalid_auth", "token_revoked", "not_authed", "restricted_action", "team_not_found",
    "no_permission", "user_disabled",
}  # fmt: skip
#: Slack refused the message itself (too long, blocks past a limit): `RejectedMessageError`.
REJECTED = {"msg_too_long", "invalid_blocks", "msg_blocks_too_long"}
GONE = {"message_not_found", "cant_delete_message", "cant_update_message", "already_pinned"}


def _retry_after(exc: SlackApiError) -> float:
    headers = {str(k).lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "")) if exc.response is not None else ""


class SlackSink:
    platform = "slack"

    def __init__(self, clients: SlackClients, public_url: str, mentions: SlackMentions | None = None) -> None:
        self.clients = clients
        self.public_url = public_url
        #: Whom posts may mention (None: nobody); see `render` "Mentions".
        self.mentions = mentions
        #: The assignee mention of each root message last rendered: its thread's assignment reply
        #: follows right after (bounded; only a `cc` line depends on it).
        self._assignees: dict[tuple[str, str, str], dict[int, str]] = {}

    async def _people(self, target: Target, user_ids: set[int], text: str = "") -> dict[int, str]:
        return await self.mentions.people(target, user_ids, text=text) if self.mentions else {}

    async def _assignee(self, target: Target, ticket: dict[str, Any]) -> dict[int, str]:
        assignee = (ticket.get("assignee") or {}).get("id")
        return await self._people(target, {assignee} if isinstance(assignee, int) else set())

    async def _call(self, team_id: str, method: str, *, lane: bool = False, **kwargs: Any) -> Any:
        """One Web API call. `lane`: for the channel relay (a 429 becomes `RateLimitedError` at once,
        the lane waits it out, see `bots/lanes.py`); otherwise slack_sdk waits out 429s in the call."""
        client: AsyncWebClient = await self.clients.for_team(team_id)
        if lane:
            client = impatient(client)
        try:
            return await getattr(client, method)(**kwargs)
        except SlackApiError as exc:
            error = _error(exc)
            if exc.response is not None and exc.response.status_code == 429:
                raise RateLimitedError(method, _retry_after(exc)) from exc
            if error in GONE:
                return None
            if error in ("invalid_auth", "token_revoked"):
                self.clients.forget(team_id)
            if error in REJECTED:
                raise RejectedMessageError(f"{method}: {error}") from exc
            if error in PERMANENT:
                raise PermanentSendError(f"{method}: {error}") from exc
            raise

    # --- channel relay ----------------------------------------------------------------------------
    async def post_ticket(self, target: Target, ticket: dict[str, Any], *, event_id: int) -> str:
        people = await self._assignee(target, ticket)
        text, blocks = render.ticket_blocks(ticket, self.public_url, fmt=target.format, people=people)
        reply = await self._call(
            target.team_id, "chat_postMessage", lane=True, channel=target.channel_id, text=text,
            blocks=blocks, metadata=render.metadata(event_id, ticket["id"]), unfurl_links=False,
        )  # fmt: skip
        return str(reply["ts"])

    async def update_ticket(
        self, target: Target, message_id: str, ticket: dict[str, Any], *, deleted: bool = False
    ) -> None:
        people = await self._assignee(target, ticket)
        if len(self._assignees) >= 1_000:
            self._assignees.clear()
        self._assignees[(target.team_id, target.channel_id, message_id)] = people
        text, blocks = render.ticket_blocks(
            ticket, self.public_url, fmt=target.format, deleted=deleted, people=people
        )
        await self._call(
            target.team_id, "chat_update", lane=True, channel=target.channel_id, ts=message_id, text=text,
            blocks=blocks,
        )  # fmt: skip

    async def post_reply(self, target: Target, thread_id: str, lines: list[str], *, event_id: int) -> str:
        people = self._assignees.get((target.team_id, target.channel_id, thread_id))
        reply = await self._call(
            target.team_id, "chat_postMessage", lane=True, channel=target.channel_id, thread_ts=thread_id,
            text=render.reply_text(lines, people),
            metadata=render.metadata(event_id, 0),
        )  # fmt: skip
        return str(reply["ts"])

    async def post_comment(
        self, target: Target, thread_id: str, comment: dict[str, Any], origin: str, *, event_id: int
    ) -> str:
        reply = await self._call(
            target.team_id, "chat_postMessage", lane=True, channel=target.channel_id, thread_ts=thread_id,
            text=await self._comment_text(target, comment, origin),
            metadata=render.metadata(event_id, comment["ticket_id"]),
        )  # fmt: skip
        return str(reply["ts"])

    async def update_comment(
        self,
        target: Target,
        message_id: str,
        comment: dict[str, Any],
        origin: str,
        *,
        thread_id: str | None = None,  # Slack edits by channel and ts alone
    ) -> None:
        text = await self._comment_text(target, comment, origin)
        await self._call(
            target.team_id, "chat_update", lane=True, channel=target.channel_id, ts=message_id, text=text
        )

    async def _comment_text(self, target: Target, comment: dict[str, Any], origin: str) -> str:
        """The comment's message; a body too long for Slack ends with a link to the whole ticket."""
        ref = {"id": comment["ticket_id"], "project_id": target.project_id}
        people = await self._people(target, set(), str(comment.get("body") or ""))
        return render.comment_text(comment, origin, link=ticket_url(self.public_url, ref), people=people)

    async def delete_message(self, target: Target, message_id: str, *, thread_id: str | None = None) -> None:
        await self._call(target.team_id, "chat_delete", lane=True, channel=target.channel_id, ts=message_id)

    async def find_posted(self, target: Target, thread_id: str | None, event_id: int) -> str | None:
        if thread_id is None:
            reply = await self._call(
                target.team_id, "conversations_history", lane=True, channel=target.channel_id, limit=200,
                include_all_metadata=True,
            )  # fmt: skip
        else:
            reply = await self._call(
                target.team_id, "conversations_replies", lane=True, channel=target.channel_id, ts=thread_id,
                limit=200, include_all_metadata=True,
            )  # fmt: skip
        for message in (reply or {}).get("messages", []) if reply is not None else []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == render.METADATA_TYPE and payload.get("event_id") == event_id:
                return str(message["ts"])
        return None

    def chat_message_of(self, meta: dict[str, Any], target: Target) -> str | None:
        if meta.get("slack_channel") == target.channel_id and meta.get("slack_team") == target.team_id:
            ts = meta.get("slack_ts")
            return str(ts) if ts else None
        return None

    async def post_summary(self, target: Target, summary: dict[str, Any], message_id: str | None) -> str:
        text, blocks = render.summary_blocks(summary, self.public_url)
        if message_id:
            done = await self._call(
                target.team_id,
                "chat_update",
                channel=target.channel_id,
                ts=message_id,
                text=text,
                blocks=blocks,
            )
            if done is not None:
                return message_id
        reply = await self._call(
            target.team_id, "chat_postMessage", channel=target.channel_id, text=text, blocks=blocks
        )
        await self._call(target.team_id, "pins_add", channel=target.channel_id, timestamp=reply["ts"])
        return str(reply["ts"])

    # --- direct messages --------------------------------------------------------------------------
    async def _dm_channel(self, account: ChatUser) -> str:
        opened = await self._call(account.team_id, "conversations_open", users=account.external_id)
        if opened is None:
            raise PermanentSendError("conversations.open gave no channel")
        return str(opened["channel"]["id"])

    async def send_dm(self, account: ChatUser, notification: dict[str, Any]) -> None:
        channel = await self._dm_channel(account)
        text, blocks = render.dm_blocks(notification, self.public_url)
        await self._call(account.team_id, "chat_postMessage", channel=channel, text=text, blocks=blocks)

    async def send_pause_note(
        self, account: ChatUser, channel_id: str, project_key: str, reason: str
    ) -> None:
        channel = await self._dm_channel(account)
        text = (
            f"I stopped posting {escape(project_key)} tickets in <#{channel_id}>: {escape(reason)}. "
            f"Fix the channel (or my access to it), then run `/ticket subscribe {escape(project_key)}` "
            "there to resume."
        )
        await self._call(account.team_id, "chat_postMessage", channel=channel, text=text)

    async def send_digest(self, account: ChatUser, notifications: list[dict[str, Any]]) -> None:
        channel = await self._dm_channel(account)
        text, blocks = render.digest_blocks(notifications, self.public_url)
        await self._call(account.team_id, "chat_postMessage", channel=channel, text=text, blocks=blocks)
