"""Block Kit for tickets, thread replies, comments, command answers, DMs and the board summary.

Action ids the listeners handle: `sb_assign_me` (button, value: ticket id), `sb_status` (select,
option values: statuses; block id `status:<ticket id>`), `sb_open` (a URL button; acknowledged only),
`sb_mark_read` (button in DMs, value: notification id).
"""

from __future__ import annotations

from typing import Any

from bots.actions import Result
from bots.text import STATUS_LABELS, person, priority_label, status_label, ticket_line, ticket_url, via

Blocks = list[dict[str, Any]]
#: Metadata event type on every message the relay posts (how a crash is reconciled: `find_posted`).
METADATA_TYPE = "switchboard_relay"
PRIORITY_ICONS = {"low": "▽", "medium": "◇", "high": "▲", "urgent": "‼"}


def escape(text: str) -> str:
    """Slack mrkdwn control characters in user text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def metadata(event_id: int, ticket_id: int) -> dict[str, Any]:
    return {"event_type": METADATA_TYPE, "event_payload": {"event_id": event_id, "ticket_id": ticket_id}}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75], "emoji": True}


def _status_option(status: str) -> dict[str, Any]:
    return {"text": _plain(STATUS_LABELS[status]), "value": status}


def ticket_actions(ticket: dict[str, Any], public_url: str) -> dict[str, Any]:
    select: dict[str, Any] = {
        "type": "static_select",
        "action_id": "sb_status",
        "placeholder": _plain("Status"),
        "options": [_status_option(s) for s in STATUS_LABELS],
    }
    if ticket.get("status") in STATUS_LABELS:
        select["initial_option"] = _status_option(ticket["status"])
    return {
        "type": "actions",
        "block_id": f"status:{ticket['id']}",
        "elements": [
            {"type": "button", "action_id": "sb_assign_me", "text": _plain("Assign to me"),
             "value": str(ticket["id"])},
            select,
            {"type": "button", "action_id": "sb_open", "text": _plain("Open in board"),
             "url": ticket_url(public_url, ticket)},
        ],
    }  # fmt: skip


def ticket_title(ticket: dict[str, Any], public_url: str) -> str:
    return f"*<{ticket_url(public_url, ticket)}|{ticket['key']}>* {escape(ticket['title'])}"


def ticket_blocks(
    ticket: dict[str, Any],
    public_url: str,
    *,
    fmt: str = "compact",
    deleted: bool = False,
    actions: bool = True,
) -> tuple[str, Blocks]:
    """(fallback text, blocks) of a ticket's root message."""
    fallback = ticket_line(ticket)
    if deleted:
        text = f"~{ticket['key']} {escape(ticket['title'])}~ — deleted"
        return f"{ticket['key']} deleted", [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    facts = (
        f"*{status_label(ticket.get('status'))}* · {PRIORITY_ICONS.get(ticket.get('priority', ''), '')} "
        f"{priority_label(ticket.get('priority'))} · assignee: {escape(person(ticket.get('assignee')))}"
    )
    blocks: Blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": ticket_title(ticket, public_url)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": facts}]},
    ]
    if fmt == "detailed":
        description = (ticket.get("description") or "").strip()
        if description:
            short = description if len(description) <= 500 else description[:499] + "…"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(short)}})
        labels = ", ".join(ticket.get("labels") or []) or "none"
        reporter = escape(person(ticket.get("reporter")))
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"reporter: {reporter} · labels: {labels}"}],
            }
        )
    if actions:
        blocks.append(ticket_actions(ticket, public_url))
    return fallback, blocks


def reply_text(lines: list[str]) -> str:
    return "\n".join(escape(line) for line in lines)


def comment_text(comment: dict[str, Any], origin: str) -> str:
    """`*Alice Archer* (via web): body`, the attribution every relayed comment carries."""
    author = escape(person(comment.get("author")))
    edited = " _(edited)_" if comment.get("edited") else ""
    return f"*{author}*{escape(via(origin))}: {escape(comment.get('body', ''))}{edited}"


def result_message(result: Result, public_url: str) -> dict[str, Any]:
    """A command's answer as `respond()` arguments (ephemeral)."""
    message: dict[str, Any] = {"response_type": "ephemeral", "replace_original": False, "text": result.text}
    if result.ticket is not None:
        _fallback, blocks = ticket_blocks(result.ticket, public_url, fmt="detailed")
        message["blocks"] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": escape(result.text)}},
            *blocks,
        ]
    elif result.tickets:
        lines = [
            f"• {ticket_title(t, public_url)} — {status_label(t.get('status'))}" for t in result.tickets[:40]
        ]
        heading = escape(result.text.split("\n", 1)[0])
        message["blocks"] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": heading + "\n" + "\n".join(lines)}}
        ]
    elif not result.ok:
        message["text"] = f":warning: {result.text}"
    return message


def dm_blocks(notification: dict[str, Any], public_url: str) -> tuple[str, Blocks]:
    title = notification["title"]
    body = escape(notification.get("message") or "")
    elements: list[dict[str, Any]] = [
        {
            "type": "button",
            "action_id": "sb_mark_read",
            "text": _plain("Mark read"),
            "value": str(notification["id"]),
        }
    ]
    if notification.get("ticket_id") and notification.get("project_id"):
        ref = {"id": notification["ticket_id"], "project_id": notification["project_id"]}
        elements.insert(
            0,
            {
                "type": "button",
                "action_id": "sb_open",
                "text": _plain("Open in board"),
                "url": ticket_url(public_url, ref),
            },
        )
    blocks: Blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(title)}*\n{body}".strip()}}
    ]
    blocks.append({"type": "actions", "block_id": f"notification:{notification['id']}", "elements": elements})
    return title, blocks


def digest_blocks(notifications: list[dict[str, Any]]) -> tuple[str, Blocks]:
    text = f"Your Switchboard digest: {len(notifications)} notification(s)"
    lines = "\n".join(f"• {escape(n['title'])}" for n in notifications[:50])
    more = f"\n…and {len(notifications) - 50} more on the board" if len(notifications) > 50 else ""
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*\n{lines}{more}"}}]


def summary_blocks(summary: dict[str, Any]) -> tuple[str, Blocks]:
    project = summary["project"]
    counts = " · ".join(
        f"{label}: {summary['counts'].get(status, 0)}" for status, label in STATUS_LABELS.items()
    )
    working = (
        "\n".join(f"• {escape(w['name'])}: {', '.join(w['tickets'])}" for w in summary["working"])
        or "• nobody"
    )
    text = (
        f"*{project['key']} board* — {escape(project['name'])}\n{counts}\n"
        f"Changes today: {summary['changed_today']}\nIn progress:\n{working}"
    )
    return f"{project['key']} board summary", [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
