"""Where a REST change came from: the web board says `X-Switchboard-Client: web` and its changes are
recorded with origin `web`; every other REST client's are `api`. SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support.api import Api

WEB = {"X-Switchboard-Client": "web"}


async def _origins(api: Api, token: str, ref: object) -> list[tuple[str, str]]:
    reply = await api.get(f"/api/tickets/{ref}/events", token=token)
    assert reply.status == 200, reply.body
    return [(item["type"], item["origin"]) for item in reversed(reply.body["items"])]


async def test_changes_from_the_web_board_have_origin_web_and_the_rest_api(api: Api) -> None:
    owner = await api.user("Olga")
    pid = (await api.project(owner))["id"]
    created = await api.post(
        f"/api/projects/{pid}/tickets", json={"title": "From the board"}, token=owner.token, headers=WEB
    )
    assert created.status == 201, created.body
    tid = created.body["id"]
    web = await api.patch(f"/api/tickets/{tid}", json={"status": "done"}, token=owner.token, headers=WEB)
    assert web.status == 200, web.body
    scripted = await api.patch(f"/api/tickets/{tid}", json={"priority": "high"}, token=owner.token)
    assert scripted.status == 200, scripted.body
    # Anything but "web" is a plain API client.
    claimed = {"X-Switchboard-Client": "slack"}
    other = await api.patch(
        f"/api/tickets/{tid}", json={"title": "Renamed"}, token=owner.token, headers=claimed
    )
    assert other.status == 200, other.body
    comment = await api.post(
        f"/api/tickets/{tid}/comments", json={"body": "hi"}, token=owner.token, headers=WEB
    )
    assert comment.status == 201, comment.body
    assert comment.body["origin"] == "web"
    watch = await api.call("DELETE", f"/api/tickets/{tid}/watchers/me", token=owner.token, headers=WEB)
    assert watch.status == 200, watch.body

    assert await _origins(api, owner.token, tid) == [
        ("ticket.created", "web"),
        ("ticket.status_changed", "web"),
        ("ticket.updated", "api"),
        ("ticket.updated", "api"),
        ("comment.created", "web"),
        ("ticket.watchers_changed", "web"),
    ]
