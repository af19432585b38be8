"""One delivery attempt against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable

import pytest
from standardwebhooks.webhooks import Webhook

from hub.adapters.webhooks import ssrf
from hub.adapters.webhooks.sender import RESPONSE_BODY_LIMIT, AttemptResult, WebhookSender, read_prefix
from hub.adapters.webhooks.signing import build_headers, generate_secret
from tests.unit.webhooks.http_receiver import (
    SLOW_SECONDS,
    TRICKLE_BYTES,
    TRICKLE_INTERVAL,
    Receiver,
    free_port,
    huge_body,
)

BODY = json.dumps({"type": "ticket.closed", "data": {"id": "tkt_9"}}).encode()
DnsInstaller = Callable[[Callable[[str], list[str]]], list[str]]


def _headers(secret: str | None = None) -> dict[str, str]:
    return build_headers([secret or generate_secret()], "msg_1", int(time.time()), BODY)


async def test_2xx_is_success_and_the_receiver_can_verify_the_signature(
    receiver: Receiver, lan_sender: WebhookSender
) -> None:
    secret = generate_secret()
    result = await lan_sender.send(receiver.url("/ok"), _headers(secret), BODY)

    assert result == AttemptResult(
        status_code=200,
        duration_ms=result.duration_ms,
        error=None,
        response_body="ok",
        retry_after=None,
        success=True,
        gone=False,
    )
    assert 0 <= result.duration_ms < 2000
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/ok"
    assert request.body == BODY
    assert request.headers["user-agent"] == "Switchboard-Webhooks/1"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept-encoding"] == "identity"
    assert Webhook(secret).verify(request.body, request.headers) == json.loads(BODY)


async def test_5xx_is_failure_with_body(receiver: Receiver, lan_sender: WebhookSender) -> None:
    result = await lan_sender.send(receiver.url("/fail"), _headers(), BODY)
    assert result.status_code == 500
    assert result.success is False
    assert result.gone is False
    assert result.error is None
    assert result.response_body == "boom"


async def test_redirect_is_failure_and_not_followed(receiver: Receiver, lan_sender: WebhookSender) -> None:
    result = await lan_sender.send(receiver.url("/redirect"), _headers(), BODY)
    assert result.status_code == 301
    assert result.success is False
    assert [request.path for request in receiver.requests] == ["/redirect"]


async def test_410_means_gone(receiver: Receiver, lan_sender: WebhookSender) -> None:
    result = await lan_sender.send(receiver.url("/gone"), _headers(), BODY)
    assert result.status_code == 410
    assert result.gone is True
    assert result.success is False
    assert result.response_body == "endpoint deleted"


async def test_429_reports_retry_after(receiver: Receiver, lan_sender: WebhookSender) -> None:
    result = await lan_sender.send(receiver.url("/throttle"), _headers(), BODY)
    assert result.status_code == 429
    assert result.retry_after == 7.0
    assert result.success is False


async def test_slow_receiver_times_out(receiver: Receiver) -> None:
    async with WebhookSender(timeout=0.5, allow_private=True) as sender:
        started = time.perf_counter()
        result = await sender.send(receiver.url("/slow"), _headers(), BODY)
        elapsed = time.perf_counter() - started

    assert result.status_code is None
    assert result.success is False
    assert result.error is not None
    assert "timed out after 0.5 s" in result.error
    assert elapsed < SLOW_SECONDS / 2
    assert 400 <= result.duration_ms < 2500
    assert [request.path for request in receiver.requests] == ["/slow"]


async def test_total_deadline_stops_a_trickling_2xx_and_it_is_not_a_success(receiver: Receiver) -> None:
    async with WebhookSender(timeout=0.5, allow_private=True) as sender:
        started = time.perf_counter()
        result = await sender.send(receiver.url("/trickle"), _headers(), BODY)
        elapsed = time.perf_counter() - started

    assert elapsed < TRICKLE_BYTES * TRICKLE_INTERVAL / 2
    assert result.status_code == 200
    assert result.error == "timed out after 0.5 s reading the response body"
    assert result.success is False


async def test_connection_refused_is_an_error_not_an_exception(lan_sender: WebhookSender) -> None:
    result = await lan_sender.send(f"http://127.0.0.1:{free_port()}/ok", _headers(), BODY)
    assert result.status_code is None
    assert result.success is False
    assert result.gone is False
    assert result.error is not None
    assert result.error.startswith("ConnectError")
    assert result.response_body == ""


async def test_huge_response_body_is_truncated(receiver: Receiver, lan_sender: WebhookSender) -> None:
    result = await lan_sender.send(receiver.url("/huge"), _headers(), BODY)
    assert result.status_code == 200
    assert result.success is True
    assert len(result.response_body) == RESPONSE_BODY_LIMIT == 2048
    assert result.response_body == huge_body()[:2048].decode()


async def test_read_prefix_stops_reading_past_the_cap() -> None:
    asked: list[int] = []

    async def endless(n: int) -> bytes:
        asked.append(n)
        return b"x" * min(n, 1000)

    assert await read_prefix(endless, 2048) == b"x" * 2048
    assert asked == [2048, 1048, 48]


async def test_read_prefix_stops_at_the_end_of_a_short_body() -> None:
    chunks = iter([b"ok", b""])

    async def short(n: int) -> bytes:
        return next(chunks)

    assert await read_prefix(short, 2048) == b"ok"


async def test_a_long_body_is_not_drained_and_its_connection_not_reused(
    receiver: Receiver, lan_sender: WebhookSender
) -> None:
    first = await lan_sender.send(receiver.url("/huge"), _headers(), BODY)
    second = await lan_sender.send(receiver.url("/ok"), _headers(), BODY)
    assert (first.success, second.success) == (True, True)
    assert receiver.connections == 2


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_private_destination_is_refused_before_connecting(
    receiver: Receiver, guarded_sender: WebhookSender, host: str
) -> None:
    result = await guarded_sender.send(receiver.url("/ok", host=host), _headers(), BODY)
    assert result.status_code is None
    assert result.success is False
    assert result.error is not None
    assert result.error.startswith("unsafe destination:")
    assert "private or reserved" in result.error
    assert receiver.connections == 0
    assert receiver.requests == []


async def test_invalid_url_is_an_error_not_an_exception(guarded_sender: WebhookSender) -> None:
    result = await guarded_sender.send("ftp://hooks.example.com/x", _headers(), BODY)
    assert result.status_code is None
    assert result.error is not None
    assert "scheme must be http or https" in result.error


async def test_unresolvable_host_is_an_error(guarded_sender: WebhookSender, fake_dns: DnsInstaller) -> None:
    def fail(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    fake_dns(fail)
    result = await guarded_sender.send("https://nowhere.invalid/hook", _headers(), BODY)
    assert result.status_code is None
    assert result.error is not None
    assert "could not resolve 'nowhere.invalid'" in result.error


async def test_dns_rebinding_is_caught_on_the_next_attempt(
    receiver: Receiver,
    guarded_sender: WebhookSender,
    fake_dns: DnsInstaller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hostname resolves to an "allowed" address, then rebinds to a forbidden one.

    To let the guarded sender reach the loopback receiver at all, the policy is patched so that exactly
    127.0.0.1 counts as public and 127.0.0.2 as forbidden. The first attempt must connect to the checked
    address while keeping the original Host header; the second must be refused without a connection.
    """

    def policy(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return ip != ipaddress.IPv4Address("127.0.0.1")

    monkeypatch.setattr(ssrf, "is_forbidden_address", policy)
    answers = iter([["127.0.0.1"], ["127.0.0.2"]])
    lookups = fake_dns(lambda host: next(answers))

    url = receiver.url("/ok", host="hooks.example.com")
    first = await guarded_sender.send(url, _headers(), BODY)
    assert first.success is True, first
    # One lookup, ours: the TCP connect went to the checked IP literal instead of re-resolving the name
    # (which would have answered the rebound 127.0.0.2 and failed).
    assert lookups == ["hooks.example.com"]
    assert receiver.requests[0].headers["host"] == f"hooks.example.com:{receiver.port}"

    second = await guarded_sender.send(url, _headers(), BODY)
    assert second.success is False
    assert second.error is not None
    assert "127.0.0.2 (resolved from 'hooks.example.com') is private or reserved" in second.error
    assert receiver.connections == 1
    assert len(receiver.requests) == 1


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        WebhookSender(timeout=0)
