"""What the chat adapters look up about mirrored messages: a comment's author, a ticket's threads.

A reply typed in a relayed ticket's thread becomes a hub comment by its (linked) author. When that
message is deleted, Discord sends only the message id (`MESSAGE_DELETE` names no one; the message is
in the client's cache only if it was seen since the last start). The comment follows its message:
it is deleted as its own author, through the same service and checks as any deletion.

`threads_of_ticket` lets an adapter check a ticket's relayed threads (e.g. locked on Discord) before
it tells a user that their comment will show there.
"""

from __future__ import annotations

from sqlalchemy import select

from hub.adapters.db.chat_models import ChatTicketMessage
from hub.adapters.db.models import Comment, User
from hub.adapters.db.uow import UnitOfWork
from hub.domain.identity import Actor


async def comment_author(uow: UnitOfWork, comment_id: int) -> Actor | None:
    """The author of comment `comment_id` as an actor; None if the comment or an active author is gone."""
    async with uow:
        user = await uow.session.scalar(
            select(User)
            .join(Comment, Comment.author_id == User.id)
            .where(Comment.id == comment_id, User.deactivated_at.is_(None))
        )
        return Actor.of(user) if user is not None else None


async def threads_of_ticket(
    uow: UnitOfWork, platform: str, team_id: str, ticket_id: int
) -> list[tuple[str, str]]:
    """(channel id, thread id) of every relayed thread of a ticket in one workspace or guild."""
    async with uow:
        rows = await uow.session.execute(
            select(ChatTicketMessage.channel_id, ChatTicketMessage.thread_id).where(
                ChatTicketMessage.platform == platform,
                ChatTicketMessage.team_id == team_id,
                ChatTicketMessage.ticket_id == ticket_id,
                ChatTicketMessage.thread_id.is_not(None),
            )
        )
        return [(str(channel), str(thread)) for channel, thread in rows]
