"""One outbound webhook HTTP attempt, hardened against SSRF and misbehaving receivers.

:class:`WebhookSender` POSTs a signed body to a customer URL and condenses the outcome into an
:class:`AttemptResult`; it never raises for network trouble, so the worker can record every attempt.

DNS-rebinding protection -- why a network backend
-------------------------------------------------
Checking the URL's resolved addresses before calling httpx is not enough: httpx resolves the name again
when it connects, and a rebinding DNS server can answer "public" to the check and "127.0.0.1" to the
connect. Checking ``response.extensions["network_stream"]`` afterwards sees the real peer, but only once the
request, including its body, has already been sent to it.

So the check lives in :class:`SSRFGuardBackend`, an httpcore network backend whose ``connect_tcp`` resolves
the host itself, refuses the connection if any address is forbidden (:func:`ssrf.resolve_and_check`), then
opens the TCP connection to the *checked IP literal* and finally re-checks the connected socket's peer
address. No byte is sent to a forbidden address. Only the TCP connect is redirected to the IP: httpcore
still uses the original hostname for TLS SNI and certificate verification, and httpx still sends the
original ``Host`` header. Kept-alive connections are reused only for the same origin and stay pinned to
the address checked when they were opened, so every attempt talks to a checked address.

httpx does not yet accept a ``network_backend`` argument (see encode/httpx PR #3749), so
:class:`SSRFGuardTransport` swaps the connection pool of ``httpx.AsyncHTTPTransport`` for one that uses the
guard, and fails loudly at construction if httpx's internals ever change shape. Environment proxies are
disabled (``trust_env=False``): through a proxy, the guard would check the proxy, not the destination.

Receivers cannot hurt the worker either: redirects are not followed (a redirect is a failure, and could
otherwise point at an internal address), the whole attempt has one total deadline, and only the first
:data:`RESPONSE_BODY_LIMIT` bytes of the response are read (at most one extra network read, <= 64 KiB),
after which the connection is dropped. ``accept-encoding: identity`` is requested so a compressed
response cannot expand in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
import typing
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import httpcore
import httpx

from hub.adapters.webhooks.schedule import retry_after_seconds
from hub.adapters.webhooks.ssrf import UnsafeURLError, is_forbidden_address, resolve_and_check, validate_url

DEFAULT_TIMEOUT_SECONDS = 10.0
"""Total deadline for one attempt: connect, send, and read the response prefix."""

RESPONSE_BODY_LIMIT = 2048
"""Bytes of the response body kept for the delivery log (and, roughly, the most that is read)."""

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


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


class SSRFGuardBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that only connects to addresses :func:`ssrf.is_forbidden_address` allows.

    With ``allow_private`` it delegates unchanged (for self-hosted installs delivering on their LAN).
    """

    def __init__(self, allow_private: bool, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._allow_private = allow_private
        self._inner: httpcore.AsyncNetworkBackend = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - signature fixed by httpcore's backend interface
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve ``host``, refuse forbidden addresses, connect to a checked IP and verify the peer."""
        if self._allow_private:
            return await self._inner.connect_tcp(
                host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
            )
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_and_check(host, port, allow_private=False)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host!r} timed out") from exc
        except OSError as exc:  # socket.gaierror: the name does not resolve
            raise httpcore.ConnectError(f"could not resolve {host!r}: {exc}") from exc

        last_error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            await self._check_peer(stream, host)
            return stream
        assert last_error is not None  # resolve_and_check never returns an empty list
        raise last_error

    async def _check_peer(self, stream: httpcore.AsyncNetworkStream, host: str) -> None:
        """Close ``stream`` and raise unless its socket's peer address is known and allowed (fail closed)."""
        server_addr = stream.get_extra_info("server_addr")
        try:
            peer = ipaddress.ip_address(server_addr[0])
        except (TypeError, IndexError, ValueError):
            await stream.aclose()
            raise UnsafeURLError(f"cannot verify the address connected to for {host!r}") from None
        if is_forbidden_address(peer):
            await stream.aclose()
            raise UnsafeURLError(f"connected address {peer} for {host!r} is private or reserved")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - signature fixed by httpcore's backend interface
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refuse Unix sockets: webhooks only ever go over TCP."""
        raise UnsafeURLError("webhooks cannot be delivered over a Unix socket")

    async def sleep(self, seconds: float) -> None:
        """Delegate to the wrapped backend (used by httpcore between connect retries)."""
        await self._inner.sleep(seconds)


class SSRFGuardTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connections are opened through :class:`SSRFGuardBackend`."""

    def __init__(
        self,
        *,
        allow_private: bool,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx.AsyncHTTPTransport internals changed; cannot install the SSRF guard")
        self.network_backend = SSRFGuardBackend(allow_private, inner=network_backend)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=self.network_backend,
        )


class WebhookSender:
    """Sends single webhook attempts over one shared, SSRF-guarded ``httpx.AsyncClient``.

    Create one per worker process and call :meth:`aclose` (or use ``async with``) on shutdown; sharing the
    client shares its connection pool across deliveries.
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
        self._client = httpx.AsyncClient(
            transport=SSRFGuardTransport(allow_private=allow_private),
            follow_redirects=False,
            timeout=httpx.Timeout(timeout),
            trust_env=False,
            headers={"accept-encoding": "identity"},
        )

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
        """Close the shared client and its pooled connections."""
        await self._client.aclose()

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        """POST ``body`` to ``url`` once and describe the outcome; network failures become ``error`` text."""
        started = time.perf_counter()
        status_code: int | None = None
        retry_after: float | None = None
        received = b""
        error: str | None = None
        try:
            validate_url(url)
            async with (
                asyncio.timeout(self.timeout),
                self._client.stream("POST", url, headers=headers, content=body) as response,
            ):
                status_code = response.status_code
                retry_after = retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC))
                received = await _read_prefix(response, self._body_limit)
        except UnsafeURLError as exc:
            error = f"unsafe destination: {exc}"
        except (TimeoutError, httpx.TimeoutException):
            stage = "waiting for the response" if status_code is None else "reading the response body"
            error = f"timed out after {self.timeout:g} s {stage}"
        except httpx.HTTPError as exc:
            error = _describe(exc)
        except OSError as exc:
            error = _describe(exc)
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


async def _read_prefix(response: httpx.Response, limit: int) -> bytes:
    """Read raw body chunks until ``limit`` bytes are buffered, then stop without draining the rest."""
    buffer = bytearray()
    chunks = typing.cast(AsyncGenerator[bytes, None], response.aiter_raw())
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            buffer += chunk
            if len(buffer) >= limit:
                break
    return bytes(buffer[:limit])


def _describe(exc: BaseException) -> str:
    """Return ``"ExceptionName: message"``, falling back to the cause when httpx leaves the message empty."""
    message = str(exc) or (str(exc.__cause__) if exc.__cause__ else "") or "no details"
    return f"{type(exc).__name__}: {message}"
