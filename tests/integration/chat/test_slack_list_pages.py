"""`/ticket list` pages through long lists with "Next" / "Previous" buttons instead of cutting them."""

from __future__ import annotations

import re
from typing import Any

from bots.slack.listing import NEXT, PREVIOUS
from tests.integration.chat.conftest import SlackHub

KEY = re.compile(r"\|(OPS-\d+)>")


def _keys(answer: dict[str, Any]) -> list[str]:
    text = "\n".join(b["text"]["text"] for b in answer.get("blocks", []) if b["type"] == "section")
    return KEY.findall(text)


def _button(answer: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in answer.get("blocks", []):
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["action_id"] == action_id:
                    return dict(element)
    return None


async def _click(hub: SlackHub, user: str, button: dict[str, Any] | None) -> dict[str, Any]:
    assert button is not None
    key, reply = await hub.slack.block_action(user, {"type": "button", **button})
    assert reply.status_code == 200
    return await hub.answer(key)


async def test_a_long_project_list_pages_forward_and_back(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    for n in range(1, 46):
        await hub.api.ticket(alice, project["id"], title=f"Ticket <{n}> & co")
    closed = await hub.api.ticket(alice, project["id"], title="Already done")
    await hub.api.patch(f"/api/tickets/{closed['id']}", json={"status": "done"}, token=alice.token)

    first = await hub.command("UALICE", "list OPS")
    assert _keys(first) == [f"OPS-{n}" for n in range(45, 25, -1)]
    assert first["text"].startswith("Open tickets in OPS (1-20)")
    assert _button(first, PREVIOUS) is None
    assert hub.fake.rejected == []

    second = await _click(hub, "UALICE", _button(first, NEXT))
    assert second["replace_original"] is True
    assert _keys(second) == [f"OPS-{n}" for n in range(25, 5, -1)]
    third = await _click(hub, "UALICE", _button(second, NEXT))
    assert _keys(third) == [f"OPS-{n}" for n in range(5, 0, -1)]
    assert _button(third, NEXT) is None  # the end: no "Next"
    back = await _click(hub, "UALICE", _button(third, PREVIOUS))
    assert _keys(back) == _keys(second)
    start = await _click(hub, "UALICE", _button(back, PREVIOUS))
    assert _keys(start) == _keys(first)
    assert _button(start, PREVIOUS) is None
    assert hub.fake.rejected == []


async def test_mine_pages_across_projects_and_a_stranger_cannot_page_it(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.person("Eve Evans", "UEVE")
    ops = await hub.api.project(alice, "OPS")
    web = await hub.api.project(alice, "WEB")
    for n in range(13):
        await hub.api.ticket(alice, ops["id"], title=f"Ops {n}", assignee_id=alice.id)
        await hub.api.ticket(alice, web["id"], title=f"Web {n}", assignee_id=alice.id)
    first = await hub.command("UALICE", "list mine")
    assert len(_keys(first) + re.findall(r"\|(WEB-\d+)>", str(first["blocks"]))) == 20
    second = await _click(hub, "UALICE", _button(first, NEXT))
    shown = re.findall(r"\|((?:OPS|WEB)-\d+)>", str(second["blocks"]))
    assert len(shown) == 6
    assert _button(second, NEXT) is None
    # Eve clicks Alice's button (its value names only the list): she sees her own, empty list.
    other = await _click(hub, "UEVE", _button(first, NEXT))
    assert "none" in other["text"] or "no more" in other["text"]
    assert "OPS-" not in str(other.get("blocks", ""))
