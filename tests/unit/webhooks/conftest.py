"""Fixtures for the webhook building-block tests: a live loopback receiver and senders pointed at it."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hub.adapters.webhooks.sender import WebhookSender
from tests.unit.webhooks.http_receiver import Receiver

Resolver = Callable[[str], list[str]]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP/1.1 server on 127.0.0.1 at a free port."""
    server = Receiver()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def lan_sender() -> AsyncIterator[WebhookSender]:
    """A sender allowed to reach private addresses, so it can talk to the loopback receiver."""
    sender = WebhookSender(timeout=2.0, allow_private=True)
    yield sender
    await sender.aclose()


@pytest.fixture
async def guarded_sender() -> AsyncIterator[WebhookSender]:
    """A production-like sender that refuses private addresses."""
    sender = WebhookSender(timeout=2.0, allow_private=False)
    yield sender
    await sender.aclose()


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[Resolver], list[str]]:
    """Install a fake ``getaddrinfo`` on the running loop; IP literals resolve to themselves.

    Call the returned function with ``resolver(host) -> [addresses]``; it returns the list of host names
    looked up so far, so tests can count resolutions. No real DNS query or connection leaves the machine.
    """
    lookups: list[str] = []

    def install(resolver: Resolver) -> list[str]:
        loop = asyncio.get_running_loop()

        async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
            lookups.append(host)
            try:
                addresses = [str(ipaddress.ip_address(host))]
            except ValueError:
                addresses = resolver(host)
            results = []
            for address in addresses:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
                results.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
            return results

        monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
        return lookups

    return install
