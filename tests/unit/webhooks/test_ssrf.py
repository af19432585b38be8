"""Address and URL policy for customer-supplied webhook destinations."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import pytest

from hub.adapters.webhooks.ssrf import UnsafeURLError, is_forbidden_address, resolve_and_check, validate_url

FORBIDDEN = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.1.1",  # CGNAT
    "100.100.100.200",  # Alibaba metadata
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.10",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fd12::1",  # unique-local
    "fc00::1",
    "fd00:ec2::254",  # AWS IMDS over IPv6
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",  # IPv4-mapped private
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # deprecated IPv4-compatible
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::1",  # local-use NAT64
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]

ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2606:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",  # IPv4-mapped public address is judged by the embedded IPv4
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address)) is True


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/switchboard",
        "http://hooks.example.com:8080/x?y=1",
        "https://[2606:4700::1111]/hook",
        "HTTPS://Hooks.Example.com/",
        "https://bücher.example/hook",
        "http://203.0.113.9/",  # syntactically fine; addresses are checked at connect time
    ],
)
def test_validate_url_accepts_plain_http_urls(url: str) -> None:
    validate_url(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.com/file", "scheme must be http or https, got 'ftp'"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://hooks.example.com/", "scheme"),
        ("hooks.example.com/path", "scheme"),
        ("http:///path-only", "must include a host"),
        ("https://", "must include a host"),
        ("https://user:secret@hooks.example.com/", "credentials"),
        ("https://token@hooks.example.com/", "credentials"),
        ("http://hooks.example.com\\@127.0.0.1/", "backslash"),  # a user-info trick, refused outright
        ("http://hooks.example.com:99999/", "out of range"),
        ("http://hooks.example.com:0/", "out of range"),
        ("http://hooks.example.com:abc/", "not a valid URL"),
        ("http://[zz::1]/", "not a valid URL"),
        ("http://exa mple.com/", "not a valid host name"),
        ("http://hooks..example.com/", "not a valid host name"),
    ],
)
def test_validate_url_rejects(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=reason):
        validate_url(url)


def test_unsafe_url_error_is_a_value_error() -> None:
    assert issubclass(UnsafeURLError, ValueError)


DnsInstaller = Callable[[Callable[[str], list[str]]], list[str]]


async def test_resolve_and_check_returns_unique_public_addresses(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["8.8.8.8", "2606:4700::1111", "8.8.8.8"])
    assert await resolve_and_check("hooks.example.com", 443, allow_private=False) == [
        "8.8.8.8",
        "2606:4700::1111",
    ]


async def test_resolve_and_check_refuses_if_any_address_is_forbidden(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["8.8.8.8", "10.1.2.3"])
    with pytest.raises(UnsafeURLError, match=r"10\.1\.2\.3 \(resolved from 'mixed\.example\.com'\)"):
        await resolve_and_check("mixed.example.com", 443, allow_private=False)


async def test_resolve_and_check_refuses_literal_loopback(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: [])
    with pytest.raises(UnsafeURLError, match=r"127\.0\.0\.1 is private"):
        await resolve_and_check("127.0.0.1", 80, allow_private=False)


async def test_resolve_and_check_allow_private_returns_everything(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["8.8.8.8", "10.1.2.3"])
    assert await resolve_and_check("mixed.example.com", 443, allow_private=True) == ["8.8.8.8", "10.1.2.3"]


async def test_resolve_and_check_propagates_resolution_failure(fake_dns: DnsInstaller) -> None:
    def fail(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    fake_dns(fail)
    with pytest.raises(socket.gaierror):
        await resolve_and_check("nowhere.invalid", 443, allow_private=False)


async def test_resolve_and_check_uses_the_real_resolver_for_localhost() -> None:
    with pytest.raises(UnsafeURLError, match="resolved from 'localhost'"):
        await resolve_and_check("localhost", 80, allow_private=False)
