"""What one socket may send: a token bucket on inbound messages, and a bounded memory of the
tickets it has named (so `viewing`/`typing` for a ticket of another project never reach anyone).

Limits (docs/protocol.md, "Limits"): `WS_INBOUND_RATE` messages per second with bursts of
`WS_INBOUND_BURST`. The first message over the limit is answered with
`{"type": "error", "code": "rate_limited"}` and dropped; the following ones are dropped silently;
after another `WS_INBOUND_BURST` dropped messages the socket is closed with 4029. A client that goes
quiet until its bucket is full again starts afresh.
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import bindparam, select

from hub.adapters.db.engine import Database
from hub.adapters.db.models import Ticket

#: Ticket ids are 32-bit integers; anything larger names no ticket (and must not reach the database).
MAX_TICKET_ID = 2**31 - 1
#: Tickets of the project remembered per socket; the least recently named is forgotten first.
TICKET_CACHE_SIZE = 128


class Verdict(enum.Enum):
    OK = "ok"
    WARN = "warn"  #: over the limit for the first time: dropped, answer with an error
    DROP = "drop"  #: still over the limit: dropped silently
    CLOSE = "close"  #: kept going: close with 4029


class InboundLimit:
    """Token bucket: `rate` tokens per second, at most `burst` saved up; one token per message."""

    __slots__ = ("_clock", "_stamp", "burst", "dropped", "rate", "tokens")

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.dropped = 0
        self._clock = clock
        self._stamp = clock()

    def admit(self) -> Verdict:
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self.tokens >= self.burst:
            self.dropped = 0  # quiet long enough: the flood is over
        if self.tokens >= 1:
            self.tokens -= 1
            return Verdict.OK
        self.dropped += 1
        if self.dropped == 1:
            return Verdict.WARN
        return Verdict.CLOSE if self.dropped > self.burst else Verdict.DROP


_TICKET_IN_PROJECT = select(Ticket.id).where(
    Ticket.id == bindparam("ticket_id"), Ticket.project_id == bindparam("project_id")
)


class TicketCheck:
    """Whether a ticket id belongs to the socket's project, asked of the database once per id."""

    __slots__ = ("_db", "_known", "project_id")

    def __init__(self, db: Database, project_id: int) -> None:
        self._db = db
        self.project_id = project_id
        self._known: OrderedDict[int, bool] = OrderedDict()  # only True entries

    async def __call__(self, ticket_id: int) -> bool:
        if not 1 <= ticket_id <= MAX_TICKET_ID:
            return False
        if ticket_id in self._known:
            self._known.move_to_end(ticket_id)
            return True
        row = await self._db.read_first(
            _TICKET_IN_PROJECT, {"ticket_id": ticket_id, "project_id": self.project_id}
        )
        if row is None:
            return False  # not remembered: the ticket may yet be created (the inbound limit bounds these)
        self._known[ticket_id] = True
        if len(self._known) > TICKET_CACHE_SIZE:
            self._known.popitem(last=False)
        return True
