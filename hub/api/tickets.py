"""/api/projects/{id}/tickets, /api/tickets/*, /api/comments/*."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from hub.api.deps import client_origin, current_user, hub
from hub.api.schemas import (
    CommentIn,
    CommentList,
    CommentOut,
    TicketIn,
    TicketList,
    TicketOut,
    TicketPatch,
    TicketQuery,
    Timeline,
    TimelineQuery,
)
from hub.services.tickets import comments, tickets, timeline

bp = Blueprint("tickets", __name__, url_prefix="/api")


@bp.get("/projects/<int:project_id>/tickets")
@validate_querystring(TicketQuery)
@validate_response(TicketList)
async def list_tickets(project_id: int, query_args: TicketQuery) -> dict[str, Any]:
    """Tickets, newest first, filtered by status, assignee, label and text; paginated by `cursor`."""
    user = await current_user()
    page = await tickets.list_tickets(
        hub().uow(),
        user,
        project_id,
        status=query_args.status,
        assignee=query_args.assignee,
        label=query_args.label,
        q=query_args.q,
        limit=query_args.limit,
        cursor=query_args.cursor,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@bp.post("/projects/<int:project_id>/tickets")
@validate_request(TicketIn)
@validate_response(TicketOut, 201)
async def create_ticket(project_id: int, data: TicketIn) -> tuple[dict[str, Any], int]:
    user = await current_user()
    view = await tickets.create_ticket(
        hub().uow(),
        user,
        project_id,
        title=data.title,
        description=data.description,
        status=data.status,
        priority=data.priority,
        assignee_id=data.assignee_id,
        labels=data.labels,
        origin=client_origin(),
    )
    return view, 201


@bp.get("/tickets/<ref>")
@validate_response(TicketOut)
async def get_ticket(ref: str) -> dict[str, Any]:
    """A ticket by numeric id or key (`OPS-12`)."""
    user = await current_user()
    return await tickets.get_ticket(hub().uow(), user, ref)


@bp.get("/tickets/<ref>/events")
@validate_querystring(TimelineQuery)
@validate_response(Timeline)
async def ticket_events(ref: str, query_args: TimelineQuery) -> dict[str, Any]:
    """The ticket's history (its ticket and comment events, archived ones too), newest first; page back
    with `before` = `next_before`."""
    user = await current_user()
    return await timeline.ticket_events(
        hub().uow(), user, ref, before=query_args.before, limit=query_args.limit
    )


@bp.patch("/tickets/<ref>")
@validate_request(TicketPatch)
@validate_response(TicketOut)
async def update_ticket(ref: str, data: TicketPatch) -> dict[str, Any]:
    """Change some fields; send the `version` you edited to get 409 instead of overwriting."""
    user = await current_user()
    changes = {name: getattr(data, name) for name in data.model_fields_set if name != "version"}
    return await tickets.update_ticket(
        hub().uow(), user, ref, changes, version=data.version, origin=client_origin()
    )


@bp.delete("/tickets/<ref>")
async def delete_ticket(ref: str) -> tuple[str, int]:
    user = await current_user()
    await tickets.delete_ticket(hub().uow(), user, ref, origin=client_origin())
    return "", 204


@bp.put("/tickets/<ref>/watchers/me")
@validate_response(TicketOut)
async def follow(ref: str) -> dict[str, Any]:
    """Follow a ticket: get notified of its comments and status changes."""
    user = await current_user()
    return await tickets.set_following(hub().uow(), user, ref, True, origin=client_origin())


@bp.delete("/tickets/<ref>/watchers/me")
@validate_response(TicketOut)
async def unfollow(ref: str) -> dict[str, Any]:
    user = await current_user()
    return await tickets.set_following(hub().uow(), user, ref, False, origin=client_origin())


@bp.get("/tickets/<ref>/comments")
@validate_response(CommentList)
async def list_comments(ref: str) -> dict[str, Any]:
    user = await current_user()
    return {"items": await comments.list_comments(hub().uow(), user, ref)}


@bp.post("/tickets/<ref>/comments")
@validate_request(CommentIn)
@validate_response(CommentOut, 201)
async def add_comment(ref: str, data: CommentIn) -> tuple[dict[str, Any], int]:
    """Comment; `@name` or `@email` mentions a project member."""
    user = await current_user()
    return await comments.add_comment(hub().uow(), user, ref, data.body, origin=client_origin()), 201


@bp.patch("/comments/<int:comment_id>")
@validate_request(CommentIn)
@validate_response(CommentOut)
async def edit_comment(comment_id: int, data: CommentIn) -> dict[str, Any]:
    """Edit your own comment."""
    user = await current_user()
    return await comments.edit_comment(hub().uow(), user, comment_id, data.body, origin=client_origin())


@bp.delete("/comments/<int:comment_id>")
async def delete_comment(comment_id: int) -> tuple[str, int]:
    user = await current_user()
    await comments.delete_comment(hub().uow(), user, comment_id, origin=client_origin())
    return "", 204
