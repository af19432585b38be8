"""Server-side request forgery (SSRF) guards for customer-supplied webhook URLs.

A webhook URL is chosen by a customer, and we POST to it from inside our network, so an attacker could
aim it at internal services or at the cloud metadata endpoint. Two layers stop that:

1. :func:`validate_url` is a cheap syntactic check used when an endpoint is saved and before each send:
   http(s) only, a host present, a valid port, no ``user:password@`` credentials.
2. :func:`resolve_and_check` resolves the host and refuses it if *any* address is forbidden according to
   :func:`is_forbidden_address`. The sender's resolver calls it for every new connection, and the
   connection goes to the checked address, so DNS rebinding (a name that resolves to a public address when
   saved and a private one when sent) cannot slip through; IP-literal hosts are judged by
   :func:`check_ip_literal`. An address check on the URL alone would not be enough.

The policy is deny-by-default: anything the standard library does not consider globally routable is
forbidden, plus an explicit table so the policy does not drift with Python patch releases, which have
changed ``ipaddress``'s ``is_private``/``is_global`` tables. Addresses embedding an IPv4 address
(IPv4-mapped, NAT64, 6to4, Teredo) are judged by the embedded address too.

Self-hosted installations that deliver to their own LAN can opt out with ``allow_private``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket

from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})

CLOUD_METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.IPv4Address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        ipaddress.IPv4Address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.IPv6Address("fd00:ec2::254"),  # AWS IMDS over IPv6
        ipaddress.IPv4Address("100.100.100.200"),  # Alibaba Cloud
    }
)
"""Instance-metadata endpoints, forbidden by name even though the ranges below already cover them."""

_FORBIDDEN_V4_NETWORKS: tuple[ipaddress.IPv4Network, ...] = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network", includes the unspecified address
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT shared space (also Alibaba metadata)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local (also most cloud metadata)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes broadcast 255.255.255.255
    )
)

_FORBIDDEN_V6_NETWORKS: tuple[ipaddress.IPv6Network, ...] = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/96",  # unspecified, loopback and deprecated IPv4-compatible addresses
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique-local (also AWS IMDS fd00:ec2::254)
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)

_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")

_HOSTNAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")


class UnsafeURLError(ValueError):
    """A webhook URL or the address it resolves to must not be contacted; the message says why."""


def parse_url(url: str) -> URL:
    """Parse and validate ``url``; raise :class:`UnsafeURLError` unless it is an http(s) URL with a host,
    a valid port and no credentials.

    Parsing uses yarl, the parser aiohttp (the sender's client) uses, and the sender requests the very
    object returned here, so there is no parser differential between what is checked and what is
    requested. Destination addresses are checked separately at connect time (see
    :func:`resolve_and_check`) because a hostname can resolve differently later.
    """
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise UnsafeURLError(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        shown = parsed.scheme or "(none)"
        raise UnsafeURLError(f"URL scheme must be http or https, got {shown!r}")
    raw_host = parsed.raw_host  # IDNA-encoded by yarl
    if not raw_host:
        raise UnsafeURLError("URL must include a host")
    if ":" in raw_host:
        try:
            ipaddress.IPv6Address(raw_host)
        except ValueError as exc:
            raise UnsafeURLError(f"not a valid URL: {exc}") from exc
    elif not _HOSTNAME.fullmatch(raw_host):
        raise UnsafeURLError(f"URL host {raw_host!r} is not a valid host name")
    if parsed.user is not None or parsed.password is not None:
        raise UnsafeURLError("URL must not contain credentials (user:password@)")
    if parsed.explicit_port is not None and not 1 <= parsed.explicit_port <= 65535:
        raise UnsafeURLError(f"URL port {parsed.explicit_port} is out of range 1-65535")
    return parsed


def validate_url(url: str) -> None:
    """Raise :class:`UnsafeURLError` unless ``url`` passes :func:`parse_url`."""
    parse_url(url)


def check_ip_literal(host: str, allow_private: bool) -> None:
    """Refuse a URL host that is a forbidden IP literal (a host name is checked when it is resolved)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return
    if not allow_private and is_forbidden_address(ip):
        raise UnsafeURLError(f"destination address {ip} is private or reserved")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address a transition-mechanism IPv6 address routes to, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client address (de-obfuscated); the server is a public relay
    return None


def is_forbidden_address(ip: IPAddress) -> bool:
    """Return True if a webhook must not be delivered to ``ip`` (internal, special-purpose or metadata).

    IPv4-mapped (``::ffff:a.b.c.d``) and NAT64 well-known-prefix addresses are judged purely by the IPv4
    address they embed, since that is where the packets go; 6to4 and Teredo addresses are forbidden if
    either the IPv6 address or the embedded IPv4 address is.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        verdict = _ipv6_verdict(ip)
        if verdict is not None:
            return verdict
    elif any(ip in net for net in _FORBIDDEN_V4_NETWORKS):
        return True
    return ip in CLOUD_METADATA_ADDRESSES or _is_special_purpose(ip)


def _ipv6_verdict(ip: ipaddress.IPv6Address) -> bool | None:
    """What the IPv6-only rules decide (a zone index, an embedded IPv4 address, forbidden IPv6 ranges),
    or None when they leave it to the checks common to both families."""
    if ip.scope_id:  # a zone index only makes sense for link-local / local destinations
        return True
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        if ip.ipv4_mapped is not None or ip in _NAT64_WELL_KNOWN:
            return is_forbidden_address(embedded)
        if is_forbidden_address(embedded):
            return True
    if any(ip in net for net in _FORBIDDEN_V6_NETWORKS):
        return True
    return None


def _is_special_purpose(ip: IPAddress) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified or otherwise not global."""
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def resolve(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the running loop's ``getaddrinfo``; return unique TCP addresses in order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def resolve_and_check(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve ``host`` and return its addresses; raise :class:`UnsafeURLError` if any is forbidden.

    Refusing when *any* address is forbidden (rather than filtering them out) avoids a name that mixes a
    public and an internal record from reaching the internal one on a retry or a happy-eyeballs fallback.
    ``socket.gaierror`` (an ``OSError``) propagates for names that do not resolve.
    """
    addresses = await resolve(host, port)
    if not addresses:
        raise UnsafeURLError(f"host {host!r} did not resolve to any address")
    if allow_private:
        return addresses
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError as exc:
            raise UnsafeURLError(f"host {host!r} resolved to unparseable address {address!r}") from exc
        if is_forbidden_address(ip):
            shown = "" if address == host else f" (resolved from {host!r})"
            raise UnsafeURLError(f"destination address {address}{shown} is private or reserved")
    return addresses
