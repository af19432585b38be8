"""The generic kind: any tool posts a documented JSON body, signed with Standard Webhooks.

    {"action": "create" | "comment" | "status" | "assign",
     "ticket": "OPS-12"  or  "external_id": "<the caller's own id>",
     "title", "description", "priority", "labels", "status", "assignee" (an email, null: nobody),
     "body" (the comment)}

* `create` with an `external_id` is an upsert: the first one opens the ticket and remembers the id;
  later ones change the fields they give on that same ticket (nothing when nothing differs). Without
  an `external_id` it always opens a ticket (a retry is still caught by its `webhook-id`).
* `comment` adds `body`; `status` moves the ticket to `status`; `assign` sets `assignee` (a member's
  email, or null to unassign). These name the ticket by `ticket` (its key, of this project) or by an
  `external_id` an earlier `create` gave it.
"""

from __future__ import annotations

from typing import Any

from hub.domain.errors import Conflict, NotFound, ValidationFailed
from hub.services.integrations import links
from hub.services.integrations.acting import Acting, Outcome

ACTIONS = ("create", "comment", "status", "assign")
FIELDS = (
    "action",
    "ticket",
    "external_id",
    "title",
    "description",
    "priority",
    "labels",
    "status",
    "assignee",
    "body",
)


def _text(
    payload: dict[str, Any], name: str, errors: dict[str, str], *, required: bool = False
) -> str | None:
    value = payload.get(name)
    if value is None:
        if required:
            errors[name] = "required"
        return None
    if not isinstance(value, str):
        errors[name] = "must be a string"
        return None
    return value


#: The field each action requires, and what to say when it is missing.
REQUIRED = {
    "create": ("title", "required"),
    "comment": ("body", "required"),
    "status": ("status", "required"),
    "assign": ("assignee", "required (an email, or null to unassign)"),
}


def _shape(payload: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Each known field's value if it has the right type (None otherwise, with the error noted)."""
    values: dict[str, Any] = {"action": payload.get("action")}
    for name in ("ticket", "external_id", "title", "description", "priority", "status", "body"):
        values[name] = _text(payload, name, errors)
    if "assignee" in payload:
        values["assignee"] = _text(payload, "assignee", errors)
    labels = payload.get("labels")
    if labels is not None and not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        errors["labels"] = "must be a list of strings"
    values["labels"] = labels
    external = values["external_id"]
    if external is not None and not 0 < len(external) <= links.MAX_EXTERNAL_ID:
        errors["external_id"] = f"must be 1 to {links.MAX_EXTERNAL_ID} characters"
    return values


def check(payload: dict[str, Any]) -> dict[str, Any]:
    """The body's fields, checked for shape (the ticket services check their values)."""
    errors: dict[str, str] = {name: "unknown field" for name in set(payload) - set(FIELDS)}
    action = payload.get("action")
    if action not in ACTIONS:
        errors["action"] = "must be one of " + ", ".join(ACTIONS)
    values = _shape(payload, errors)
    if action in ("comment", "status", "assign") and not values["ticket"] and not values["external_id"]:
        errors["ticket"] = "name the ticket by ticket (its key) or external_id"
    if action in REQUIRED:
        name, why = REQUIRED[str(action)]
        present = name in payload if name == "assignee" else bool(values[name])
        if not present:
            errors.setdefault(name, why)
    if errors:
        raise ValidationFailed("invalid request", fields=errors)
    return values


async def _ticket_ref(acting: Acting, values: dict[str, Any]) -> int | str:
    if values["ticket"]:
        key = str(values["ticket"]).strip().upper()
        if acting.keys_in(key) != [key]:
            raise NotFound(f"no ticket {key[:40]} in project {acting.project_key}")
        return key
    link = await links.find(acting.uow(), acting.integration_id, f"ext:{values['external_id']}")
    if link is None or link.ticket_id is None:
        raise NotFound("no ticket with this external_id")
    return link.ticket_id


async def _changes(acting: Acting, values: dict[str, Any]) -> dict[str, Any]:
    changes = {
        k: values[k]
        for k in ("title", "description", "priority", "status", "labels")
        if values[k] is not None
    }
    if "assignee" in values:
        email = values["assignee"]
        changes["assignee_id"] = await acting.member_by_email(email) if email else None
    return changes


async def handle(acting: Acting, payload: dict[str, Any]) -> Outcome:
    values = check(payload)
    outcome = Outcome()
    action = values["action"]
    if action == "create":
        await _create(acting, values, outcome)
        return outcome
    ref = await _ticket_ref(acting, values)
    if action == "comment":
        await acting.comment(ref, values["body"])
        outcome.note("commented", changed=True)
        return outcome
    if action == "status":
        changes: dict[str, Any] = {"status": values["status"]}
    else:
        email = values["assignee"]
        changes = {"assignee_id": await acting.member_by_email(email) if email else None}
    ticket, changed = await acting.update(ref, changes)
    outcome.note(f"{action} of {ticket['key']} " + ("changed" if changed else "unchanged"), changed=changed)
    return outcome


async def _create(acting: Acting, values: dict[str, Any], outcome: Outcome) -> None:
    changes = await _changes(acting, values)
    external = values["external_id"]
    if external is None:
        ticket = await acting.create(**_create_fields(changes))
        outcome.note(f"opened {ticket['key']}", changed=True)
        return
    link = await links.claim(acting.uow(), acting.integration_id, f"ext:{external}")
    if link is None:
        raise Conflict("another request is creating the ticket of this external_id; retry")
    if not link.new:
        assert link.ticket_id is not None
        ticket, changed = await acting.update(link.ticket_id, changes)
        outcome.note(f"{ticket['key']} " + ("updated" if changed else "unchanged"), changed=changed)
        return
    try:
        ticket = await acting.create(**_create_fields(changes))
    except BaseException:
        await links.release(acting.uow(), link.id)
        raise
    await links.save(acting.uow(), link.id, ticket_id=ticket["id"], state={})
    outcome.note(f"opened {ticket['key']}", changed=True)


def _create_fields(changes: dict[str, Any]) -> dict[str, Any]:
    fields = dict(changes)
    fields["labels"] = fields.get("labels") or ()
    return fields
