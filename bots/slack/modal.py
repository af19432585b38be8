"""The "create ticket" modal (`/ticket create` without a title, and the message shortcut).

`private_metadata` carries `{"channel": …, "message": …}` as JSON so the submission knows where to
answer. Block ids: `project`, `title`, `description`, `priority`, `assignee` (each with action id
`value`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bots.text import PRIORITY_LABELS

CALLBACK_ID = "sb_create"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75]}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


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
    title_input: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": 200}
    if title:
        title_input["initial_value"] = title[:200]
    description_input: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": True}
    if description:
        description_input["initial_value"] = description[:3000]
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


def read_submission(view: dict[str, Any]) -> Submission:
    values = view.get("state", {}).get("values", {})

    def value(block: str) -> Any:
        element = (values.get(block) or {}).get("value") or {}
        if "selected_option" in element:
            return (element["selected_option"] or {}).get("value")
        if "selected_user" in element:
            return element["selected_user"]
        return element.get("value")

    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    return Submission(
        project_key=value("project") or "",
        title=(value("title") or "").strip(),
        description=value("description") or "",
        priority=value("priority") or "medium",
        assignee_slack_id=value("assignee"),
        channel=meta.get("channel"),
    )
