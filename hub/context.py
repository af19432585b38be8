"""The running hub's parts, built once by `create_app` and reached through `current_hub()`.

`HubContext` is the composition root's record of what it built: the settings, the database, the token
config and the publisher always; the optional parts as typed fields that their installer sets
(`create_app`: realtime, admissions, metrics, limits; `attach_worker`: the webhook worker; the chat
runtimes: slack, discord; `serve --demo`: the demo login). Code that cannot work without a part asks
for it with `require_*()`, which names the installer when it is missing instead of failing later on
`None`.

`uow_factory` is the one place units of work are made, so every writer gets the same hooks: events
create their notifications in the writing transaction and reach the publisher after commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from hub.adapters.db.engine import Database
from hub.adapters.db.horizon import set_ordering
from hub.adapters.db.models import Event, Notification
from hub.adapters.db.uow import Publisher, UnitOfWork
from hub.config import Settings
from hub.services.accounts.auth import TokenConfig
from hub.services.notifications.routing import notifications_for, would_notify

if TYPE_CHECKING:  # types only: hub/ does not import bots/ (nor the heavier parts) at runtime
    from bots.discord.runtime import DiscordRuntime
    from bots.slack.runtime import SlackRuntime
    from hub.observability.metrics import Metrics
    from hub.realtime.admission import Admissions
    from hub.realtime.service import Realtime
    from hub.services.limits import Limits
    from hub.webhooks.worker import WebhookWorker

UowFactory = Callable[[], UnitOfWork]
_Part = TypeVar("_Part")


def uow_factory(db: Database, publisher: Publisher | None = None, *, notify: bool = True) -> UowFactory:
    """Units of work on `db` whose committed events go to `publisher` (when given).

    With `notify` (the default) each unit's events create their notifications in the same transaction
    (`routing.notifications_for`), as every write must. `notify=False` is for consumers whose
    transactions write no events, only their own bookkeeping (the chat relay's positions and message
    maps, the DM notifier's positions): they say so here, and must not emit events through such a unit,
    which would be written without notifications.
    """
    if not notify:
        return lambda: UnitOfWork(db, publisher)
    return lambda: UnitOfWork(db, publisher, notifications_for, would_notify)


class MissingPart(RuntimeError):
    """A part of the hub was required from a context whose installer never set it."""


def _required(part: _Part | None, name: str, installer: str) -> _Part:
    if part is None:
        raise MissingPart(f"HubContext.{name} is not set: {installer} installs it")
    return part


@dataclass(frozen=True)
class DemoLogin:
    """The demo hub's login, shown by `/healthz` so the board can offer it (`serve --demo` only)."""

    email: str
    password: str


@dataclass
class HubContext:
    settings: Settings
    db: Database
    tokens: TokenConfig
    publisher: Publisher | None = None
    #: Extra readiness checks by name (e.g. redis), each raising when its dependency is down.
    readiness_probes: dict[str, Callable[[], Awaitable[object]]] = field(default_factory=dict)
    # Set by create_app:
    realtime: Realtime | None = None
    admissions: Admissions | None = None
    metrics: Metrics | None = None
    limits: Limits | None = None
    # Set by their installers when they run in this process:
    webhook_worker: WebhookWorker | None = None
    slack: SlackRuntime | None = None
    discord: DiscordRuntime | None = None
    demo_login: DemoLogin | None = None

    def uow(self) -> UnitOfWork:
        """A fresh unit of work: its events create notifications and go to the publisher."""
        return uow_factory(self.db, self._publish)()  # `db` read per call: tests swap it for a schema's

    async def _publish(self, events: Sequence[Event], notifications: Sequence[Notification]) -> None:
        # Looked up per commit: `create_app`, `attach_worker` and `bot_process` set it after the start.
        if self.publisher is not None:
            await self.publisher(events, notifications)

    def require_realtime(self) -> Realtime:
        return _required(self.realtime, "realtime", "create_app")

    def require_admissions(self) -> Admissions:
        return _required(self.admissions, "admissions", "create_app")

    def require_metrics(self) -> Metrics:
        return _required(self.metrics, "metrics", "create_app")

    def require_limits(self) -> Limits:
        return _required(self.limits, "limits", "create_app")


def build_context(settings: Settings) -> HubContext:
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    set_ordering(db, settings.outbox_ordering)
    return HubContext(
        settings=settings,
        db=db,
        tokens=TokenConfig(
            secret=settings.jwt_secret,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
        ),
    )
