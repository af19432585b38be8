"""`/metrics` shows how far behind the Slack relay and the DM sender run."""

from __future__ import annotations

import asyncio

from tests.integration.chat.conftest import SlackHub, link_directly
from tests.support.metrics import sample

LAG = "switchboard_chat_relay_lag_seconds"


async def observed(hub: SlackHub, kind: str, within: float = 10.0) -> str:
    """The exposition once the lag histogram of `kind` has an observation (the relay advances its
    position, and only then reports, just after the platform answered)."""
    async with asyncio.timeout(within):
        while True:
            text = (await hub.api.get("/metrics")).body.decode()
            if sample(text, f"{LAG}_count", platform="slack", kind=kind) > 0:
                return str(text)
            await asyncio.sleep(0.05)


async def test_relay_and_dm_lag(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    await hub.command("UALICE", "subscribe OPS")
    before = (await hub.api.get("/metrics")).body.decode()
    assert sample(before, f"{LAG}_count", platform="slack", kind="relay") == 0.0

    ticket = await hub.api.ticket(alice, project["id"], title="Relayed and measured")
    await hub.root(ticket["key"])
    text = await observed(hub, "relay")
    assert sample(text, f"{LAG}_count", platform="slack", kind="relay") == 1.0
    assert 0.0 < sample(text, f"{LAG}_sum", platform="slack", kind="relay") < 10.0

    await hub.api.patch(f"/api/tickets/{ticket['id']}", json={"assignee_id": bob.id}, token=alice.token)
    text = await observed(hub, "dm")
    assert sample(text, f"{LAG}_count", platform="slack", kind="dm") == 1.0
    assert 0.0 < sample(text, f"{LAG}_sum", platform="slack", kind="dm") < 10.0
