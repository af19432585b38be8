"""The SSRF-guarding httpcore backend, driven with a fake inner backend so no packet leaves the machine."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import pytest

from hub.adapters.webhooks.sender import SSRFGuardBackend
from hub.adapters.webhooks.ssrf import UnsafeURLError

DnsInstaller = Callable[[Callable[[str], list[str]]], list[str]]


class FakeStream(httpcore.AsyncNetworkStream):
    """A stream that only reports a peer address and whether it was closed."""

    def __init__(self, server_addr: Any) -> None:
        self.server_addr = server_addr
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True

    def get_extra_info(self, info: str) -> Any:
        return self.server_addr if info == "server_addr" else None


class FakeBackend(httpcore.AsyncNetworkBackend):
    """Records connect calls; ``refuse`` hosts fail, others return a stream whose peer is ``peers[host]``."""

    def __init__(self, peers: dict[str, Any] | None = None, refuse: Iterable[str] = ()) -> None:
        self.peers = peers or {}
        self.refuse = set(refuse)
        self.calls: list[str] = []
        self.streams: list[FakeStream] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.calls.append(host)
        if host in self.refuse:
            raise httpcore.ConnectError(f"[Errno 111] Connection refused ({host})")
        stream = FakeStream(self.peers.get(host, (host, port)))
        self.streams.append(stream)
        return stream


async def test_connects_to_the_checked_ip_not_the_hostname(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["93.184.216.34"])
    inner = FakeBackend()
    stream = await SSRFGuardBackend(allow_private=False, inner=inner).connect_tcp("hooks.example.com", 443)
    assert inner.calls == ["93.184.216.34"]
    assert stream is inner.streams[0]


async def test_forbidden_resolution_never_reaches_the_inner_backend(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["169.254.169.254"])
    inner = FakeBackend()
    with pytest.raises(UnsafeURLError, match=r"169\.254\.169\.254"):
        await SSRFGuardBackend(allow_private=False, inner=inner).connect_tcp("metadata.example.com", 80)
    assert inner.calls == []


async def test_connected_peer_is_rechecked_and_closed_if_forbidden(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["93.184.216.34"])
    inner = FakeBackend(peers={"93.184.216.34": ("10.0.0.7", 443)})
    with pytest.raises(UnsafeURLError, match=r"connected address 10\.0\.0\.7"):
        await SSRFGuardBackend(allow_private=False, inner=inner).connect_tcp("hooks.example.com", 443)
    assert inner.streams[0].closed is True


async def test_unknown_peer_address_fails_closed(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["93.184.216.34"])
    inner = FakeBackend(peers={"93.184.216.34": None})
    with pytest.raises(UnsafeURLError, match="cannot verify"):
        await SSRFGuardBackend(allow_private=False, inner=inner).connect_tcp("hooks.example.com", 443)
    assert inner.streams[0].closed is True


async def test_falls_back_to_the_next_checked_address(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["2606:4700::1111", "93.184.216.34"])
    inner = FakeBackend(refuse={"2606:4700::1111"})
    stream = await SSRFGuardBackend(allow_private=False, inner=inner).connect_tcp("hooks.example.com", 443)
    assert inner.calls == ["2606:4700::1111", "93.184.216.34"]
    assert stream.get_extra_info("server_addr") == ("93.184.216.34", 443)


async def test_all_addresses_failing_raises_the_last_connect_error(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["8.8.8.8", "8.8.4.4"])
    inner = FakeBackend(refuse={"8.8.8.8", "8.8.4.4"})
    with pytest.raises(httpcore.ConnectError, match=r"8\.8\.4\.4"):
        await SSRFGuardBackend(allow_private=False, inner=inner).connect_tcp("hooks.example.com", 443)
    assert inner.calls == ["8.8.8.8", "8.8.4.4"]


async def test_allow_private_delegates_the_hostname_unchanged(fake_dns: DnsInstaller) -> None:
    lookups = fake_dns(lambda host: ["10.0.0.7"])
    inner = FakeBackend()
    await SSRFGuardBackend(allow_private=True, inner=inner).connect_tcp("intranet.local", 8080)
    assert inner.calls == ["intranet.local"]
    assert lookups == []


async def test_unix_sockets_are_refused() -> None:
    backend = SSRFGuardBackend(allow_private=True, inner=FakeBackend())
    with pytest.raises(UnsafeURLError, match="Unix socket"):
        await backend.connect_unix_socket("/run/docker.sock")
