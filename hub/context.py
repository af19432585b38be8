"""The running hub's parts, built once by `create_app` and reached through `current_hub()`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.adapters.db.engine import Database
from hub.adapters.db.models import Event, Notification
from hub.adapters.db.uow import Publisher, UnitOfWork
from hub.config import Settings
from hub.services.accounts.auth import TokenConfig
from hub.services.notifications.routing import notifications_for, would_notify


@dataclass
class HubContext:
    settings: Settings
    db: Database
    tokens: TokenConfig
    publisher: Publisher | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    #: Extra readiness checks by name (e.g. redis), each raising when its dependency is down.
    readiness_probes: dict[str, Callable[[], Awaitable[object]]] = field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        """A fresh unit of work: its events create notifications and go to the publisher."""
        return UnitOfWork(self.db, self._publish, notifications_for, would_notify)

    async def _publish(self, events: Sequence[Event], notifications: Sequence[Notification]) -> None:
        if self.publisher is not None:
            await self.publisher(events, notifications)


def build_context(settings: Settings) -> HubContext:
    return HubContext(
        settings=settings,
        db=Database(settings.database_url, pool_size=settings.database_pool_size),
        tokens=TokenConfig(
            secret=settings.jwt_secret,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
        ),
    )
