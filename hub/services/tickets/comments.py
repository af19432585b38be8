"""Comments on tickets, with @mentions. Commenters and mentioned members start following."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hub.adapters.db.models import Comment, Ticket, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import Role
from hub.domain.errors import Forbidden, NotFound, ValidationFailed
from hub.domain.events import CommentCreated, CommentDeleted, CommentUpdated
from hub.domain.identity import Actor
from hub.services import policy
from hub.services.policy import Action
from hub.services.tickets.tickets import COMMENT_LOAD, add_watchers, mentions_in, visible_ticket
from hub.services.views import comment_view

MAX_BODY = 10_000


def _check_body(body: str) -> str:
    body = body.strip()
    if not body or len(body) > MAX_BODY:
        raise ValidationFailed("invalid comment", fields={"body": f"must be 1 to {MAX_BODY} characters"})
    return body


def _ticket_ref(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.id, "key": ticket.key, "title": ticket.title, "project_id": ticket.project_id}


async def list_comments(uow: UnitOfWork, actor: Actor, ref: int | str) -> list[dict[str, Any]]:
    async with uow:
        ticket, _role = await visible_ticket(uow, actor, ref, Action.READ)
        rows = await uow.session.scalars(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(Comment.ticket_id == ticket.id)
            .order_by(Comment.id)
        )
        return [comment_view(c) for c in rows]


async def add_comment(
    uow: UnitOfWork,
    actor: Actor,
    ref: int | str,
    body: str,
    *,
    origin: str = "api",
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Comment on a ticket. `origin` and `meta` (e.g. a chat message id) travel with the event so the
    chat relays never echo a comment back where it came from."""
    body = _check_body(body)
    async with uow:
        ticket, _role = await visible_ticket(uow, actor, ref, Action.WRITE, load=COMMENT_LOAD)
        comment = Comment(ticket_id=ticket.id, author_id=actor.id, body=body, origin=origin)
        now = utcnow()
        comment.created_at = comment.updated_at = now
        uow.session.add(comment)
        mentioned = await mentions_in(uow, ticket.project_id, body)
        watchers = await add_watchers(uow, ticket, [actor.id, *mentioned])
        await uow.session.flush()
        # The author by primary key: no round trip when the session holds them already.
        comment.author = await uow.session.get_one(User, actor.id)
        view = comment_view(comment)
        created = CommentCreated(
            ticket_id=ticket.id,
            ticket=_ticket_ref(ticket),
            comment=view,
            origin=origin,
            mentions=tuple(mentioned),
            watchers=tuple(watchers),
            meta=meta or {},
        )
        uow.emit(created, project_id=ticket.project_id, actor_id=actor.id)
        await uow.commit()
        return view


def _emit_comment_event(
    uow: UnitOfWork,
    kind: type[CommentUpdated | CommentDeleted],
    actor: Actor,
    ticket: Ticket,
    view: dict[str, Any],
    origin: str,
) -> None:
    event = kind(ticket_id=ticket.id, ticket=_ticket_ref(ticket), comment=view, origin=origin)
    uow.emit(event, project_id=ticket.project_id, actor_id=actor.id)


async def _own_comment(uow: UnitOfWork, actor: Actor, comment_id: int) -> tuple[Comment, Ticket, Role]:
    comment = await uow.session.scalar(
        select(Comment).options(joinedload(Comment.author)).where(Comment.id == comment_id)
    )
    if comment is None:
        raise NotFound("no such comment")
    try:
        ticket, role = await visible_ticket(uow, actor, comment.ticket_id, Action.READ)
    except NotFound:
        raise NotFound("no such comment") from None
    return comment, ticket, role


async def edit_comment(
    uow: UnitOfWork, actor: Actor, comment_id: int, body: str, *, origin: str = "api"
) -> dict[str, Any]:
    """Only the author edits a comment (and only while still allowed to write in the project)."""
    body = _check_body(body)
    async with uow:
        comment, ticket, role = await _own_comment(uow, actor, comment_id)
        policy.require(role, Action.WRITE)
        if not policy.can_edit_comment(role, actor, comment.author_id):
            raise Forbidden("only the author can edit a comment")
        if comment.body == body:
            return comment_view(comment)
        comment.body = body
        comment.edited = True
        comment.updated_at = utcnow()
        await uow.session.flush()
        view = comment_view(comment)
        _emit_comment_event(uow, CommentUpdated, actor, ticket, view, origin)
        await uow.commit()
        return view


async def delete_comment(uow: UnitOfWork, actor: Actor, comment_id: int, *, origin: str = "api") -> None:
    """The author or a project admin deletes a comment."""
    async with uow:
        comment, ticket, role = await _own_comment(uow, actor, comment_id)
        policy.require(role, Action.WRITE)
        if not policy.can_delete_comment(role, actor, comment.author_id):
            raise Forbidden("only the author or a project admin can delete a comment")
        view = comment_view(comment)
        await uow.session.delete(comment)
        _emit_comment_event(uow, CommentDeleted, actor, ticket, view, origin)
        await uow.commit()
