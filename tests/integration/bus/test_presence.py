"""Presence semantics every backend must provide (run against MemoryPresence and RedisPresence)."""

from __future__ import annotations

from hub.adapters.presence import PresenceStore, PresenceUser
from tests.integration.bus.support import FakeClock

ALICE, BOB = 1, 2


async def test_several_tabs_count_once(presence: PresenceStore) -> None:
    assert await presence.join(10, "tab-1", ALICE, "Alice") is True
    assert await presence.join(10, "tab-2", ALICE, "Alice") is False
    assert await presence.join(10, "tab-3", BOB, "Bob") is True
    assert await presence.join(10, "tab-3", BOB, "Bob") is False  # re-join replaces, still online

    assert await presence.snapshot(10) == [
        PresenceUser(ALICE, "Alice", viewing=None, typing=None),
        PresenceUser(BOB, "Bob", viewing=None, typing=None),
    ]


async def test_user_leaves_with_last_connection(presence: PresenceStore) -> None:
    await presence.join(10, "tab-1", ALICE, "Alice")
    await presence.join(10, "tab-2", ALICE, "Alice")

    assert await presence.leave(10, "tab-1") is False
    assert [u.user_id for u in await presence.snapshot(10)] == [ALICE]
    assert await presence.leave(10, "tab-2") is True
    assert await presence.snapshot(10) == []
    assert await presence.leave(10, "tab-2") is False  # unknown connection: nothing to announce
    assert await presence.join(10, "tab-3", ALICE, "Alice") is True  # back online


async def test_projects_are_independent(presence: PresenceStore) -> None:
    assert await presence.join(10, "tab-1", ALICE, "Alice") is True
    assert await presence.join(11, "tab-2", ALICE, "Alice") is True  # online per project

    assert await presence.leave(10, "tab-1") is True
    assert await presence.snapshot(10) == []
    assert [u.user_id for u in await presence.snapshot(11)] == [ALICE]


async def test_viewing_follows_most_recent_connection_that_views(
    presence: PresenceStore, clock: FakeClock
) -> None:
    await presence.join(10, "tab-1", ALICE, "Alice")
    await presence.join(10, "tab-2", ALICE, "Alice")

    clock.advance(1)
    await presence.set_viewing(10, "tab-1", 5)
    assert (await presence.snapshot(10))[0].viewing == 5
    clock.advance(1)
    await presence.set_viewing(10, "tab-2", 9)
    assert (await presence.snapshot(10))[0].viewing == 9
    clock.advance(1)
    await presence.set_viewing(10, "tab-2", None)  # back on the board: the other tab still shows 5
    assert (await presence.snapshot(10))[0].viewing == 5
    clock.advance(1)
    await presence.set_viewing(10, "tab-1", None)
    assert (await presence.snapshot(10))[0].viewing is None

    await presence.set_viewing(10, "no-such-tab", 3)  # ignored
    await presence.leave(10, "tab-1")
    await presence.set_viewing(10, "tab-1", 3)  # after leave: ignored, does not resurrect
    assert await presence.snapshot(10) == [PresenceUser(ALICE, "Alice", viewing=None, typing=None)]


async def test_typing_expires_without_refresh(presence: PresenceStore, clock: FakeClock) -> None:
    await presence.join(10, "tab-1", ALICE, "Alice")
    await presence.set_typing(10, ALICE, 42, True)
    assert (await presence.snapshot(10))[0].typing == 42

    clock.advance(4.9)
    assert (await presence.snapshot(10))[0].typing == 42
    await presence.set_typing(10, ALICE, 42, True)  # refresh: another 5 s from now
    clock.advance(4.9)
    assert (await presence.snapshot(10))[0].typing == 42
    clock.advance(0.2)
    assert (await presence.snapshot(10))[0].typing is None

    await presence.set_typing(10, ALICE, 42, True)
    await presence.set_typing(10, ALICE, 42, False)  # explicit stop wins immediately
    assert (await presence.snapshot(10))[0].typing is None


async def test_typing_of_offline_user_is_not_shown(presence: PresenceStore) -> None:
    await presence.join(10, "tab-1", ALICE, "Alice")
    await presence.set_typing(10, BOB, 42, True)
    assert await presence.snapshot(10) == [PresenceUser(ALICE, "Alice", viewing=None, typing=None)]


async def test_heartbeat_keeps_state(presence: PresenceStore, clock: FakeClock) -> None:
    await presence.join(10, "tab-1", ALICE, "Alice")
    await presence.set_typing(10, ALICE, 42, True)
    await presence.heartbeat()
    assert await presence.snapshot(10) == [PresenceUser(ALICE, "Alice", viewing=None, typing=42)]
    clock.advance(6)
    await presence.heartbeat()
    assert await presence.snapshot(10) == [PresenceUser(ALICE, "Alice", viewing=None, typing=None)]
    assert await presence.expired_users(10) == []  # nobody died
