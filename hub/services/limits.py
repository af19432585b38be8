"""The hub's rate limits, by use case: sign-in, sign-up, token refresh, member additions and invite
acceptance (counted like sign-in failures, per address).

Thresholds come from the settings (`LOGIN_RATE_LIMIT`, `LOGIN_ADDRESS_RATE_LIMIT`,
`REGISTER_RATE_LIMIT`, `REFRESH_RATE_LIMIT`, `MEMBER_ADD_RATE_LIMIT`); counters live in a
`RateLimiter` (in-process, or Redis shared by every instance when `REDIS_URL` is set). A refused
call raises `RateLimited` (429 `rate_limited` with `Retry-After`).

Sign-in counts *failed* attempts, per account and per client address. An attempt is counted before
its password is checked -- so concurrent guesses cannot all pass a check made before any of them
failed -- and refunded when it succeeds (or fails for another reason than a wrong password): a
successful sign-in never uses up the account's budget. Once a budget is spent, even the right
password is refused until the window has moved on, which is what makes guessing pointless.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from hub.adapters.ratelimit import Hit, Rate, RateLimiter
from hub.config import Settings, parse_rate
from hub.domain.errors import RateLimited, Unauthenticated


def _rate(text: str) -> Rate | None:
    parsed = parse_rate(text)
    return Rate(*parsed) if parsed else None


def _account(email: str) -> str:
    """A fixed-size key for an account: no email addresses in Redis, no unbounded key lengths."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


@dataclass
class Limits:
    limiter: RateLimiter
    login: Rate | None = None
    login_address: Rate | None = None
    register: Rate | None = None
    refresh: Rate | None = None
    member_add: Rate | None = None
    #: Refusals by limit name (exported as `switchboard_rate_limited_total{limit=…}`).
    refused: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, limiter: RateLimiter) -> Limits:
        return cls(
            limiter,
            login=_rate(settings.login_rate_limit),
            login_address=_rate(settings.login_address_rate_limit),
            register=_rate(settings.register_rate_limit),
            refresh=_rate(settings.refresh_rate_limit),
            member_add=_rate(settings.member_add_rate_limit),
        )

    async def _hit(self, name: str, key: str, rate: Rate | None, message: str) -> Hit | None:
        if rate is None:
            return None
        hit = await self.limiter.hit(f"{name}:{key}", rate)
        if not hit.allowed:
            self.refused[name] = self.refused.get(name, 0) + 1
            raise RateLimited(message, retry_after=hit.retry_after)
        return hit

    async def _undo(self, name: str, key: str, hit: Hit | None) -> None:
        if hit is not None:
            await self.limiter.undo(f"{name}:{key}", hit)

    @contextlib.asynccontextmanager
    async def login_attempt(self, email: str, address: str) -> AsyncIterator[None]:
        """Wrap one password check: refused (`RateLimited`) when the account or the address has used
        up its failures; a wrong password (`Unauthenticated`) keeps its count, anything else --
        including success -- is refunded."""
        account = _account(email)
        message = "too many failed sign-ins; wait before trying again"
        by_account = await self._hit("login", account, self.login, message)
        try:
            by_address = await self._hit("login_address", address, self.login_address, message)
        except RateLimited:
            await self._undo("login", account, by_account)
            raise
        try:
            yield
        except Unauthenticated:
            raise  # a wrong email or password: it counts
        except Exception:
            await self._refund_login(account, address, by_account, by_address)
            raise
        await self._refund_login(account, address, by_account, by_address)

    async def _refund_login(self, account: str, address: str, *hits: Hit | None) -> None:
        await self._undo("login", account, hits[0])
        await self._undo("login_address", address, hits[1])

    @contextlib.asynccontextmanager
    async def invite_attempt(self, address: str) -> AsyncIterator[None]:
        """Wrap one invite acceptance like a sign-in: counted per client address against
        `LOGIN_ADDRESS_RATE_LIMIT` (its own counter), refunded when the invite works, kept when it
        fails (an unknown or ended invite: someone trying tokens)."""
        hit = await self._hit(
            "invite", address, self.login_address, "too many invite attempts; wait before trying again"
        )
        yield  # a failure propagates from here: the attempt stays counted
        await self._undo("invite", address, hit)

    async def check_register(self, address: str) -> None:
        await self._hit("register", address, self.register, "too many sign-ups from your address; wait")

    async def check_refresh(self, address: str) -> None:
        await self._hit("refresh", address, self.refresh, "too many token refreshes; wait before retrying")

    async def check_member_add(self, actor_id: int) -> None:
        await self._hit("member_add", str(actor_id), self.member_add, "too many member additions; wait")
