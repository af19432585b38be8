"""Keeping one channel's ticket messages in step: the relay's posting protocol, exactly once.

Per channel and ticket there is one root message (re-rendered on every change) and a thread with one
short reply per round of changes plus the hub's comments. Before each post that is not idempotent
the writer commits a write-ahead marker and clears it once the platform's answer is recorded; a
marker found on the next attempt is reconciled with `RelaySink.find_posted` (see `bots/relay.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bots.pacing import ChannelPacer
from bots.sink import RelaySink
from bots.text import actor_name, change_line
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import EventType
from hub.domain.events import COMMENT_EVENTS, TICKET_EVENTS
from hub.services.chat import relay as chat_relay
from hub.services.chat.relay import CommentMessage, RelayBatch, RelayEvent, Target, TicketMessage

#: Change kinds worth a thread reply in the compact format (detailed: every change).
COMPACT_REPLIES = frozenset(
    {EventType.TICKET_STATUS_CHANGED, EventType.TICKET_ASSIGNED, EventType.TICKET_DELETED}
)


@dataclass
class Group:
    """One channel's events for one ticket, in order."""

    target: Target
    ticket_id: int
    events: list[RelayEvent] = field(default_factory=list)


class TicketThreads:
    def __init__(self, uow: Callable[[], UnitOfWork], sink: RelaySink, pacer: ChannelPacer) -> None:
        self.uow = uow
        self.sink = sink
        self.pacer = pacer

    async def _save(self, message: TicketMessage) -> None:
        await chat_relay.save_ticket_message(self.uow(), self.sink.platform, message)

    async def group(self, group: Group, batch: RelayBatch) -> None:
        """Bring the ticket's root, thread and comments in the group's channel up to its events."""
        target = group.target
        key = (target.team_id, target.channel_id, group.ticket_id)
        msg = batch.ticket_messages.get(key) or TicketMessage(
            target.team_id, target.channel_id, group.ticket_id
        )
        batch.ticket_messages[key] = msg
        if msg.pending_event_id is not None:
            await self._reconcile(target, msg)
        changes = [e for e in group.events if e.type in TICKET_EVENTS and e.id > msg.last_event_id]
        deleted = any(e.type == EventType.TICKET_DELETED for e in changes)
        if msg.message_id is None:
            if not await self._post_root(group, msg, changes, deleted, batch):
                return
            changes = []  # the new root already shows the latest state
        if changes:
            await self._changes(target, msg, changes, deleted, batch)
        if not deleted:
            for event in group.events:
                if event.type in COMMENT_EVENTS:
                    await self._comment(target, msg, event, batch)

    async def _post_root(
        self, group: Group, msg: TicketMessage, changes: list[RelayEvent], deleted: bool, batch: RelayBatch
    ) -> bool:
        """Post the ticket's root message in the channel, behind a write-ahead marker; False when there
        is nothing to show (the ticket is gone, or only comments changed and none was created)."""
        target = group.target
        latest = changes[-1].payload["ticket"] if changes else batch.tickets_now.get(group.ticket_id)
        if deleted or latest is None or (not changes and not self._posts_comment(group)):
            return False
        top = group.events[-1].id
        msg.pending_event_id = top
        await self._save(msg)
        await self.pacer.slot(target.channel_id)
        msg.message_id = msg.thread_id = await self.sink.post_ticket(target, latest, event_id=top)
        msg.last_event_id = max([msg.last_event_id, *(e.id for e in changes)])
        msg.pending_event_id = None
        await self._save(msg)
        return True

    @staticmethod
    def _posts_comment(group: Group) -> bool:
        return any(e.type == EventType.COMMENT_CREATED for e in group.events)

    async def _reconcile(self, target: Target, msg: TicketMessage) -> None:
        pending = msg.pending_event_id
        assert pending is not None
        found = await self.sink.find_posted(target, msg.thread_id if msg.message_id else None, pending)
        if found is not None:
            if msg.message_id is None:
                msg.message_id = msg.thread_id = found
            msg.last_event_id = max(msg.last_event_id, pending)
        msg.pending_event_id = None
        await self._save(msg)

    async def _changes(
        self, target: Target, msg: TicketMessage, changes: list[RelayEvent], deleted: bool, batch: RelayBatch
    ) -> None:
        assert msg.message_id is not None
        assert msg.thread_id is not None
        await self.sink.update_ticket(target, msg.message_id, changes[-1].payload["ticket"], deleted=deleted)
        worth = [e for e in changes if target.format == "detailed" or e.type in COMPACT_REPLIES]
        top = changes[-1].id
        if worth:
            lines = [
                change_line(e.type, e.payload, actor_name(e.payload, e.actor_id, batch.names)) for e in worth
            ]
            msg.pending_event_id = top
            await self._save(msg)
            await self.pacer.slot(target.channel_id)
            await self.sink.post_reply(target, msg.thread_id, lines, event_id=top)
        msg.last_event_id = top
        msg.pending_event_id = None
        await self._save(msg)

    async def _comment(
        self, target: Target, msg: TicketMessage, event: RelayEvent, batch: RelayBatch
    ) -> None:
        payload: dict[str, Any] = event.payload
        comment = payload["comment"]
        key = (target.team_id, target.channel_id, int(comment["id"]))
        known = batch.comment_messages.get(key)
        origin = str(payload.get("origin") or "web")
        if event.type == EventType.COMMENT_CREATED:
            await self._new_comment(target, msg, event, known, key)
            return
        if known is None or known.message_id is None:
            return
        if event.type == EventType.COMMENT_UPDATED and not known.from_chat:
            await self.sink.update_comment(target, known.message_id, comment, origin, thread_id=msg.thread_id)
        elif event.type == EventType.COMMENT_DELETED:
            if not known.from_chat:
                await self.sink.delete_message(target, known.message_id, thread_id=msg.thread_id)
            await chat_relay.forget_comment_message(self.uow(), self.sink.platform, known)
            batch.comment_messages.pop(key, None)

    async def _new_comment(
        self, target: Target, msg: TicketMessage, event: RelayEvent, known: CommentMessage | None, key: Any
    ) -> None:
        payload: dict[str, Any] = event.payload
        comment = payload["comment"]
        if known is not None and known.message_id is not None:
            return  # already in the thread
        row = CommentMessage(target.team_id, target.channel_id, int(comment["id"]), msg.ticket_id, event.id)
        typed_here = self.sink.chat_message_of(payload.get("meta") or {}, target)
        if typed_here is not None:  # written in this very channel: record it, never echo it back
            row.message_id, row.from_chat = typed_here, True
            await chat_relay.save_comment_message(self.uow(), self.sink.platform, row)
            return
        if msg.thread_id is None:
            return
        if known is not None:  # a marker from a crash: was it posted?
            row.message_id = await self.sink.find_posted(target, msg.thread_id, event.id)
        if row.message_id is None:
            await chat_relay.save_comment_message(self.uow(), self.sink.platform, row)  # write-ahead
            await self.pacer.slot(target.channel_id)
            origin = str(payload.get("origin") or "web")
            row.message_id = await self.sink.post_comment(
                target, msg.thread_id, comment, origin, event_id=event.id
            )
        await chat_relay.save_comment_message(self.uow(), self.sink.platform, row)
