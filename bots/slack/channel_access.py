"""Who may subscribe a Slack channel: someone in it, and not a Slack Connect channel unless allowed.

A subscription shows a project's tickets to everyone in the channel, so on top of the hub's own role
check (members and above, `hub.services.chat.subscriptions`) Slack asks two things, in this order:

1. The channel is not shared with other organisations (Slack Connect: `conversations.info` says
   `is_ext_shared`), unless `SLACK_ALLOW_SHARED_CHANNELS` is on: the people of another company would
   read the project's tickets.
2. The person subscribing is a member of the channel (`conversations.members`, paged through with its
   cursor, Slack's documented way to learn a channel's members). Anyone may run a slash command
   in a public channel they only preview; they may not decide what its members read.

A private channel the bot was not invited to is invisible to it (`channel_not_found`): the answer
says to invite it first. Scopes: `channels:read`, `groups:read`.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

#: Members read per `conversations.members` page (Slack allows up to 1,000).
MEMBERS_PAGE = 1000
#: Pages read at most (a channel of more than 200,000 people is treated as one we cannot check).
MAX_PAGES = 200

NOT_VISIBLE = "I cannot see this channel. Invite me first (`/invite @Switchboard`), then subscribe again."
SHARED = (
    "This channel is shared with other organisations (Slack Connect), so its tickets would reach "
    "people outside your workspace. Subscriptions of shared channels are turned off "
    "(an operator can allow them with SLACK_ALLOW_SHARED_CHANNELS)."
)
NOT_MEMBER = "Only members of this channel can subscribe it. Join the channel, then try again."


async def subscribe_refusal(
    client: AsyncWebClient, channel_id: str, user_id: str, *, allow_shared: bool
) -> str | None:
    """Why `user_id` may not subscribe `channel_id` (a sentence to show them), or None if they may."""
    try:
        info = await client.conversations_info(channel=channel_id)
    except SlackApiError as error:
        return _explain(error)
    channel = info.get("channel") or {}
    if channel.get("is_ext_shared") and not allow_shared:
        return SHARED
    try:
        member = await is_member(client, channel_id, user_id)
    except SlackApiError as error:
        return _explain(error)
    return None if member else NOT_MEMBER


async def is_member(client: AsyncWebClient, channel_id: str, user_id: str) -> bool:
    cursor: str | None = None
    for _page in range(MAX_PAGES):
        page = await client.conversations_members(channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor)
        if user_id in (page.get("members") or []):
            return True
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return False
    return False


def _explain(error: SlackApiError) -> str:
    code = str(error.response.get("error", "")) if error.response is not None else ""
    if code in ("channel_not_found", "not_in_channel"):
        return NOT_VISIBLE
    if code == "missing_scope":
        return (
            "I may not read this channel's members: reinstall the app to grant channels:read and groups:read."
        )
    return f"Slack would not tell me who is in this channel ({code or 'no answer'}); nothing was changed."
