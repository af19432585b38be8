"""One outbound webhook HTTP attempt, hardened against SSRF and misbehaving receivers.

:class:`WebhookSender` POSTs a signed body to a customer URL and condenses the outcome into an
:class:`AttemptResult`; it never raises for network trouble, so the worker can record every attempt.

Why aiohttp
-----------
The worker spends most of its time here, so the client's cost per request decides how many deliveries one
core sends. aiohttp (already a dependency of the chat bots) parses responses in C and costs about a quarter
of what httpx does per kept-alive request on this machine (170 µs against 620 µs of CPU), which is what
lets one worker core send over 1,000 signed deliveries per second (bench/webhooks.py).

DNS-rebinding protection
------------------------
Checking the URL's resolved addresses before calling a client is not enough if the client resolves the
name again when it connects: a rebinding DNS server can answer "public" to the check and "127.0.0.1" to
the connect. So the check *is* the client's resolver: :class:`GuardedResolver` resolves the host, refuses
it if any address is forbidden (:func:`ssrf.resolve_and_check`), and hands aiohttp only the checked IP
literals, which aiohttp then connects to (keeping the host name for TLS SNI, certificate verification and
the ``Host`` header). aiohttp's DNS cache is off, so every new connection resolves and checks again; a
kept-alive connection is reused only for the same origin and stays pinned to the address checked when it
was opened. URLs whose host is an IP literal skip any resolver, so :func:`ssrf.check_ip_literal` judges
them before the request. No byte is sent to a forbidden address. Environment proxies are ignored
(``trust_env=False``): through a proxy, the guard would check the proxy, not the destination. The URL is
parsed once, by yarl (aiohttp's own parser), for both the checks and the request: no parser differential.

Receivers cannot hurt the worker either: redirects are not followed (a redirect is a failure, and could
otherwise point at an internal address), cookies are neither stored nor sent, the whole attempt has one
total deadline, and only the first :data:`RESPONSE_BODY_LIMIT` bytes of the response are read, after
which the connection is dropped rather than drained. ``accept-encoding: identity`` is requested and
nothing is decompressed, so a compressed response cannot expand in memory.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from types import TracebackType

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from hub.adapters.webhooks.schedule import retry_after_seconds
from hub.adapters.webhooks.ssrf import UnsafeURLError, check_ip_literal, parse_url, resolve_and_check

DEFAULT_TIMEOUT_SECONDS = 10.0
"""Total deadline for one attempt: connect, send, and read the response prefix."""

RESPONSE_BODY_LIMIT = 2048
"""Bytes of the response body kept for the delivery log (and, roughly, the most that is read)."""

MAX_CONNECTIONS = 100
"""Open connections per sender; the worker's lanes (one request each) stay below it."""


@dataclass(frozen=True)
class AttemptResult:
    """What happened on one delivery attempt, ready to be stored as a delivery-attempt row.

    ``error`` is set when the attempt did not complete (network failure, timeout, unsafe destination);
    ``status_code`` is None when no response status was received. ``success`` requires a 2xx status and
    no error -- redirects (3xx) count as failures. ``gone`` (410) tells the worker to disable the endpoint.
    """

    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str
    retry_after: float | None
    success: bool
    gone: bool


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that returns only addresses the SSRF policy allows, and raises otherwise.

    With ``allow_private`` it still resolves through the loop (so tests and self-hosted installs behave
    the same way) but refuses nothing.
    """

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = await resolve_and_check(host, port, allow_private=self._allow_private)
        except OSError as exc:  # socket.gaierror: the name does not resolve
            raise OSError(exc.errno, f"could not resolve {host!r}: {exc.strerror or exc}") from exc
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=socket.IPPROTO_TCP,
                flags=flags,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        """Nothing to release: resolution goes through the event loop."""


class WebhookSender:
    """Sends single webhook attempts over one shared, SSRF-guarded ``aiohttp.ClientSession``.

    Create one per worker process and call :meth:`aclose` (or use ``async with``) on shutdown; sharing the
    session shares its connection pool across deliveries. The session is created on first use, inside the
    running event loop.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        allow_private: bool = False,
        response_body_limit: int = RESPONSE_BODY_LIMIT,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.timeout = timeout
        self.allow_private = allow_private
        self._body_limit = response_body_limit
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the shared session and its pooled connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self.allow_private),
                use_dns_cache=False,
                limit=MAX_CONNECTIONS,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=False,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),  # one deadline, set per attempt in send()
                headers={"accept-encoding": "identity"},
            )
        return self._session

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        """POST ``body`` to ``url`` once and describe the outcome; network failures become ``error`` text."""
        started = time.perf_counter()
        status_code: int | None = None
        retry_after: float | None = None
        received = b""
        error: str | None = None
        try:
            target = checked_target(url, self.allow_private)
            async with (
                asyncio.timeout(self.timeout),
                self._client().post(target, data=body, headers=headers, allow_redirects=False) as response,
            ):
                status_code = response.status
                retry_after = retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC))
                received = await read_prefix(response.content.read, self._body_limit)
                if not response.content.at_eof():
                    response.close()  # drop the connection instead of draining an unread rest
        except UnsafeURLError as exc:
            error = f"unsafe destination: {exc}"
        except TimeoutError:
            stage = "waiting for the response" if status_code is None else "reading the response body"
            error = f"timed out after {self.timeout:g} s {stage}"
        except (aiohttp.ClientError, OSError) as exc:
            error = describe(exc)
        duration_ms = round((time.perf_counter() - started) * 1000)
        return AttemptResult(
            status_code=status_code,
            duration_ms=duration_ms,
            error=error,
            response_body=received[: self._body_limit].decode("utf-8", errors="replace"),
            retry_after=retry_after,
            success=error is None and status_code is not None and 200 <= status_code < 300,
            gone=status_code == 410,
        )


@lru_cache(maxsize=4096)
def checked_target(url: str, allow_private: bool) -> URL:
    """`url` parsed and its host checked if it is an IP literal (cached: it depends on nothing else).
    Host names are checked on every attempt, when the resolver connects (DNS rebinding)."""
    target = parse_url(url)
    check_ip_literal(target.raw_host or "", allow_private=allow_private)
    return target


async def read_prefix(read: Callable[[int], Awaitable[bytes]], limit: int) -> bytes:
    """Call ``read(n)`` until ``limit`` bytes are buffered or it returns b"" (end of body); stop there."""
    buffer = bytearray()
    while len(buffer) < limit:
        chunk = await read(limit - len(buffer))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)


def describe(exc: BaseException) -> str:
    """Short ``"Kind: details"`` text for the delivery log, in the same words whatever the client library.

    Connection failures read ``ConnectError: ...`` (refused, unreachable, DNS), a peer that hung up
    ``ServerDisconnected: ...``, a response that is not valid HTTP ``ProtocolError: ...``.
    """
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        return f"ConnectError: {cause.strerror or cause}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "ServerDisconnected: the receiver closed the connection without a complete response"
    if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return f"ProtocolError: {exc.message if isinstance(exc, aiohttp.ClientResponseError) else exc}"
    message = str(exc) or (str(exc.__cause__) if exc.__cause__ else "") or "no details"
    return f"{type(exc).__name__}: {message}"
