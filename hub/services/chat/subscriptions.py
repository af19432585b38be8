"""Channel subscriptions: which chat channels relay which project's events, filtered how.

Who may do it: **members and above** (`Action.WRITE`) subscribe or unsubscribe a channel; anyone who
can read the project (viewers too) lists its subscriptions; admins and owners delete any of them
(`DELETE /api/projects/{id}/chat-subscriptions/{sid}`). A subscription shows the project's tickets to
everyone in the channel, members of the project or not, so it is a write decision, not a read one: a
viewer cannot widen the audience of a project.

A subscription acts with the access of the user who made it (`created_by`): once they are no longer
a member (`policy.subscription_relays`) it is **paused** — it stays, relays nothing and keeps no
summary — and it resumes when they are added back. The state is derived from current membership
whenever it is needed (relay round, listing), never stored.

Filters: `event_types` (None: all) uses the tickets socket's action names — `created`, `updated`,
`assigned`, `status_changed`, `deleted`, `commented` (comment edits and deletions follow their
comment); `labels` (None: all) keeps tickets carrying at least one of the labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select

from hub.adapters.db.chat_models import PLATFORMS, ChatSubscription
from hub.adapters.db.models import Membership, Project, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import EventType
from hub.domain.errors import Forbidden, NotFound, ValidationFailed
from hub.domain.identity import Actor
from hub.services.access import authorize
from hub.services.policy import Action, acting_role, subscription_relays
from hub.services.views import iso

EVENT_KINDS = ("created", "updated", "assigned", "status_changed", "deleted", "commented")
FORMATS = ("compact", "detailed")
#: Outbox event type → the subscription kind that lets it through.
KIND_OF_EVENT: dict[str, str] = {
    EventType.TICKET_CREATED: "created",
    EventType.TICKET_UPDATED: "updated",
    EventType.TICKET_ASSIGNED: "assigned",
    EventType.TICKET_STATUS_CHANGED: "status_changed",
    EventType.TICKET_DELETED: "deleted",
    EventType.COMMENT_CREATED: "commented",
    EventType.COMMENT_UPDATED: "commented",
    EventType.COMMENT_DELETED: "commented",
}
_ALIASES = {"create": "created", "update": "updated", "assign": "assigned", "status": "status_changed",
            "delete": "deleted", "comment": "commented", "comments": "commented"}  # fmt: skip


def with_creator_access(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """Add the subscription creator's membership role and site-admin flag (outer joins: a creator
    removed, or whose account is gone, has neither) to a query selecting `ChatSubscription`."""
    return (
        query.add_columns(Membership.role, User.is_admin)
        .outerjoin(
            Membership,
            (Membership.project_id == ChatSubscription.project_id)
            & (Membership.user_id == ChatSubscription.created_by),
        )
        .outerjoin(User, User.id == ChatSubscription.created_by)
    )


def relays(membership_role: str | None, creator_is_admin: bool | None) -> bool:
    """Whether a subscription is active, from the columns `with_creator_access` added."""
    return subscription_relays(acting_role(membership_role, creator_is_admin))


def subscription_view(
    sub: ChatSubscription, project_key: str | None = None, *, active: bool | None = None
) -> dict[str, Any]:
    """`state`: the stored state when not "active" (e.g. "paused" by the relay, with `state_reason`);
    else `active` (see `relays`: paused while the creator is not a member); absent when neither says."""
    view: dict[str, Any] = {
        "id": sub.id,
        "platform": sub.platform,
        "team_id": sub.team_id,
        "channel": sub.channel_id,
        "project_id": sub.project_id,
        "project_key": project_key,
        "event_types": sub.event_types,
        "labels": sub.labels,
        "format": sub.format,
        "summary": sub.summary,
        "mentions": sub.mentions is not False,
        "created_by": sub.created_by,
        "created_at": iso(sub.created_at),
        #: The kinds relayed, spelled out (`event_types` keeps null for "all").
        "events": list(sub.event_types) if sub.event_types is not None else list(EVENT_KINDS),
    }
    #: The relay's record (bots/lanes.py): why it is paused, failures in a row, the next attempt.
    view["state_reason"] = sub.state_reason
    view["failures"] = sub.failures or 0
    view["retry_at"] = iso(sub.retry_at) if sub.retry_at is not None else None
    if sub.state and sub.state != "active":
        view["state"] = sub.state  # paused by the relay, archived, removed, uninstalled
    elif active is not None:
        view["state"] = "active" if active else "paused"
    return view


def clean_event_kinds(kinds: Iterable[str] | None) -> list[str] | None:
    """Normalise kinds (`status`, `ticket.status_changed`, `in-progress`-style dashes); None means all."""
    if kinds is None:
        return None
    cleaned: list[str] = []
    for kind in kinds:
        name = kind.strip().lower().replace("-", "_")
        name = KIND_OF_EVENT.get(name, _ALIASES.get(name, name))
        if name == "all":
            return None
        if name not in EVENT_KINDS:
            raise ValidationFailed(
                f"unknown event kind {kind!r}", fields={"event_types": "use " + ", ".join(EVENT_KINDS)}
            )
        if name not in cleaned:
            cleaned.append(name)
    return cleaned or None


async def _project_by_key(uow: UnitOfWork, key: str) -> Project:
    project = await uow.session.scalar(select(Project).where(Project.key == key.strip().upper()))
    if project is None:
        raise NotFound(f"no project {key.strip().upper()}")
    return project


async def subscribe(
    uow: UnitOfWork,
    actor: Actor,
    *,
    platform: str,
    team_id: str,
    channel_id: str,
    project_key: str,
    event_types: Iterable[str] | None = None,
    labels: Iterable[str] | None = None,
    format: str = "compact",
    summary: bool = False,
    mentions: bool | None = None,
) -> dict[str, Any]:
    """Relay a project into a channel (or change the channel's filters); members and above.
    `mentions`: whether posts mention linked people (None: unchanged; new subscriptions do)."""
    if platform not in PLATFORMS:
        raise ValidationFailed("unknown chat platform", fields={"platform": "must be slack or discord"})
    if format not in FORMATS:
        raise ValidationFailed("unknown format", fields={"format": "must be compact or detailed"})
    kinds = clean_event_kinds(event_types)
    label_list = sorted({label.strip() for label in labels or () if label.strip()}) or None
    async with uow:
        project = await _project_by_key(uow, project_key)
        try:
            await authorize(uow.session, project.id, actor, Action.WRITE)
        except NotFound:
            raise NotFound(f"no project {project_key.strip().upper()}") from None
        sub = await uow.session.scalar(
            select(ChatSubscription).where(
                ChatSubscription.platform == platform,
                ChatSubscription.team_id == team_id,
                ChatSubscription.channel_id == channel_id,
                ChatSubscription.project_id == project.id,
            )
        )
        now = utcnow()
        if sub is None:
            sub = ChatSubscription(
                platform=platform,
                team_id=team_id,
                channel_id=channel_id,
                project_id=project.id,
                created_by=actor.id,
                created_at=now,
            )
            uow.session.add(sub)
        sub.created_by = actor.id  # whoever (re)subscribes answers for it: a paused one resumes
        if sub.state != "active":  # subscribing again resumes it, from what happens next
            sub.state, sub.state_reason, sub.state_changed_at = "active", None, now
            sub.position, sub.failures, sub.retry_at, sub.last_error = None, 0, None, None
        sub.event_types = kinds
        sub.labels = label_list
        sub.format = format
        sub.summary = summary
        if mentions is not None:
            sub.mentions = mentions
        sub.updated_at = now
        await uow.session.flush()
        view = subscription_view(sub, project.key)
        await uow.commit()
        return view


async def unsubscribe(
    uow: UnitOfWork, actor: Actor, *, platform: str, team_id: str, channel_id: str, project_key: str | None
) -> list[str]:
    """Stop relaying one project (or, without a key, every project the actor may manage here) into the
    channel; returns the keys unsubscribed. Members and above."""
    async with uow:
        query = select(ChatSubscription, Project.key).join(Project, Project.id == ChatSubscription.project_id)
        query = query.where(
            ChatSubscription.platform == platform,
            ChatSubscription.team_id == team_id,
            ChatSubscription.channel_id == channel_id,
        )
        if project_key:
            project = await _project_by_key(uow, project_key)
            await authorize(uow.session, project.id, actor, Action.READ)  # outsiders: NotFound
            query = query.where(ChatSubscription.project_id == project.id)
        removed: list[str] = []
        for sub, key in (await uow.session.execute(query)).all():
            if project_key:
                await authorize(uow.session, sub.project_id, actor, Action.WRITE)
            else:
                try:
                    await authorize(uow.session, sub.project_id, actor, Action.WRITE)
                except (NotFound, Forbidden):
                    continue  # not theirs to remove; others' subscriptions stay
            await uow.session.delete(sub)
            removed.append(key)
        await uow.commit()
        return removed


async def list_project_subscriptions(uow: UnitOfWork, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    """The channels relaying the project (any member, viewers included), each `active` or `paused`."""
    async with uow:
        await authorize(uow.session, project_id, actor, Action.READ)
        rows = await uow.session.execute(
            with_creator_access(
                select(ChatSubscription, Project.key).join(Project, Project.id == ChatSubscription.project_id)
            )
            .where(ChatSubscription.project_id == project_id)
            .order_by(ChatSubscription.id)
        )
        return [
            subscription_view(sub, key, active=relays(role, is_admin))
            for sub, key, role, is_admin in rows.all()
        ]


async def delete_subscription(uow: UnitOfWork, actor: Actor, project_id: int, subscription_id: int) -> None:
    """Stop a channel relaying the project, whoever subscribed it: admins and owners (members get
    Forbidden; outsiders, and a subscription of another project, NotFound). Like `unsubscribe`, it
    writes no event."""
    async with uow:
        await authorize(uow.session, project_id, actor, Action.MANAGE)
        sub = await uow.session.scalar(
            select(ChatSubscription).where(
                ChatSubscription.id == subscription_id, ChatSubscription.project_id == project_id
            )
        )
        if sub is None:
            raise NotFound("no such chat subscription")
        await uow.session.delete(sub)
        await uow.commit()


async def channel_subscriptions(
    uow: UnitOfWork, actor: Actor, *, platform: str, team_id: str, channel_id: str
) -> list[dict[str, Any]]:
    """What a channel relays, limited to the projects the actor can read."""
    async with uow:
        rows = (
            await uow.session.execute(
                select(ChatSubscription, Project.key)
                .join(Project, Project.id == ChatSubscription.project_id)
                .where(
                    ChatSubscription.platform == platform,
                    ChatSubscription.team_id == team_id,
                    ChatSubscription.channel_id == channel_id,
                )
                .order_by(Project.key)
            )
        ).all()
        visible: list[dict[str, Any]] = []
        for sub, key in rows:
            try:
                await authorize(uow.session, sub.project_id, actor, Action.READ)
            except NotFound:
                continue
            visible.append(subscription_view(sub, key))
        return visible


#: Lifecycle states (`ChatSubscription.state`) a platform's own events set; only "active" relays.
LIFECYCLE_STATES = ("active", "paused", "archived", "removed", "uninstalled")


async def set_channel_state(
    uow: UnitOfWork,
    platform: str,
    team_id: str,
    channel_id: str,
    state: str,
    reason: str | None = None,
    *,
    only_from: Iterable[str] | None = None,
) -> int:
    """Set the lifecycle state of every subscription of one channel (the platform told us the channel
    was archived, unarchived, deleted, or the bot left it); returns how many changed.

    `only_from` limits the change to subscriptions in those states (an unarchive resumes only what the
    archive stopped, not a subscription paused for failures). Back to "active", the failure count and
    retry time start afresh. Not a user's action: no permission check, no event."""
    return await _set_state(uow, platform, team_id, state, reason, only_from, channel_id=channel_id)


async def set_workspace_state(
    uow: UnitOfWork,
    platform: str,
    team_id: str,
    state: str,
    reason: str | None = None,
    *,
    only_from: Iterable[str] | None = None,
) -> int:
    """`set_channel_state` for every channel of a workspace (an uninstall, revoked tokens, a
    reinstall)."""
    return await _set_state(uow, platform, team_id, state, reason, only_from)


async def _set_state(
    uow: UnitOfWork,
    platform: str,
    team_id: str,
    state: str,
    reason: str | None,
    only_from: Iterable[str] | None,
    *,
    channel_id: str | None = None,
) -> int:
    if state not in LIFECYCLE_STATES:
        raise ValueError(f"unknown subscription state {state!r}")
    query = select(ChatSubscription).where(
        ChatSubscription.platform == platform, ChatSubscription.team_id == team_id
    )
    if channel_id is not None:
        query = query.where(ChatSubscription.channel_id == channel_id)
    if only_from is not None:
        query = query.where(ChatSubscription.state.in_(list(only_from)))
    async with uow:
        now = utcnow()
        changed = 0
        for sub in await uow.session.scalars(query):
            if sub.state == state:
                continue
            sub.state, sub.state_reason, sub.state_changed_at = state, (reason or "")[:300] or None, now
            if state == "active":
                sub.failures, sub.retry_at = 0, None
            changed += 1
        await uow.commit()
        return changed
