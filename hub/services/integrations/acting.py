"""What an integration does, done through the ordinary ticket services as the integration's user.

`Acting` is one delivery's view of its integration: the user it acts as (an `Actor`), the origin its
events carry (`github`, `alertmanager`, `integration`), the project's key, and a fresh unit of work per
change, so each change writes its events to the outbox like any other (sockets, chat relays, outbound
webhooks and notifications all see it). `Outcome` collects what the handlers did, in words, for the
delivery log and the reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from hub.adapters.db.models import Membership, User
from hub.adapters.db.uow import UnitOfWork
from hub.domain.errors import NotFound, ValidationFailed
from hub.domain.identity import Actor
from hub.services.tickets import comments, tickets

MAX_COMMENT = 10_000
MAX_TITLE = 200
#: Tickets one delivery may touch (a push whose commits mention hundreds of keys does the first ones).
MAX_TICKETS = 50


@dataclass
class Outcome:
    """What a delivery did: `verdict` is `processed` once anything changed, `ignored` otherwise."""

    did: list[str] = field(default_factory=list)
    changed: bool = False

    def note(self, text: str, *, changed: bool = False) -> None:
        self.did.append(text)
        self.changed = self.changed or changed

    @property
    def verdict(self) -> str:
        return "processed" if self.changed else "ignored"

    @property
    def summary(self) -> str:
        return "; ".join(self.did) or "nothing to do"


@dataclass(frozen=True)
class Acting:
    integration_id: int
    project_id: int
    project_key: str
    actor: Actor
    origin: str
    options: dict[str, Any]
    uow: Callable[[], UnitOfWork]

    @property
    def meta(self) -> dict[str, Any]:
        return {"integration_id": self.integration_id}

    def keys_in(self, *texts: str | None) -> list[str]:
        """Keys of this project's tickets (`OPS-12`, any case) mentioned in `texts`, in order, once."""
        key = re.escape(self.project_key)
        pattern = re.compile(rf"(?<![A-Za-z0-9]){key}-([0-9]{{1,9}})(?![0-9A-Za-z])", re.I)
        found: list[str] = []
        for text in texts:
            for match in pattern.finditer(text or ""):
                ref = f"{self.project_key}-{int(match.group(1))}"
                if ref not in found:
                    found.append(ref)
        return found

    def closed_keys_in(self, *texts: str | None) -> list[str]:
        """Keys after a closing keyword: "fixes OPS-12", "Closes: ops-3", "resolved OPS-4, OPS-5"."""
        pattern = re.compile(
            rf"\b(?:fix(?:e[sd])?|close[sd]?|resolve[sd]?)\b:?\s+((?:{re.escape(self.project_key)}-[0-9]{{1,9}}"
            rf"(?:\s*(?:,|and)\s*)?)+)",
            re.I,
        )
        found: list[str] = []
        for text in texts:
            for match in pattern.finditer(text or ""):
                for key in self.keys_in(match.group(1)):
                    if key not in found:
                        found.append(key)
        return found

    async def comment(self, ref: int | str, body: str) -> dict[str, Any]:
        text = body if len(body) <= MAX_COMMENT else body[: MAX_COMMENT - 1] + "…"
        return await comments.add_comment(
            self.uow(), self.actor, ref, text, origin=self.origin, meta=self.meta
        )

    async def update(self, ref: int | str, changes: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Apply `changes`; returns the ticket and whether anything changed."""
        before = await tickets.get_ticket(self.uow(), self.actor, ref)
        after = await tickets.update_ticket(self.uow(), self.actor, ref, changes, origin=self.origin)
        return after, after["version"] != before["version"]

    async def move(self, ref: int | str, status: str, outcome: Outcome) -> None:
        ticket, changed = await self.update(ref, {"status": status})
        if changed:
            outcome.note(f"moved {ticket['key']} to {status}", changed=True)

    async def create(self, **fields: Any) -> dict[str, Any]:
        fields["title"] = clip(fields.get("title") or "", MAX_TITLE) or "Untitled"
        return await tickets.create_ticket(
            self.uow(), self.actor, self.project_id, origin=self.origin, **fields
        )

    async def member_by_email(self, email: str) -> int:
        """The id of the project member with this email; ValidationFailed (`assignee`) otherwise."""
        async with self.uow() as uow:
            user_id = await uow.session.scalar(
                select(User.id)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.project_id == self.project_id, func.lower(User.email) == email.lower())
            )
        if user_id is None:
            raise ValidationFailed("invalid assignee", fields={"assignee": "not a member of this project"})
        return int(user_id)

    async def each(self, keys: Iterable[str], outcome: Outcome, act: Callable[[str], Any]) -> None:
        """Run `act(key)` for each key (the first `MAX_TICKETS`); a key naming no ticket is noted, not
        fatal."""
        keys = list(keys)
        if len(keys) > MAX_TICKETS:
            outcome.note(
                f"{len(keys) - MAX_TICKETS} more tickets mentioned; only the first {MAX_TICKETS} used"
            )
            keys = keys[:MAX_TICKETS]
        for key in keys:
            try:
                await act(key)
            except NotFound:
                outcome.note(f"no ticket {key}")


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_line(text: str | None, limit: int = 120) -> str:
    return clip((text or "").strip().splitlines()[0] if (text or "").strip() else "", limit)
