"""The SSRF-guarding resolver aiohttp connects through, and the IP-literal check beside it.

DNS answers come from a fake ``getaddrinfo`` on the loop, so no query leaves the machine; the end-to-end
consequences (no connection made, rebinding caught) are in test_sender.py against a live receiver.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from hub.adapters.webhooks.sender import GuardedResolver
from hub.adapters.webhooks.ssrf import UnsafeURLError, check_ip_literal

DnsInstaller = Callable[[Callable[[str], list[str]]], list[str]]


async def test_returns_the_checked_ips_and_keeps_the_host_name_for_tls(fake_dns: DnsInstaller) -> None:
    fake_dns(lambda host: ["2606:4700::1111", "93.184.216.34"])
    results = await GuardedResolver(allow_private=False).resolve("hooks.example.com", 443)
    assert [(r["host"], r["hostname"], r["port"], r["family"]) for r in results] == [
        ("2606:4700::1111", "hooks.example.com", 443, socket.AF_INET6),
        ("93.184.216.34", "hooks.example.com", 443, socket.AF_INET),
    ]
    assert all(r["flags"] & socket.AI_NUMERICHOST for r in results)


@pytest.mark.parametrize("answer", [["169.254.169.254"], ["93.184.216.34", "10.0.0.7"], ["::ffff:127.0.0.1"]])
async def test_refuses_a_name_with_any_forbidden_address(fake_dns: DnsInstaller, answer: list[str]) -> None:
    fake_dns(lambda host: answer)
    with pytest.raises(UnsafeURLError, match="private or reserved"):
        await GuardedResolver(allow_private=False).resolve("metadata.example.com", 80)


async def test_allow_private_resolves_without_refusing(fake_dns: DnsInstaller) -> None:
    lookups = fake_dns(lambda host: ["10.0.0.7"])
    [result] = await GuardedResolver(allow_private=True).resolve("intranet.local", 8080)
    assert result["host"] == "10.0.0.7"
    assert lookups == ["intranet.local"]


async def test_a_name_that_does_not_resolve_is_an_os_error_naming_it(fake_dns: DnsInstaller) -> None:
    def fail(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    fake_dns(fail)
    with pytest.raises(OSError, match=r"could not resolve 'nowhere\.invalid'"):
        await GuardedResolver(allow_private=False).resolve("nowhere.invalid", 443)


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00:ec2::254"])
def test_forbidden_ip_literals_are_refused(host: str) -> None:
    with pytest.raises(UnsafeURLError, match="private or reserved"):
        check_ip_literal(host, allow_private=False)
    check_ip_literal(host, allow_private=True)


@pytest.mark.parametrize("host", ["93.184.216.34", "2606:4700::1111", "hooks.example.com"])
def test_public_ips_and_host_names_pass_the_literal_check(host: str) -> None:
    check_ip_literal(host, allow_private=False)
