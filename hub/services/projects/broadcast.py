"""Broadcast: push an application message to every tickets socket of a project (the seed's
`send_to_channel_layer`).

A broadcast is an outbox event, `project.broadcast`, written like any other change: every running hub
instance delivers it (from the bus, or from its outbox poll when the writer has no bus — a script, a
cron job, the CLI), each tickets socket of the project receives

    {"type": "broadcast", "event": "<type>", "data": {...}, "event_id": N, "project_id": P}

once and in `event_id` order, and a resume with `last_event_id` replays it. Every member may see it
(policy `_EVENT_AUDIENCE`); it creates no notification, and webhooks and chat relays never send it
(they only take ticket and comment events).

Limits: `type` is 1 to 64 characters of letters, digits and `_ . : -`, starting with a letter or
digit; `data` is a JSON object of at most BROADCAST_MAX_BYTES (default 16 KiB) serialised, because
every socket of the project queues it.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from sqlalchemy import select

from hub.adapters.db.models import Project
from hub.adapters.db.uow import UnitOfWork
from hub.domain.errors import NotFound, ValidationFailed
from hub.domain.events import ProjectBroadcast
from hub.domain.identity import Actor
from hub.domain.limits import find_text_problem
from hub.services.access import authorize
from hub.services.policy import Action

TYPE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
DEFAULT_MAX_BYTES = 16_384


def checked(type_: Any, data: Any, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, dict[str, Any]]:
    """`type_` and `data` as they will be sent (`data` round-tripped through JSON, so dates become
    strings); ValidationFailed naming each field that is wrong."""
    errors: dict[str, str] = {}
    if not isinstance(type_, str) or TYPE_PATTERN.fullmatch(type_) is None:
        errors["type"] = "must be 1 to 64 letters, digits or _ . : -, starting with a letter or digit"
    normalized: dict[str, Any] = {}
    if not isinstance(data, dict):
        errors["data"] = "must be a JSON object"
    else:
        try:
            encoded = orjson.dumps(data)
        except (TypeError, orjson.JSONEncodeError):
            errors["data"] = "must be JSON: string keys; strings, numbers, booleans, null, lists and objects"
        else:
            if len(encoded) > max_bytes:
                errors["data"] = f"must be at most {max_bytes} bytes as JSON (BROADCAST_MAX_BYTES)"
            elif problem := find_text_problem(data):
                errors["data"] = problem
            else:
                normalized = orjson.loads(encoded)
    if errors:
        raise ValidationFailed("invalid broadcast", fields=errors)
    return str(type_), normalized


async def broadcast(
    uow: UnitOfWork,
    actor: Actor | None,
    project_id: int,
    type_: str,
    data: dict[str, Any],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> int:
    """Send `data` as a `type_` broadcast to every tickets socket of the project, on every instance.

    `actor` None is the hub itself (`hub.broadcast(...)`, the CLI): no role is checked. Otherwise the
    actor must be an admin or owner of the project (Forbidden for members and viewers, NotFound for
    outsiders). Returns the id of the event that carries it."""
    kind, payload = checked(type_, data, max_bytes)
    async with uow:
        if actor is not None:
            await authorize(uow.session, project_id, actor, Action.MANAGE)
        elif await uow.session.get(Project, project_id) is None:
            raise NotFound("project not found")
        event = uow.emit(
            ProjectBroadcast(event=kind, data=payload),
            project_id=project_id,
            actor_id=actor.id if actor is not None else None,
        )
        await uow.commit()
        return int(event.id)


async def project_id_for_key(uow: UnitOfWork, key: str) -> int:
    """The id of the project with this key (any case), for scripts that name projects by key."""
    async with uow:
        project_id = await uow.session.scalar(select(Project.id).where(Project.key == key.strip().upper()))
    if project_id is None:
        raise NotFound(f"no project {key.strip().upper()}")
    return int(project_id)
