"""Embeds for tickets, thread replies, comments, command answers, DMs and the board summary.

Every message the relay posts carries `event N` in its embed footer: `find_posted` looks for it when a
crash left a write-ahead marker (Discord messages have no hidden metadata, and a nonce is not returned
in history). Discord's limits are applied here: titles 256, descriptions 4096, fields 1024 characters.
`mentions` renders the `<@id>` line of channel posts (see `bots.discord.mentions`).
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bots.actions import Result
from bots.text import (
    ORIGIN_LABELS,
    STATUS_LABELS,
    person,
    priority_label,
    status_label,
    ticket_url,
)

#: Embed colours by status (the board's column colours).
COLOURS = {
    "todo": 0x8A94A6,
    "in_progress": 0x3B82F6,
    "in_review": 0xA855F7,
    "done": 0x22C55E,
    "canceled": 0x6B7280,
}
DELETED_COLOUR = 0x4B5563
ERROR_COLOUR = 0xEF4444
FOOTER = "Switchboard · event {event_id}"
FOOTER_EVENT = re.compile(r"\bevent (\d+)\b")
#: People mentioned in one post at most (Discord counts at most 100 users in `allowed_mentions`).
MAX_MENTIONS = 20


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def footer(event_id: int, origin: str | None = None) -> str:
    via = f"via {ORIGIN_LABELS.get(origin, origin)} · " if origin else ""
    return via + FOOTER.format(event_id=event_id)


def event_of(message: discord.Message) -> int | None:
    """The event id a relayed message was posted for (from its embed footer), if any."""
    for embed in message.embeds:
        match = FOOTER_EVENT.search(embed.footer.text or "") if embed.footer else None
        if match:
            return int(match.group(1))
    return None


def ticket_embed(
    ticket: dict[str, Any],
    public_url: str,
    *,
    fmt: str = "compact",
    deleted: bool = False,
    event_id: int | None = None,
) -> discord.Embed:
    title = clip(f"{ticket['key']} · {ticket['title']}", 256)
    if deleted:
        embed = discord.Embed(title=clip(f"~~{title}~~", 256), description="Deleted", colour=DELETED_COLOUR)
    else:
        embed = discord.Embed(
            title=title, url=ticket_url(public_url, ticket), colour=COLOURS.get(ticket.get("status", ""))
        )
        embed.add_field(name="Status", value=status_label(ticket.get("status")))
        embed.add_field(name="Assignee", value=clip(person(ticket.get("assignee")), 1024))
        embed.add_field(name="Priority", value=priority_label(ticket.get("priority")))
        if fmt == "detailed":
            description = (ticket.get("description") or "").strip()
            if description:
                embed.description = clip(description, 1000)
            embed.add_field(name="Labels", value=clip(", ".join(ticket.get("labels") or []) or "none", 1024))
            embed.add_field(name="Reporter", value=clip(person(ticket.get("reporter")), 1024))
    if event_id is not None:
        embed.set_footer(text=footer(event_id))
    return embed


def thread_name(ticket: dict[str, Any]) -> str:
    return clip(f"{ticket['key']} {ticket['title']}", 100)


def reply_embed(lines: list[str], event_id: int) -> discord.Embed:
    embed = discord.Embed(description=clip("\n".join(lines), 4096))
    embed.set_footer(text=footer(event_id))
    return embed


def comment_embed(comment: dict[str, Any], origin: str, event_id: int | None = None) -> discord.Embed:
    """A hub comment in a ticket's thread, attributed to its author and where it was written."""
    body = comment.get("body", "") + (" *(edited)*" if comment.get("edited") else "")
    embed = discord.Embed(description=clip(body, 4096))
    embed.set_author(name=clip(person(comment.get("author")), 256))
    if event_id is not None:
        embed.set_footer(text=footer(event_id, origin))
    else:
        embed.set_footer(text=f"via {ORIGIN_LABELS.get(origin, origin)}")
    return embed


def result_embeds(result: Result, public_url: str) -> tuple[str, list[discord.Embed]]:
    """A command's answer: (content, embeds)."""
    if not result.ok:
        return "", [discord.Embed(description=clip(result.text, 4096), colour=ERROR_COLOUR)]
    if result.ticket is not None:
        return clip(result.text, 2000), [ticket_embed(result.ticket, public_url, fmt="detailed")]
    if result.tickets:
        heading = result.text.split("\n", 1)[0]
        lines = [
            f"• [{t['key']}]({ticket_url(public_url, t)}) {clip(t['title'], 80)} — "
            + status_label(t.get("status"))
            for t in result.tickets[:40]
        ]
        return "", [discord.Embed(title=clip(heading, 256), description=clip("\n".join(lines), 4096))]
    return clip(result.text, 2000), []


def dm_embed(notification: dict[str, Any]) -> discord.Embed:
    embed = discord.Embed(
        title=clip(notification["title"], 256), description=clip(notification.get("message") or "", 4096)
    )
    embed.set_footer(text="Switchboard notification")
    return embed


def digest_embed(notifications: list[dict[str, Any]]) -> discord.Embed:
    lines = "\n".join(f"• {clip(n['title'], 200)}" for n in notifications[:50])
    more = f"\n…and {len(notifications) - 50} more on the board" if len(notifications) > 50 else ""
    return discord.Embed(
        title=f"Your Switchboard digest: {len(notifications)} notification(s)",
        description=clip(lines + more, 4096),
    )


def summary_embed(summary: dict[str, Any]) -> discord.Embed:
    project = summary["project"]
    embed = discord.Embed(title=clip(f"{project['key']} board — {project['name']}", 256))
    for status, label in STATUS_LABELS.items():
        embed.add_field(name=label, value=str(summary["counts"].get(status, 0)))
    working = "\n".join(f"• {w['name']}: {', '.join(w['tickets'])}" for w in summary["working"]) or "• nobody"
    embed.add_field(name="Changes today", value=str(summary["changed_today"]), inline=False)
    embed.add_field(name="In progress", value=clip(working, 1024), inline=False)
    return embed


def mentions(assignee: str | None, others: list[str]) -> dict[str, Any]:
    """`content` and `allowed_mentions` that ping exactly these Discord users (`{}`: nobody)."""
    wanted = [o for o in dict.fromkeys(others) if o != assignee]
    if assignee is None and not wanted:
        return {}
    parts = [f"Assigned to <@{assignee}>"] if assignee else []
    if wanted:
        parts.append("cc " + " ".join(f"<@{o}>" for o in wanted[:MAX_MENTIONS]))
    users = [discord.Object(id=int(i)) for i in ([assignee] if assignee else []) + wanted[:MAX_MENTIONS]]
    return {"content": " · ".join(parts), "allowed_mentions": discord.AllowedMentions(users=users)}
