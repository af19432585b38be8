"""Floods and brute force over HTTP: sign-in, sign-up, refresh and member additions answer 429
`rate_limited` with `Retry-After` past their limits, on SQLite (limits in process) and on PostgreSQL +
Redis (limits shared through Redis); argon2 hashing is bounded."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from hub.adapters.ratelimit import MemoryRateLimiter, Rate, RedisRateLimiter
from hub.api.limits import resolve_client
from hub.domain.errors import RateLimited
from hub.services.accounts.hashing import HashGate
from tests.integration.realtime.conftest import Live, stack, start_live  # noqa: F401  (the fixture)
from tests.support.api import PASSWORD, Reply

Stack = tuple[str, str | None, dict[str, str]]
PROXY = {"TRUSTED_PROXIES": "127.0.0.1"}  # the test client is the "proxy"; X-Forwarded-For names clients


@pytest.fixture
async def hub_with(stack: Stack) -> AsyncIterator[Callable[..., Any]]:  # noqa: F811
    """Start a served hub with extra settings (at most one per test)."""
    started: list[tuple[Live, Any]] = []

    async def start(**extra: str) -> Live:
        live, manager = await start_live(stack, **extra)
        started.append((live, manager))
        return live

    yield start
    for live, manager in started:
        await live.api.aclose()
        await manager.__aexit__(None, None, None)


async def login(live: Live, email: str, password: str, address: str | None = None) -> Reply:
    headers = {"X-Forwarded-For": address} if address else None
    return await live.api.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=headers
    )


def assert_limited(reply: Reply, window: float) -> None:
    assert reply.status == 429, reply.body
    assert reply.body["error"]["code"] == "rate_limited"
    assert reply.body["error"]["fields"] == {}
    assert reply.body["error"]["message"]
    assert 1 <= int(reply.headers["Retry-After"]) <= window


async def test_login_flood_is_refused_while_others_sign_in(hub_with: Callable[..., Any]) -> None:
    live = await hub_with(LOGIN_RATE_LIMIT="5/60", LOGIN_ADDRESS_RATE_LIMIT="8/60", **PROXY)
    victim = await live.api.user("Victim")
    bystander = await live.api.user("Bystander")
    attacker = "203.0.113.7"
    for _ in range(5):
        assert (await login(live, victim.email, "wrong-password", attacker)).status == 401
    assert_limited(await login(live, victim.email, "wrong-password", attacker), 60)
    # The right password is refused too until the window has passed: guessing on is pointless.
    assert_limited(await login(live, victim.email, PASSWORD, attacker), 60)
    assert_limited(await login(live, f"  {victim.email.upper()} ", PASSWORD, "198.51.100.2"), 60)
    # The flood costs nobody else anything: another account, from another address, signs in.
    assert (await login(live, bystander.email, PASSWORD, "198.51.100.3")).status == 200
    # Per address: wrong passwords spread over many accounts are cut off at the address's budget.
    for n in range(3):
        assert (await login(live, f"nobody{n}@example.com", "wrong-password", attacker)).status == 401
    assert_limited(await login(live, "another@example.com", "wrong-password", attacker), 60)
    assert (await login(live, bystander.email, PASSWORD, "198.51.100.3")).status == 200


async def test_successful_logins_do_not_use_up_the_budget(hub_with: Callable[..., Any]) -> None:
    live = await hub_with(LOGIN_RATE_LIMIT="3/60", LOGIN_ADDRESS_RATE_LIMIT="3/60")
    user = await live.api.user()
    for _ in range(8):
        assert (await login(live, user.email, PASSWORD)).status == 200
    for _ in range(3):
        assert (await login(live, user.email, "wrong-password")).status == 401
    assert_limited(await login(live, user.email, PASSWORD), 60)


class LimiterTime:
    """Moves a served hub's rate-limit time forward without waiting for a real window.

    In process, the hub's limiter is swapped (before any hit) for one that reads this clock. Redis
    scores each hit with its own `TIME`, which nobody can set; there, moving time forward by `seconds`
    is done by moving every recorded hit of this hub back by as much: the script prunes and counts by
    score alone, so the limiter sees exactly what it would see `seconds` later.
    """

    def __init__(self, live: Live) -> None:
        settings = live.context.settings
        self._redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        self._pattern = f"{settings.redis_prefix}:rl:*"
        self._now = 1000.0
        if self._redis is None:
            live.context.require_limits().limiter = MemoryRateLimiter(clock=lambda: self._now)

    async def advance(self, seconds: float) -> None:
        self._now += seconds
        if self._redis is None:
            return
        async for key in self._redis.scan_iter(match=self._pattern):
            hits = await self._redis.zrange(key, 0, -1, withscores=True)
            if hits:
                await self._redis.zadd(key, {member: score - seconds * 1000 for member, score in hits})

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


async def test_the_limit_lifts_when_the_window_passes(hub_with: Callable[..., Any]) -> None:
    live = await hub_with(LOGIN_RATE_LIMIT="2/60")
    clock = LimiterTime(live)
    try:
        user = await live.api.user()
        for _ in range(2):
            assert (await login(live, user.email, "wrong-password")).status == 401
        assert_limited(await login(live, user.email, PASSWORD), 60)
        # Redis's own clock keeps running while the test does: 3 s short of the window leaves room
        # for a loaded machine (parallel workers) and still shows the limit holds until it ends.
        await clock.advance(57)
        assert_limited(await login(live, user.email, PASSWORD), 3)  # not before the window ends
        await clock.advance(3.5)
        assert (await login(live, user.email, PASSWORD)).status == 200
    finally:
        await clock.aclose()


async def test_forwarded_for_is_ignored_without_trusted_proxies(hub_with: Callable[..., Any]) -> None:
    live = await hub_with(LOGIN_ADDRESS_RATE_LIMIT="3/60")
    for n in range(3):
        reply = await login(live, f"x{n}@example.com", "wrong-password", f"192.0.2.{n}")
        assert reply.status == 401
    assert_limited(await login(live, "x9@example.com", "wrong-password", "192.0.2.99"), 60)


async def test_register_refresh_and_member_additions_are_limited(hub_with: Callable[..., Any]) -> None:
    live = await hub_with(
        REGISTER_RATE_LIMIT="3/60", REFRESH_RATE_LIMIT="2/60", MEMBER_ADD_RATE_LIMIT="2/60", **PROXY
    )
    owner = await live.api.user("Owner")  # register 1 (from the proxy's own address)
    project = await live.api.project(owner)
    people = []
    for n in range(3):
        reply = await live.api.post(
            "/api/auth/register",
            json={"email": f"p{n}@example.com", "password": PASSWORD, "name": f"P{n}"},
            headers={"X-Forwarded-For": "203.0.113.50"},
        )
        people.append(reply)
    assert [r.status for r in people] == [201, 201, 201]
    blocked = await live.api.post(
        "/api/auth/register",
        json={"email": "p9@example.com", "password": PASSWORD, "name": "P9"},
        headers={"X-Forwarded-For": "203.0.113.50"},
    )
    assert_limited(blocked, 60)

    token = owner.refresh_token
    for _ in range(2):
        reply = await live.api.post("/api/auth/refresh", json={"refresh_token": token})
        assert reply.status == 200, reply.body
        token = reply.body["refresh_token"]
    assert_limited(await live.api.post("/api/auth/refresh", json={"refresh_token": token}), 60)

    members = f"/api/projects/{project['id']}/members"
    for reply in people[:2]:
        body = {"email": reply.body["email"], "role": "member"}
        added = await live.api.post(members, json=body, token=owner.token)
        assert added.status == 201, added.body
    body = {"email": people[2].body["email"], "role": "member"}
    assert_limited(await live.api.post(members, json=body, token=owner.token), 60)


async def test_password_hashing_is_bounded_and_refuses_quickly() -> None:
    gate = HashGate(concurrency=1, queue=1)
    release = threading.Event()
    running = [asyncio.create_task(gate.run(release.wait, 10)) for _ in range(2)]
    await asyncio.sleep(0.05)
    with pytest.raises(RateLimited) as refused:
        await gate.run(release.wait, 10)
    assert refused.value.retry_after == 1
    assert gate.refused == 1
    release.set()
    assert await asyncio.gather(*running) == [True, True]
    assert gate.in_flight == 0
    assert await gate.run(lambda: "free again") == "free again"


async def test_a_cancelled_wait_frees_its_place() -> None:
    gate = HashGate(concurrency=1, queue=1)
    release = threading.Event()
    first = asyncio.create_task(gate.run(release.wait, 10))
    queued = asyncio.create_task(gate.run(release.wait, 10))
    await asyncio.sleep(0.05)
    queued.cancel()  # the client went away while waiting: its hash never runs
    await asyncio.gather(queued, return_exceptions=True)
    assert gate.in_flight == 1
    release.set()
    await first
    assert gate.in_flight == 0


async def test_memory_limiter_stays_bounded() -> None:
    limiter = MemoryRateLimiter(max_keys=100)
    for n in range(1000):
        assert (await limiter.hit(f"k{n}", Rate(1, 60))).allowed
    assert len(limiter) == 100


async def test_redis_outage_falls_back_to_limits_in_process() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", prefix="sbt-down")
    await limiter.start()
    try:
        rate = Rate(2, 60)
        hits = [await limiter.hit("login:x", rate) for _ in range(3)]
        assert [h.allowed for h in hits] == [True, True, False]
        assert hits[2].retry_after > 0
        assert limiter.errors == 1  # then Redis is left alone for a while
        await limiter.undo("login:x", hits[0])
        assert (await limiter.hit("login:x", rate)).allowed
    finally:
        await limiter.stop()


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("198.51.100.1", ["203.0.113.9"], [], "198.51.100.1"),  # not from a proxy: header ignored
        ("10.0.0.2", ["203.0.113.9"], ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", ["6.6.6.6, 203.0.113.9, 10.0.0.5"], ["10.0.0.0/8"], "203.0.113.9"),  # forged left part
        ("10.0.0.2", ["junk, 10.0.0.5"], ["10.0.0.0/8"], "10.0.0.5"),
        ("10.0.0.2", [], ["10.0.0.0/8"], "10.0.0.2"),
        ("2001:db8::1", [], [], "2001:db8::/64"),
        (None, [], [], "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: list[str], trusted: list[str], client: str) -> None:
    assert resolve_client(peer, forwarded, trusted) == client
