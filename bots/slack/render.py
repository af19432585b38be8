"""Block Kit for tickets, thread replies, comments, command answers, DMs and the board summary.

Action ids the listeners handle: `sb_assign_me`, `sb_comment`, `sb_edit` (buttons, value: ticket
id), `sb_assign_to` (a `users_select`) and `sb_status` (select, option values: statuses) in the block
`status:<ticket id>`, `sb_open` (a URL button; acknowledged only), `sb_mark_read` (button in DMs,
value: notification id). An actions block holds at most 25 elements (ours: 6).

Mentions: channel posts take `people`, the Slack ids of the linked people they may mention (hub user
id → `U…`; empty when the subscription's `mentions` is off). A linked assignee is shown as `<@U…>`
in the root message and its fallback text (what notifies); a comment ends with `cc <@U…>` for the
linked people it @mentions; everyone else stays an escaped plain name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bots.actions import Result
from bots.slack.limits import (
    BLOCKS_BUDGET,
    ELLIPSIS,
    MAX_BLOCKS,
    MAX_BUTTON,
    MAX_SECTION,
    MAX_TEXT,
    fit,
    pack,
)
from bots.slack.limits import escape as escape  # re-exported: renderers and tests escape through here
from bots.text import (
    ASSIGNED,
    STATUS_LABELS,
    person,
    priority_label,
    status_label,
    ticket_line,
    ticket_url,
    via,
)

Blocks = list[dict[str, Any]]
#: Hub user id → Slack user id of the people a channel post may mention.
People = Mapping[int, str]
#: Metadata event type on every message the relay posts (how a crash is reconciled: `find_posted`).
METADATA_TYPE = "switchboard_relay"
PRIORITY_ICONS = {"low": "▽", "medium": "◇", "high": "▲", "urgent": "‼"}
#: Room for a name or a title inside a line of ours (titles hold 200 characters, names 120).
NAME = 300
#: What a root message shows of a ticket's description (`detailed` format).
DESCRIPTION_PREVIEW = 500


def metadata(event_id: int, ticket_id: int) -> dict[str, Any]:
    return {"event_type": METADATA_TYPE, "event_payload": {"event_id": event_id, "ticket_id": ticket_id}}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:MAX_BUTTON], "emoji": True}


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
    ref = str(ticket["id"])
    return {
        "type": "actions",
        "block_id": f"status:{ticket['id']}",
        "elements": [
            {"type": "button", "action_id": "sb_assign_me", "text": _plain("Assign to me"),
             "value": str(ticket["id"])},
            {"type": "users_select", "action_id": "sb_assign_to", "placeholder": _plain("Assign to…")},
            select,
            {"type": "button", "action_id": "sb_comment", "text": _plain("Comment"), "value": ref},
            {"type": "button", "action_id": "sb_edit", "text": _plain("Edit"), "value": ref},
            {"type": "button", "action_id": "sb_open", "text": _plain("Open in board"),
             "url": ticket_url(public_url, ticket)},
        ],
    }  # fmt: skip


def mention(slack_id: str) -> str:
    """`<@U…>`; ids are Slack's own (letters and digits), never user text."""
    return f"<@{escape(slack_id)}>"


def who(user: dict[str, Any] | None, people: People) -> str:
    """A person in a post: a mention when linked here and allowed, else their escaped name."""
    user_id = (user or {}).get("id")
    if isinstance(user_id, int) and user_id in people:
        return mention(people[user_id])
    return fit(person(user), NAME)


def cc_line(people: People, user_ids: list[int] | None = None) -> str:
    """`cc <@U1> <@U2>` for the linked people (all of `people`, or those of `user_ids`), or ""."""
    ids = list(people) if user_ids is None else [uid for uid in user_ids if uid in people]
    return "cc " + " ".join(mention(people[uid]) for uid in ids) if ids else ""


def ticket_title(ticket: dict[str, Any], public_url: str) -> str:
    return f"*<{ticket_url(public_url, ticket)}|{escape(ticket['key'])}>* {fit(ticket['title'], NAME)}"


def ticket_blocks(
    ticket: dict[str, Any],
    public_url: str,
    *,
    fmt: str = "compact",
    deleted: bool = False,
    actions: bool = True,
    people: People | None = None,
) -> tuple[str, Blocks]:
    """(fallback text, blocks) of a ticket's root message; `people`: whom it may mention."""
    assignee = who(ticket.get("assignee"), people or {})
    linked = assignee.startswith("<@")
    fallback = fit(ticket_line(ticket), MAX_TEXT - 60) + (f" · assignee: {assignee}" if linked else "")
    key = escape(ticket["key"])
    if deleted:
        text = f"~{key} {fit(ticket['title'], NAME)}~ — deleted"
        return f"{key} deleted", [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    facts = (
        f"*{status_label(ticket.get('status'))}* · {PRIORITY_ICONS.get(ticket.get('priority', ''), '')} "
        f"{priority_label(ticket.get('priority'))} · assignee: {assignee}"
    )
    blocks: Blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": ticket_title(ticket, public_url)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": facts}]},
    ]
    if fmt == "detailed":
        description = (ticket.get("description") or "").strip()
        if description:
            short = fit(description, DESCRIPTION_PREVIEW)
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": short}})
        labels = fit(", ".join(ticket.get("labels") or []) or "none", 1_500)
        reporter = fit(person(ticket.get("reporter")), NAME)
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"reporter: {reporter} · labels: {labels}"}],
            }
        )
    if actions:
        blocks.append(ticket_actions(ticket, public_url))
    return fallback, blocks


def reply_text(lines: list[str], people: People | None = None) -> str:
    """Change lines for a ticket's thread; `people` (the new assignee, when linked) end it with a
    `cc` line when one of the lines is an assignment."""
    cc = cc_line(people or {}) if any(ASSIGNED in line for line in lines) else ""
    return fit("\n".join(lines), MAX_TEXT - len(cc) - 1) + (f"\n{cc}" if cc else "")


def comment_text(
    comment: dict[str, Any], origin: str, *, link: str | None = None, people: People | None = None
) -> str:
    """`*Alice Archer* (via web): body`, the attribution every relayed comment carries; a body too long
    for one message is cut and ends with a link to the ticket on the board (`link`). `people`: the
    linked people the comment mentions, named on a last `cc` line."""
    author = fit(person(comment.get("author")), NAME)
    cc = cc_line(people or {})
    edited = (" _(edited)_" if comment.get("edited") else "") + (f"\n{cc}" if cc else "")
    head = f"*{author}*{escape(via(origin))}: "
    tail = f"{ELLIPSIS} <{link}|read it all on the board>" if link else ELLIPSIS
    body = fit(comment.get("body", ""), MAX_TEXT - len(head) - len(edited), tail)
    return f"{head}{body}{edited}"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def sections(lines: list[str], more: str, budget: int = BLOCKS_BUDGET) -> Blocks:
    """Lines of markup as few sections as Slack takes (3,000 characters each); when all of them would
    pass `budget` characters, the first that fit and then `more` (`{n}`: how many were left out)."""
    kept: list[str] = []
    used = 0
    room = budget - len(more) - 10
    for index, line in enumerate(lines):
        if used + len(line) + 1 > room:
            kept.append(more.replace("{n}", str(len(lines) - index)))
            break
        kept.append(line)
        used += len(line) + 1
    return [_section(chunk) for chunk in pack(kept, MAX_SECTION)][:MAX_BLOCKS]


def board_url(public_url: str, project_id: int | None = None) -> str:
    """The board (a project's, when `project_id` is given)."""
    base = public_url.rstrip("/") + "/"
    return f"{base}#/p/{project_id}" if project_id is not None else base


def _ticket_list(heading: str, tickets: list[dict[str, Any]], public_url: str) -> Blocks:
    projects = {t.get("project_id") for t in tickets}
    board = board_url(public_url, projects.pop() if len(projects) == 1 else None)
    lines = [f"• {ticket_title(t, public_url)} — {status_label(t.get('status'))}" for t in tickets]
    return sections([fit(heading, MAX_SECTION), *lines], "…and {n} more <" + board + "|on the board>")


def result_message(result: Result, public_url: str) -> dict[str, Any]:
    """A command's answer as `respond()` arguments (ephemeral)."""
    message: dict[str, Any] = {
        "response_type": "ephemeral", "replace_original": False, "text": fit(result.text, MAX_TEXT),
    }  # fmt: skip
    if result.ticket is not None:
        _fallback, blocks = ticket_blocks(result.ticket, public_url, fmt="detailed")
        message["blocks"] = [_section(fit(result.text, MAX_SECTION)), *blocks]
    elif result.tickets:
        heading = result.text.split("\n", 1)[0]
        message["blocks"] = _ticket_list(heading, result.tickets, public_url)
    elif not result.ok:
        message["text"] = f":warning: {fit(result.text, MAX_TEXT - 10)}"
    return message


def dm_blocks(notification: dict[str, Any], public_url: str) -> tuple[str, Blocks]:
    title = fit(notification["title"], NAME)
    body = fit(notification.get("message") or "", MAX_SECTION - len(title) - 3)
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
    blocks: Blocks = [_section(f"*{title}*\n{body}".strip())]
    blocks.append({"type": "actions", "block_id": f"notification:{notification['id']}", "elements": elements})
    return title, blocks


def digest_blocks(notifications: list[dict[str, Any]], public_url: str = "") -> tuple[str, Blocks]:
    """One DM for a day's digest: a line per notification, in sections Slack takes; past the size of
    one message, the rest is counted and linked (the board lists every notification)."""
    text = f"Your Switchboard digest: {len(notifications)} notification(s)"
    lines = [f"• {fit(n['title'], NAME)}" for n in notifications]
    board = board_url(public_url) if public_url else ""
    more = "…and {n} more <" + board + "|on the board>" if board else "…and {n} more on the board"
    return text, sections([f"*{text}*", *lines], more)


def summary_blocks(summary: dict[str, Any], public_url: str = "") -> tuple[str, Blocks]:
    project = summary["project"]
    key = escape(project["key"])
    counts = " · ".join(
        f"{label}: {summary['counts'].get(status, 0)}" for status, label in STATUS_LABELS.items()
    )
    working = [
        f"• {fit(w['name'], NAME)}: {fit(', '.join(w['tickets']), 1_000)}" for w in summary["working"]
    ] or ["• nobody"]
    head = (
        f"*{key} board* — {fit(project['name'], NAME)}\n{counts}\n"
        f"Changes today: {summary['changed_today']}\nIn progress:"
    )
    board = board_url(public_url, project.get("id")) if public_url else ""
    more = "…and {n} more <" + board + "|on the board>" if board else "…and {n} more on the board"
    return f"{key} board summary", sections([head, *working], more, budget=MAX_SECTION)
