"""Multi-workspace mode: install through OAuth (tokens stored in our database), then serve that
workspace with its own token — for commands and for the relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from bots.slack.config import SlackConfig
from hub.adapters.db.engine import Database
from hub.api import chat as chat_api
from hub.app import create_app
from hub.context import build_context
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import SIGNING_SECRET, SlackSender
from tests.integration.chat.conftest import BOARD, SlackHub, slack_runtime
from tests.support.api import HttpApi
from tests.support.live import served

# slack_sdk passes client credentials with aiohttp's BasicAuth, which aiohttp 3.14 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
OAUTH_ENV = {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "client-secret"}


@pytest.fixture
async def multi_hub(
    stack: tuple[str, str | None, dict[str, str]], fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SlackHub]:
    for name, value in OAUTH_ENV.items():
        monkeypatch.setenv(name, value)  # how an operator configures it (Settings reads the environment)
    url, schema, extra = stack
    settings = make_settings(
        url, **extra, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake_slack.api_url, PUBLIC_URL=BOARD
    )
    context = build_context(settings)
    if schema:
        await context.db.dispose()
        context.db = Database(url, schema=schema)
    app: Quart = create_app(settings, context)
    if chat_api.bp.name not in app.blueprints:
        app.register_blueprint(chat_api.bp)
    config = SlackConfig.from_settings(settings)
    assert config is not None
    assert config.multi_workspace
    runtime = slack_runtime(app, context, config)
    assert runtime.config.multi_workspace
    runtime.relay.pacer.interval = 0.2
    manager = served(app, context)
    address = await manager.__aenter__()
    sender = SlackSender(f"http://{address}", fake_slack.url, team_id="T222")
    hub = SlackHub(address, HttpApi(f"http://{address}"), app, context, runtime, fake_slack, sender)
    try:
        yield hub
    finally:
        await sender.aclose()
        await hub.api.aclose()
        await manager.__aexit__(None, None, None)


async def _install(hub: SlackHub, team_id: str) -> Any:
    page = await hub.api.http.get("/slack/install")
    assert page.status_code == 200
    assert "client_id=111.222" in page.text
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    state = cookie.split("=", 1)[1]
    assert f"state={state}" in page.text
    return await hub.api.http.get(
        "/slack/oauth_redirect", params={"code": team_id, "state": state}, headers={"Cookie": cookie}
    )


async def test_install_then_serve_the_workspace_with_its_token(multi_hub: SlackHub) -> None:
    hub = multi_hub
    done = await _install(hub, "T222")
    assert done.status_code == 200, done.text
    exchange = hub.fake.calls_to("oauth.v2.access")[0]
    assert exchange.params["code"] == "T222"
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    answer = await hub.command("UALICE", "subscribe OPS")
    assert "now gets OPS updates" in answer["text"]
    assert hub.fake.calls_to("users.info")[-1].token == "xoxb-T222"
    await hub.api.ticket(alice, project["id"], title="Installed elsewhere")
    root = await hub.fake.wait_for(hub.root_of("OPS-1"))
    post = next(c for c in hub.fake.calls_to("chat.postMessage") if c.params.get("channel") == root.channel)
    assert post.token == "xoxb-T222"


async def test_unknown_workspace_and_forged_state_are_refused(multi_hub: SlackHub) -> None:
    hub = multi_hub
    _key, reply = await hub.slack.command("UALICE", "help")
    assert reply.status_code == 200  # not installed in T222: bolt acknowledges and runs nothing
    await hub.settle(0.3)
    assert hub.fake.calls_to("users.info") == []
    assert [r["text"] for r in hub.fake.responses if "reinstall" in r["text"]]  # bolt tells the user
    page = await hub.api.http.get("/slack/install")
    assert page.status_code == 200
    forged = await hub.api.http.get(
        "/slack/oauth_redirect", params={"code": "T222", "state": "forged"}, headers={"Cookie": "x=y"}
    )
    assert forged.status_code == 400
    assert hub.fake.calls_to("oauth.v2.access") == []
