"""The SQLite write gate: arrival order, no self-deadlock, and a bounded wait."""

from __future__ import annotations

import asyncio

from hub.adapters.db.gate import WriteGate


async def test_waiters_get_the_gate_in_arrival_order() -> None:
    gate = WriteGate()
    order: list[int] = []
    assert await gate.enter()

    async def writer(n: int) -> None:
        held = await gate.enter()
        order.append(n)
        await asyncio.sleep(0)
        if held:
            gate.leave()

    tasks = []
    for n in range(8):
        tasks.append(asyncio.create_task(writer(n)))
        await asyncio.sleep(0)  # each one is queued before the next arrives
    assert order == []  # all wait while the gate is held
    gate.leave()
    await asyncio.gather(*tasks)
    assert order == list(range(8))


async def test_a_nested_unit_of_work_in_the_same_task_passes_straight_through() -> None:
    gate = WriteGate(timeout=5)
    assert await gate.enter()
    async with asyncio.timeout(1):  # in this task: it would wait 5 s without the owner check
        assert await gate.enter() is False
    gate.leave()
    assert await gate.enter()  # free again
    gate.leave()


async def test_a_wait_longer_than_the_timeout_goes_ahead_without_the_gate() -> None:
    gate = WriteGate(timeout=0.05)
    assert await gate.enter()
    assert await asyncio.create_task(gate.enter()) is False  # another task, gave up after 50 ms
    gate.leave()
    assert await asyncio.create_task(gate.enter()) is True
