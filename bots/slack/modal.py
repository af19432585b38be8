"""The modals: "create ticket" (`/ticket create` without a title, and the message shortcut), "comment"
and "edit" (buttons on ticket messages), and the notices a modal turns into while and after the work
runs (`notice_view`).

`private_metadata` is JSON: `{"channel": …, "message": …}` for the create form (where to answer; the
source message of the shortcut), `{"ticket": id, "channel": …}` for comment and edit. Block ids:
`project`, `title`, `description`, `priority`, `assignee`, `body` (each with action id `value`).
Texts fit Block Kit's limits (titles 24, inputs `max_length`, initial values within them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bots.slack.limits import MAX_SECTION, fit
from bots.text import PRIORITY_LABELS

CALLBACK_ID = "sb_create"
COMMENT_ID = "sb_comment_modal"
EDIT_ID = "sb_edit_modal"
#: Block Kit: a plain_text_input's `max_length` is at most 3,000; titles hold 200.
MAX_INPUT = 3_000
MAX_TITLE = 200


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75]}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def _meta(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _values(view: dict[str, Any]) -> dict[str, Any]:
    values = view.get("state", {}).get("values", {})
    return values if isinstance(values, dict) else {}


def _value(values: dict[str, Any], block: str) -> Any:
    element = (values.get(block) or {}).get("value") or {}
    if "selected_option" in element:
        return (element["selected_option"] or {}).get("value")
    if "selected_user" in element:
        return element["selected_user"]
    return element.get("value")


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (no submit): "Creating…", "Created OPS-3", a refusal."""
    return {
        "type": "modal",
        "title": _plain(title[:24]),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": fit(text, MAX_SECTION)}}],
    }


def _text_input(initial: str, *, limit: int, multiline: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": limit}
    if multiline:
        element["multiline"] = True
    if initial:
        element["initial_value"] = initial[:limit]
    return element


def comment_view(ticket: dict[str, Any], channel: str | None) -> dict[str, Any]:
    """ "Comment on OPS-3": one multiline input; the submission adds it as the clicking user."""
    return {
        "type": "modal",
        "callback_id": COMMENT_ID,
        "title": _plain(f"Comment on {ticket['key']}"[:24]),
        "submit": _plain("Comment"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"ticket": ticket["id"], "channel": channel}),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": fit(ticket["title"], MAX_SECTION)}},
            {"type": "input", "block_id": "body", "label": _plain("Comment"),
             "element": _text_input("", limit=MAX_INPUT, multiline=True)},
        ],
    }  # fmt: skip


def edit_view(ticket: dict[str, Any], channel: str | None) -> dict[str, Any]:
    """ "Edit OPS-3": title, description and priority, prefilled with the ticket's."""
    priorities = [_option(label, value) for value, label in PRIORITY_LABELS.items()]
    current = [o for o in priorities if o["value"] == ticket.get("priority")] or priorities[1:2]
    return {
        "type": "modal",
        "callback_id": EDIT_ID,
        "title": _plain(f"Edit {ticket['key']}"[:24]),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"ticket": ticket["id"], "channel": channel}),
        "blocks": [
            {"type": "input", "block_id": "title", "label": _plain("Title"),
             "element": _text_input(ticket.get("title") or "", limit=MAX_TITLE)},
            {"type": "input", "block_id": "description", "label": _plain("Description"), "optional": True,
             "element": _text_input(ticket.get("description") or "", limit=MAX_INPUT, multiline=True)},
            {"type": "input", "block_id": "priority", "label": _plain("Priority"),
             "element": {"type": "static_select", "action_id": "value", "options": priorities,
                         "initial_option": current[0]}},
        ],
    }  # fmt: skip


@dataclass(frozen=True)
class TicketForm:
    """A comment or edit submission: the ticket, where the button was, and the field values."""

    ticket_id: str
    channel: str | None
    body: str = ""
    title: str = ""
    description: str = ""
    priority: str = ""


def read_ticket_form(view: dict[str, Any]) -> TicketForm:
    values, meta = _values(view), _meta(view)
    return TicketForm(
        ticket_id=str(meta.get("ticket") or ""),
        channel=meta.get("channel"),
        body=(_value(values, "body") or "").strip(),
        title=(_value(values, "title") or "").strip(),
        description=_value(values, "description") or "",
        priority=_value(values, "priority") or "",
    )


def create_view(
    projects: list[dict[str, Any]],
    *,
    project_key: str | None = None,
    title: str = "",
    description: str = "",
    channel: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """The modal; only projects the user may write to are offered."""
    options = [_option(f"{p['key']} — {p['name']}", p["key"]) for p in projects[:100]]
    project: dict[str, Any] = {"type": "static_select", "action_id": "value", "options": options}
    chosen = [o for o in options if o["value"] == project_key] or options[:1]
    if chosen:
        project["initial_option"] = chosen[0]
    title_input = _text_input(title, limit=MAX_TITLE)
    description_input = _text_input(description, limit=MAX_INPUT, multiline=True)
    priorities = [_option(label, value) for value, label in PRIORITY_LABELS.items()]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain("New ticket"),
        "submit": _plain("Create"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"channel": channel, "message": message}),
        "blocks": [
            {"type": "input", "block_id": "project", "label": _plain("Project"), "element": project},
            {"type": "input", "block_id": "title", "label": _plain("Title"), "element": title_input},
            {"type": "input", "block_id": "description", "label": _plain("Description"), "optional": True,
             "element": description_input},
            {"type": "input", "block_id": "priority", "label": _plain("Priority"), "optional": True,
             "element": {"type": "static_select", "action_id": "value", "options": priorities,
                         "initial_option": priorities[1]}},
            {"type": "input", "block_id": "assignee", "label": _plain("Assignee"), "optional": True,
             "element": {"type": "users_select", "action_id": "value"}},
        ],
    }  # fmt: skip


@dataclass(frozen=True)
class Submission:
    project_key: str
    title: str
    description: str
    priority: str
    assignee_slack_id: str | None
    channel: str | None
    #: The source message's ts (the message shortcut): the ticket links to it, the answer goes there.
    message: str | None = None


def read_submission(view: dict[str, Any]) -> Submission:
    values, meta = _values(view), _meta(view)
    return Submission(
        project_key=_value(values, "project") or "",
        title=(_value(values, "title") or "").strip(),
        description=_value(values, "description") or "",
        priority=_value(values, "priority") or "medium",
        assignee_slack_id=_value(values, "assignee"),
        channel=meta.get("channel"),
        message=meta.get("message"),
    )
