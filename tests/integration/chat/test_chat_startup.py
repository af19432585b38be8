"""Chat connections never hold back the hub: with Slack or Discord unreachable, `switchboard serve`
still opens its port at once, answers health checks, and stops promptly on SIGTERM."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.process import HubProcess, cli_env, free_port


def unreachable() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.mark.parametrize(
    "chat",
    [
        pytest.param(
            lambda: {
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": "s" * 32,
                "SLACK_APP_TOKEN": "xapp-1-test",
                "SLACK_API_URL": unreachable() + "/api/",
            },
            id="slack-socket-mode",
        ),
        pytest.param(
            lambda: {
                "DISCORD_BOT_TOKEN": "discord-test-token",
                "DISCORD_API_URL": unreachable() + "/api/v10",
            },
            id="discord",
        ),
    ],
)
def test_serve_starts_and_stops_with_chat_unreachable(tmp_path: Path, chat: object) -> None:
    env = cli_env(tmp_path, **chat())  # type: ignore[operator]
    hub = HubProcess(tmp_path, env)
    try:
        hub.wait_ready(timeout=15)  # migrations included; the chat connection must not add to it
        assert httpx.get(f"{hub.url}/healthz", timeout=2).status_code == 200
    finally:
        started = time.monotonic()
        code = hub.stop(timeout=15)
        stopped_in = time.monotonic() - started
    assert code == 0, hub.output()
    assert stopped_in < 10, hub.output()
