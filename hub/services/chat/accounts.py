"""Chat accounts: linking a Slack or Discord user to a hub user, and finding who acts from chat.

A chat user acts in the hub only once linked, and then exactly as their hub user: every command runs
through the same services and the same policy as the web. Two ways to link:

- **verified email**: the platform says the chat account's email is confirmed (Slack's
  `is_email_confirmed`) and it equals a hub user's email → linked automatically (`link_by_email`);
- **one-time code**: the hub user asks for a code (`POST /api/me/chat-links`, valid 10 minutes, stored
  only as SHA-256) and types `/ticket link CODE` in chat (`redeem_link_code`).

A chat account links to one hub user; linking it again (a new code) moves it. Unlinking is the hub
user's own decision (`DELETE /api/me/chat-links/{id}`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.adapters.db.chat_models import PLATFORMS, ChatIdentity, ChatLinkCode
from hub.adapters.db.models import User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.errors import NotFound, Unauthenticated, ValidationFailed
from hub.domain.identity import Actor
from hub.domain.mentions import resolve_mentions
from hub.services.accounts.auth import normalize_email
from hub.services.tickets.tickets import project_people
from hub.services.views import iso

LINK_CODE_TTL = timedelta(minutes=10)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
_CODE_LENGTH = 8


@dataclass(frozen=True, slots=True)
class ChatUser:
    """A chat account: platform, workspace (Slack team / Discord guild) and the platform's user id."""

    platform: str
    team_id: str
    external_id: str
    display_name: str = ""


#: Platforms whose user ids are global (not per workspace): an account linked in one Discord guild
#: (or in a DM) is the same account in every guild.
GLOBAL_USER_IDS = frozenset({"discord"})


def _same_account(who: ChatUser) -> list[Any]:
    """WHERE clauses selecting the identity rows of a chat account."""
    clauses = [ChatIdentity.platform == who.platform, ChatIdentity.external_id == who.external_id]
    if who.platform not in GLOBAL_USER_IDS:
        clauses.append(ChatIdentity.team_id == who.team_id)
    return clauses


def _hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def normalize_code(code: str) -> str:
    """Codes are shown as `ABCD-EFGH`; accept any case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _check_platform(platform: str) -> None:
    if platform not in PLATFORMS:
        raise ValidationFailed("unknown chat platform", fields={"platform": "must be slack or discord"})


def identity_view(identity: ChatIdentity) -> dict[str, Any]:
    return {
        "id": identity.id,
        "platform": identity.platform,
        "team_id": identity.team_id,
        "external_id": identity.external_id,
        "display_name": identity.display_name,
        "linked_via": identity.linked_via,
        "linked_at": iso(identity.linked_at),
    }


async def create_link_code(uow: UnitOfWork, actor: Actor, *, now: datetime | None = None) -> dict[str, Any]:
    """A fresh one-time code for `/ticket link CODE`; earlier unused codes of the user stop working."""
    now = now or utcnow()
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    code = f"{raw[:4]}-{raw[4:]}"
    async with uow:
        if await uow.session.get(User, actor.id) is None:
            raise Unauthenticated("invalid token")
        old = await uow.session.scalars(
            select(ChatLinkCode).where(ChatLinkCode.user_id == actor.id, ChatLinkCode.used_at.is_(None))
        )
        for row in old:
            row.used_at = now  # superseded
        expires = now + LINK_CODE_TTL
        uow.session.add(
            ChatLinkCode(code_hash=_hash(code), user_id=actor.id, expires_at=expires, created_at=now)
        )
        await uow.commit()
    return {"code": code, "expires_at": iso(expires)}


async def list_links(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    async with uow:
        rows = await uow.session.scalars(
            select(ChatIdentity).where(ChatIdentity.user_id == actor.id).order_by(ChatIdentity.id)
        )
        return [identity_view(row) for row in rows]


async def unlink(uow: UnitOfWork, actor: Actor, identity_id: int) -> None:
    """Remove one of the user's own chat links (someone else's is NotFound)."""
    async with uow:
        identity = await uow.session.get(ChatIdentity, identity_id)
        if identity is None or identity.user_id != actor.id:
            raise NotFound("no such chat link")
        await uow.session.delete(identity)
        await uow.commit()


async def _link(uow: UnitOfWork, who: ChatUser, user: User, via: str, now: datetime) -> Actor:
    identity = await uow.session.scalar(
        select(ChatIdentity).where(*_same_account(who)).order_by(ChatIdentity.id).limit(1)
    )
    if identity is None:
        identity = ChatIdentity(platform=who.platform, team_id=who.team_id, external_id=who.external_id)
        uow.session.add(identity)
    identity.user_id = user.id
    identity.display_name = who.display_name[:200]
    identity.linked_via = via
    identity.linked_at = now
    await uow.commit()
    return Actor.of(user)


async def redeem_link_code(
    uow: UnitOfWork, who: ChatUser, code: str, *, now: datetime | None = None
) -> Actor:
    """Link the chat account to the code's hub user. ValidationFailed for unknown, used or old codes."""
    _check_platform(who.platform)
    now = now or utcnow()
    if len(normalize_code(code)) != _CODE_LENGTH:
        raise ValidationFailed("that is not a link code", fields={"code": "codes look like ABCD-EFGH"})
    async with uow:
        row = await uow.session.scalar(select(ChatLinkCode).where(ChatLinkCode.code_hash == _hash(code)))
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise ValidationFailed(
                "unknown or expired link code", fields={"code": "ask the board for a new code"}
            )
        row.used_at = now
        user = await uow.session.get(User, row.user_id)
        if user is None:
            raise NotFound("the code's account no longer exists")
        if user.deactivated_at is not None:
            raise NotFound("the code's account is deactivated")
        return await _link(uow, who, user, "code", now)


async def link_by_email(uow: UnitOfWork, who: ChatUser, email: str) -> Actor | None:
    """Link automatically when the platform *verified* `email` and a hub user has it; else None.

    The caller must only pass emails the platform marks as confirmed: this trusts the platform.
    """
    _check_platform(who.platform)
    if not email or "@" not in email:
        return None
    async with uow:
        user = await uow.session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None or user.deactivated_at is not None:
            return None
        return await _link(uow, who, user, "email", utcnow())


async def resolve_actor(uow: UnitOfWork, who: ChatUser) -> Actor | None:
    """The hub user behind a chat account, or None while it is not linked."""
    async with uow:
        user = await uow.session.scalar(
            select(User)
            .join(ChatIdentity, ChatIdentity.user_id == User.id)
            .where(*_same_account(who), User.deactivated_at.is_(None))  # deactivated: acts as no one
            .order_by(ChatIdentity.id)
            .limit(1)
        )
        return Actor.of(user) if user is not None else None


async def chat_accounts_of(uow: UnitOfWork, platform: str, user_ids: set[int]) -> dict[int, list[ChatUser]]:
    """The linked accounts on `platform` of each user (for DMs and @-mentions in chat)."""
    if not user_ids:
        return {}
    async with uow:
        rows = await uow.session.scalars(
            select(ChatIdentity)
            .where(ChatIdentity.platform == platform, ChatIdentity.user_id.in_(user_ids))
            .order_by(ChatIdentity.id)
        )
        found: dict[int, list[ChatUser]] = {}
        for row in rows:
            found.setdefault(row.user_id, []).append(
                ChatUser(row.platform, row.team_id, row.external_id, row.display_name)
            )
        return found


async def find_member(uow: UnitOfWork, platform: str, team_id: str, project_id: int, text: str) -> int | None:
    """A project member named in chat: a linked chat user id (`U123`), an email, a full name, or any
    handle an @mention accepts (first name, `alice.archer`, the email's local part). None if unknown
    or ambiguous: guessing would assign the wrong person."""
    needle = text.strip().lstrip("@")
    if not needle:
        return None
    async with uow:
        people = await project_people(uow, project_id)
        user_id = await uow.session.scalar(
            select(ChatIdentity.user_id)
            .where(*_same_account(ChatUser(platform, team_id, needle)))
            .order_by(ChatIdentity.id)
            .limit(1)
        )
    members = {person.user_id for person in people}
    if user_id is not None:
        return int(user_id) if user_id in members else None
    by_name = [p.user_id for p in people if p.name.lower() == needle.lower()]
    if len(by_name) == 1:
        return by_name[0]
    found = resolve_mentions("@" + needle.replace(" ", ""), people)
    return found[0] if len(found) == 1 else None


async def linked_email(uow: UnitOfWork, who: ChatUser) -> str | None:
    """The hub email behind a chat account (turns chat mentions into hub @mentions), or None."""
    actor = await resolve_actor(uow, who)
    return actor.email if actor is not None else None


async def mention_ids(
    uow: UnitOfWork,
    platform: str,
    team_id: str | None,
    user_ids: set[int],
    *,
    project_id: int | None = None,
    text: str = "",
) -> dict[int, str]:
    """The chat user id in workspace `team_id` of each linked user among `user_ids` and of the project
    members `text` @mentions (when `project_id` is given): whom a channel post may mention. Unlinked
    users are absent (they stay plain names). `team_id` None: an account linked in any workspace will
    do (Discord user ids are global)."""
    wanted = set(user_ids)
    if project_id is not None and "@" in text:
        async with uow:
            wanted |= set(resolve_mentions(text, await project_people(uow, project_id)))
    found: dict[int, str] = {}
    for user_id, accounts in (await chat_accounts_of(uow, platform, wanted)).items():
        here = [account.external_id for account in accounts if team_id in (None, account.team_id)]
        if here:
            found[user_id] = here[0]
    return found
