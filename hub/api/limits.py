"""Rate limits at the HTTP edge: who the client is, and the hub's `Limits`.

The client address is the socket peer. Behind a reverse proxy the peer is the proxy, so
`X-Forwarded-For` is believed only when the peer is in `TRUSTED_PROXIES`: the header is read from the
right, skipping trusted proxies, and the first address that is not one is the client (entries further
left were written by the client and prove nothing). IPv6 clients are keyed by their /64, which one
subscriber normally holds whole.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from quart import request

from hub.api.deps import hub
from hub.services.limits import Limits

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def limits() -> Limits:
    return hub().require_limits()


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _parse(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _key(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def is_trusted_proxy(peer: str | None, trusted: Sequence[str]) -> bool:
    """Whether the socket peer `peer` is one of `TRUSTED_PROXIES` (whose X-Forwarded-* are believed)."""
    address = _parse(peer or "")
    return address is not None and any(address in net for net in _networks(tuple(trusted)))


def resolve_client(peer: str | None, forwarded: Sequence[str], trusted: Sequence[str]) -> str:
    """The client address key for a request from `peer` with these `X-Forwarded-For` values."""
    address = _parse(peer or "")
    if address is None:
        return peer or "unknown"
    networks = _networks(tuple(trusted))
    if not networks or not any(address in net for net in networks):
        return _key(address)
    hops = [hop for value in forwarded for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        candidate = _parse(hop)
        if candidate is None:
            break  # garbage that a trusted proxy did not write: stop at the last proxy we know
        address = candidate
        if not any(address in net for net in networks):
            break
    return _key(address)


def client_address() -> str:
    """The current request's client address key (see the module docstring)."""
    client = request.scope.get("client")
    peer = str(client[0]) if client else None
    forwarded = request.headers.getlist("X-Forwarded-For")
    return resolve_client(peer, forwarded, hub().settings.trusted_proxies)
