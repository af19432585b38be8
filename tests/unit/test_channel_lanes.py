"""The channel relay's per-channel rules without I/O: backoff, settings, per-channel pacing windows."""

from __future__ import annotations

from bots.lanes import ChannelRetry, describe
from bots.pacing import ChannelPacer
from bots.sink import PermanentSendError, RateLimitedError
from tests.conftest import make_settings


def test_backoff_doubles_per_failure_up_to_the_cap() -> None:
    retry = ChannelRetry(max_failures=5, retry_seconds=2.0, retry_max_seconds=10.0)
    assert [retry.backoff(n) for n in (1, 2, 3, 4, 5)] == [2.0, 4.0, 8.0, 10.0, 10.0]


def test_retry_settings_come_from_the_environment() -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///:memory:",
        CHAT_CHANNEL_MAX_FAILURES="3",
        CHAT_CHANNEL_RETRY_SECONDS="0.5",
        CHAT_CHANNEL_RETRY_MAX_SECONDS="60",
    )
    assert ChannelRetry.from_settings(settings) == ChannelRetry(3, 0.5, 60.0)
    assert ChannelRetry.from_settings(make_settings("sqlite+aiosqlite:///:memory:")) == ChannelRetry()


def test_errors_are_described_for_the_subscription_view() -> None:
    assert describe(PermanentSendError("post OPS-1: 400 50024 Cannot execute")) == (
        "post OPS-1: 400 50024 Cannot execute"
    )
    assert describe(RateLimitedError("chat_postMessage", 13.7)) == (
        "chat_postMessage: rate limited, retry after 13.7 s"
    )
    assert describe(OSError("reset")) == "OSError: reset"


async def test_each_channel_has_its_own_pacing_window() -> None:
    now = [100.0]
    pacer = ChannelPacer(1.0, clock=lambda: now[0])
    await pacer.slot("A")
    assert pacer.quiet_for("A") == 1.0
    assert pacer.quiet_for("B") == 0.0  # another channel may post at once
    now[0] = 101.0
    assert pacer.quiet_for("A") == 0.0
