"""/api/projects/*: projects, members, activity."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from hub.api.deps import current_user, hub
from hub.api.limits import limits
from hub.api.schemas import (
    EventList,
    EventQuery,
    LabelList,
    MemberIn,
    MemberList,
    MemberOut,
    MemberPatch,
    ProjectIn,
    ProjectList,
    ProjectOut,
    ProjectPatch,
    Strict,
)
from hub.services.projects import activity, broadcast, projects
from hub.services.tickets import labels

bp = Blueprint("projects", __name__, url_prefix="/api/projects")


class BroadcastIn(Strict):
    type: str = Field(
        min_length=1,
        max_length=64,
        pattern=f"^{broadcast.TYPE_PATTERN.pattern}$",
        description="what the clients see as `event`",
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="any JSON object, at most BROADCAST_MAX_BYTES (16384) as JSON"
    )


class BroadcastOut(BaseModel):
    event_id: int


@bp.get("")
@validate_response(ProjectList)
async def list_projects() -> dict[str, Any]:
    """Projects the user belongs to, with their role in each."""
    user = await current_user()
    return {"items": await projects.list_projects(hub().uow(), user)}


@bp.post("")
@validate_request(ProjectIn)
@validate_response(ProjectOut, 201)
async def create_project(data: ProjectIn) -> tuple[dict[str, Any], int]:
    """Create a project; you become its owner."""
    user = await current_user()
    return await projects.create_project(hub().uow(), user, data.key, data.name, data.description), 201


@bp.get("/<int:project_id>")
@validate_response(ProjectOut)
async def get_project(project_id: int) -> dict[str, Any]:
    user = await current_user()
    return await projects.get_project(hub().uow(), user, project_id)


@bp.patch("/<int:project_id>")
@validate_request(ProjectPatch)
@validate_response(ProjectOut)
async def update_project(project_id: int, data: ProjectPatch) -> dict[str, Any]:
    """Rename or describe a project (admins and owners)."""
    user = await current_user()
    return await projects.update_project(
        hub().uow(), user, project_id, name=data.name, description=data.description
    )


@bp.get("/<int:project_id>/members")
@validate_response(MemberList)
async def list_members(project_id: int) -> dict[str, Any]:
    user = await current_user()
    return {"items": await projects.list_members(hub().uow(), user, project_id)}


@bp.post("/<int:project_id>/members")
@validate_request(MemberIn)
@validate_response(MemberOut, 201)
async def add_member(project_id: int, data: MemberIn) -> tuple[dict[str, Any], int]:
    """Add a user by `user_id` or `email` with a role (admins and owners)."""
    user = await current_user()
    await limits().check_member_add(user.id)
    view = await projects.add_member(
        hub().uow(), user, project_id, role=data.role, user_id=data.user_id, email=data.email
    )
    return view, 201


@bp.patch("/<int:project_id>/members/<int:user_id>")
@validate_request(MemberPatch)
@validate_response(MemberOut)
async def update_member(project_id: int, user_id: int, data: MemberPatch) -> dict[str, Any]:
    user = await current_user()
    return await projects.update_member(hub().uow(), user, project_id, user_id, data.role)


@bp.delete("/<int:project_id>/members/<int:user_id>")
async def remove_member(project_id: int, user_id: int) -> tuple[str, int]:
    """Remove a member (admins and owners), or leave the project yourself. The last owner stays."""
    user = await current_user()
    await projects.remove_member(hub().uow(), user, project_id, user_id)
    return "", 204


@bp.delete("/<int:project_id>/members/me")
async def leave_project(project_id: int) -> tuple[str, int]:
    """Leave the project (any member; the last owner stays): the same as removing yourself by id."""
    user = await current_user()
    await projects.remove_member(hub().uow(), user, project_id, user.id)
    return "", 204


@bp.get("/<int:project_id>/events")
@validate_querystring(EventQuery)
@validate_response(EventList)
async def list_events(project_id: int, query_args: EventQuery) -> dict[str, Any]:
    """The project's events after `after`, oldest first: the same events the sockets carry. With
    `before`, the events before it, newest first (paging back through history). Events older than
    EVENTS_RETENTION_DAYS are read from the archive, so the feed stays complete."""
    user = await current_user()
    return await activity.list_events(
        hub().uow(),
        user,
        project_id,
        after=query_args.after,
        before=query_args.before,
        limit=query_args.limit,
    )


@bp.get("/<int:project_id>/labels")
@validate_response(LabelList)
async def list_labels(project_id: int) -> dict[str, Any]:
    """The labels on the project's tickets with how many tickets carry each, most used first."""
    user = await current_user()
    return {"items": await labels.project_labels(hub().uow(), user, project_id)}


@bp.post("/<int:project_id>/broadcast")
@validate_request(BroadcastIn)
@validate_response(BroadcastOut, 202)
async def broadcast_to_project(project_id: int, data: BroadcastIn) -> tuple[dict[str, Any], int]:
    """Send `{"type": "broadcast", "event": type, "data": data}` to every tickets socket of the project
    on every instance (admins and owners). Answers once the event is committed, with its id."""
    user = await current_user()
    context = hub()
    event_id = await broadcast.broadcast(
        context.uow(),
        user,
        project_id,
        data.type,
        data.data,
        max_bytes=context.settings.broadcast_max_bytes,
    )
    return {"event_id": event_id}, 202
