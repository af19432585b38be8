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

from bots.sink import PermanentSendError, RejectedMessageError
from bots.slack import render
from bots.slack.clients import SlackClients
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


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "")) if exc.response is not None else ""


class SlackSink:
    platform = "slack"

    def __init__(self, clients: SlackClients, public_url: str) -> None:
        self.clients = clients
        self.public_url = public_url

    async def _call(self, team_id: str, method: str, **kwargs: Any) -> Any:
        client: AsyncWebClient = await self.clients.for_team(team_id)
        try:
            return await getattr(client, method)(**kwargs)
        except SlackApiError as exc:
            error = _error(exc)
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
        text, blocks = render.ticket_blocks(ticket, self.public_url, fmt=target.format)
        reply = await self._call(
            target.team_id, "chat_postMessage", channel=target.channel_id, text=text, blocks=blocks,
            metadata=render.metadata(event_id, ticket["id"]), unfurl_links=False,
        )  # fmt: skip
        return str(reply["ts"])

    async def update_ticket(
        self, target: Target, message_id: str, ticket: dict[str, Any], *, deleted: bool = False
    ) -> None:
        text, blocks = render.ticket_blocks(ticket, self.public_url, fmt=target.format, deleted=deleted)
        await self._call(
            target.team_id, "chat_update", channel=target.channel_id, ts=message_id, text=text, blocks=blocks
        )

    async def post_reply(self, target: Target, thread_id: str, lines: list[str], *, event_id: int) -> str:
        reply = await self._call(
            target.team_id, "chat_postMessage", channel=target.channel_id, thread_ts=thread_id,
            text=render.reply_text(lines), metadata=render.metadata(event_id, 0),
        )  # fmt: skip
        return str(reply["ts"])

    async def post_comment(
        self, target: Target, thread_id: str, comment: dict[str, Any], origin: str, *, event_id: int
    ) -> str:
        reply = await self._call(
            target.team_id, "chat_postMessage", channel=target.channel_id, thread_ts=thread_id,
            text=self._comment_text(target, comment, origin),
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
        text = self._comment_text(target, comment, origin)
        await self._call(target.team_id, "chat_update", channel=target.channel_id, ts=message_id, text=text)

    def _comment_text(self, target: Target, comment: dict[str, Any], origin: str) -> str:
        """The comment's message; a body too long for Slack ends with a link to the whole ticket."""
        ref = {"id": comment["ticket_id"], "project_id": target.project_id}
        return render.comment_text(comment, origin, link=ticket_url(self.public_url, ref))

    async def delete_message(self, target: Target, message_id: str, *, thread_id: str | None = None) -> None:
        await self._call(target.team_id, "chat_delete", channel=target.channel_id, ts=message_id)

    async def find_posted(self, target: Target, thread_id: str | None, event_id: int) -> str | None:
        if thread_id is None:
            reply = await self._call(
                target.team_id, "conversations_history", channel=target.channel_id, limit=200,
                include_all_metadata=True,
            )  # fmt: skip
        else:
            reply = await self._call(
                target.team_id, "conversations_replies", channel=target.channel_id, ts=thread_id, limit=200,
                include_all_metadata=True,
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

    async def send_digest(self, account: ChatUser, notifications: list[dict[str, Any]]) -> None:
        channel = await self._dm_channel(account)
        text, blocks = render.digest_blocks(notifications, self.public_url)
        await self._call(account.team_id, "chat_postMessage", channel=channel, text=text, blocks=blocks)
