"""Redis pub/sub event bus: lets several hub processes share one stream of events.

Design in short:

* **One subscriber connection per process.** Thousands of sockets listen to a few hundred channels;
  the bus reference-counts local listeners and SUBSCRIBEs a channel when its first listener appears,
  UNSUBSCRIBEs when the last one goes. Received messages are dispatched to the local listeners.
* **The subscriber connection is owned by one supervisor task.** Per connection it runs a reader (reads
  frames, dispatches) and a writer (turns listener changes into SUBSCRIBE/UNSUBSCRIBE and sends PINGs).
  Any error ends the connection; the supervisor reconnects with capped, jittered exponential backoff
  and re-subscribes the channels wanted *now*, so changes made while disconnected are applied then.
* **Liveness is checked by the bus, not by socket timeouts.** Reads always pass an explicit timeout, so
  an idle subscription never raises: when nothing arrived for ``ping_interval`` the bus sends a PING,
  and only if nothing arrives within ``pong_timeout`` after that is the connection declared dead. That
  makes idle subscriptions safe (redis-py 8.1 applies a ~5 s read timeout to pub/sub reads, which is why
  this project pins redis-py 7) and still detects half-open TCP connections that keepalive alone would
  only notice after minutes. ``socket_keepalive`` is on anyway as a second line of defence.
* **Publishing uses a separate, ordinary connection pool** so a burst of publishes never queues behind
  the subscriber, and a publish fails fast with :class:`BusUnavailable` instead of retrying for seconds.

Channels are stored in Redis as ``"{prefix}:{channel}"`` so several deployments can share one Redis.

With ``sharded=True`` the same machinery speaks sharded pub/sub (``SSUBSCRIBE``/``SUNSUBSCRIBE``/
``SPUBLISH``, Redis 7) to *one* node of a Redis Cluster; :class:`~hub.adapters.bus.cluster.RedisClusterBus`
runs one such bus per master and routes each channel to the master that owns its slot.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hub.adapters.bus.base import BusUnavailable, EventBus, Listener, ReconnectCallback
from hub.adapters.bus.listeners import ListenerRegistry

logger = logging.getLogger(__name__)

#: Payload prefix of the bus's own PINGs; the number after it is the listener-change generation that
#: was current when the PING was sent (see :meth:`RedisBus.wait_subscribed`).
_PING_TOKEN = b"sb-bus-sync:"


class RedisBus(EventBus):
    """Event bus over Redis pub/sub; see the module docstring for the design.

    :param url: ``redis://`` or ``rediss://`` URL.
    :param prefix: namespace for channel names in Redis.
    :param ping_interval: seconds without any frame on the subscriber connection before a PING is sent.
    :param pong_timeout: seconds to wait for any frame after a PING before reconnecting.
    :param backoff_initial: first reconnect delay; doubled per failed attempt...
    :param backoff_max: ...up to this cap. Each delay is jittered to 50-100 % so that all hub processes
        do not reconnect in lockstep after a Redis restart.
    :param socket_timeout: timeout for socket writes and for every publish round trip. It does *not*
        apply to subscriber reads (they use explicit timeouts, see above).
    :param connect_timeout: TCP connect timeout, for both connections.
    :param start_timeout: how long :meth:`start` waits for the first subscription before giving up.
    :param sharded: use sharded pub/sub (one node of a Redis Cluster; see the module docstring).
    :param on_moved: called when the node refused a subscription (``MOVED``: the slot lives elsewhere)
        or dropped one because its slot migrated; the cluster bus uses it to re-read the topology.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "sb",
        ping_interval: float = 10.0,
        pong_timeout: float = 5.0,
        backoff_initial: float = 0.05,
        backoff_max: float = 2.0,
        socket_timeout: float = 2.0,
        connect_timeout: float = 2.0,
        start_timeout: float = 5.0,
        sharded: bool = False,
        on_moved: Callable[[], None] | None = None,
    ) -> None:
        self._url = url
        self._sharded = sharded
        self._on_moved = on_moved
        self._subscribe, self._unsubscribe = (
            ("SSUBSCRIBE", "SUNSUBSCRIBE") if sharded else ("SUBSCRIBE", "UNSUBSCRIBE")
        )
        self._message_kind = b"smessage" if sharded else b"message"
        self._prefix = f"{prefix}:"
        self._ping_interval = ping_interval
        self._pong_timeout = pong_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._socket_timeout = socket_timeout
        self._connect_timeout = connect_timeout
        self._start_timeout = start_timeout

        self._listeners = ListenerRegistry()
        self._reconnect_callbacks: list[ReconnectCallback] = []

        # Created in start(), so constructing a bus never touches the network.
        self._publisher: Redis | None = None
        self._subscriber_pool: ConnectionPool | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None  # "the writer has something to send"
        self._ready: asyncio.Event | None = None  # first subscription established
        self._background: set[asyncio.Task[None]] = set()

        # State of the current subscriber connection, reset whenever it is lost.
        self._healthy = False
        self._subscribed: set[str] = set()
        self._names: dict[bytes, str] = {}  # Redis channel name -> local channel
        self._ping_requested = False
        self._ping_deadline: float | None = None
        self._session_token: int | None = None
        self._had_session = False
        self._last_error: BaseException | None = None

        # Listener-change generations, for wait_subscribed().
        self._generation = 0
        self._sent_generation = 0
        self._acked_generation = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, subscribe the channels of already-added listeners, and start the supervisor.

        Fails fast: if no subscription is established within ``start_timeout`` the bus is stopped
        again and :class:`BusUnavailable` is raised, so a misconfigured hub does not boot into a state
        where it silently receives nothing. Outages *after* a successful start are survived.
        """
        if self._supervisor is not None:
            raise RuntimeError("RedisBus is already started")
        self._publisher = Redis.from_url(
            self._url,
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._connect_timeout,
            socket_keepalive=True,
            # Before reusing a pooled connection idle for > 30 s, PING it first, so one silently dropped
            # by a NAT/LB idle timeout is replaced instead of making a publish hang for socket_timeout.
            health_check_interval=30,
            # One immediate retry replaces a pooled connection that broke (e.g. Redis restarted); more
            # retries with backoff would only make publish slow to report an outage.
            retry=Retry(NoBackoff(), 1),
        )
        self._subscriber_pool = ConnectionPool.from_url(self._url)
        # Applied after URL parsing on purpose: the reader relies on RESP2 pub/sub frames with raw
        # bytes, on never retrying behind its back, and on no implicit health-check PINGs.
        self._subscriber_pool.connection_kwargs.update(
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._connect_timeout,
            socket_keepalive=True,
            health_check_interval=0,
            retry=Retry(NoBackoff(), 0),
            protocol=2,
            decode_responses=False,
        )
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._had_session = False  # a restarted bus connects initially again, it does not "reconnect"
        self._last_error = None
        self._supervisor = asyncio.create_task(self._supervise(), name="redis-bus-subscriber")
        try:
            async with asyncio.timeout(self._start_timeout):
                await self._ready.wait()
        except TimeoutError:
            where, cause = self._where(), self._last_error
            await self.stop()
            message = f"could not subscribe to Redis at {where} within {self._start_timeout} s: {cause}"
            raise BusUnavailable(message) from cause

    async def stop(self) -> None:
        """Cancel the supervisor and reconnect callbacks, close both connections. Idempotent."""
        supervisor, self._supervisor = self._supervisor, None
        tasks = [t for t in (supervisor, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._background.clear()
        self._connection_lost()
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(BusUnavailable("redis bus stopped"))
        self._waiters.clear()
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            await publisher.aclose()
        pool, self._subscriber_pool = self._subscriber_pool, None
        if pool is not None:
            await pool.aclose()

    # -- public API --------------------------------------------------------------------------------

    async def publish(self, channel: str, message: bytes) -> None:
        """PUBLISH (SPUBLISH when sharded) ``message`` on the prefixed channel.

        Independent of :attr:`healthy`: if Redis accepts the PUBLISH, other processes receive it even
        while this process's own subscriber is reconnecting.

        :raises BusUnavailable: the bus is not started, or Redis could not be reached.
        """
        publisher = self._publisher
        if publisher is None:
            raise BusUnavailable("redis bus is not started")
        try:
            if self._sharded:
                await publisher.execute_command("SPUBLISH", self._prefix + channel, message)  # type: ignore[no-untyped-call]
            else:
                await publisher.publish(self._prefix + channel, message)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise BusUnavailable(f"cannot publish to Redis at {self._where()}: {exc}") from exc

    def add_listener(self, channel: str, callback: Listener) -> None:
        """Register ``callback``; the first listener of a channel makes the writer SUBSCRIBE it."""
        if self._listeners.add(channel, callback):
            self._listeners_changed()

    def remove_listener(self, channel: str, callback: Listener) -> None:
        """Unregister ``callback``; removing the last listener makes the writer UNSUBSCRIBE it."""
        if self._listeners.remove(channel, callback):
            self._listeners_changed()

    @property
    def healthy(self) -> bool:
        """True while the subscriber connection is up and its subscriptions are established."""
        return self._healthy

    @property
    def started(self) -> bool:
        """Between a successful :meth:`start` and :meth:`stop`."""
        return self._supervisor is not None

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        """Await ``callback`` (in a background task) after each recovery from an outage."""
        self._reconnect_callbacks.append(callback)

    async def wait_subscribed(self) -> None:
        """Return once Redis has processed every SUBSCRIBE/UNSUBSCRIBE caused by earlier listener changes.

        Implemented as a barrier: after sending subscription commands the writer sends
        ``PING sb-bus-sync:<generation>``; Redis answers in order, so its reply proves everything before
        it was applied.

        :raises BusUnavailable: the bus is not started, or was stopped while waiting.
        """
        if self._supervisor is None:
            raise BusUnavailable("redis bus is not started")
        target = self._generation
        if self._healthy and self._acked_generation >= target:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        await waiter

    # -- supervisor --------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        """Keep one subscriber connection alive for the lifetime of the bus."""
        attempt = 0
        while True:
            assert self._subscriber_pool is not None
            # redis-py leaves ConnectionPool.make_connection unannotated (it returns a Connection).
            connection = self._subscriber_pool.make_connection()  # type: ignore[no-untyped-call]
            try:
                await connection.connect()
                await self._run_connection(connection)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                self._log_loss(exc)
            except ResponseError as exc:
                # MOVED/ASK/CLUSTERDOWN for a (S)SUBSCRIBE: this node no longer serves one of our slots.
                logger.warning("redis bus subscription refused at %s: %s", self._where(), exc)
                self._log_loss(exc)
                self._moved()
            except Exception as exc:
                # Never let the subscriber die: log loudly and go through the same reconnect path.
                logger.exception("redis bus subscriber failed unexpectedly")
                self._log_loss(exc)
            finally:
                if self._healthy:
                    attempt = 0
                self._connection_lost()
                try:
                    await connection.disconnect()
                except Exception as exc:  # closing a broken socket may time out; never kill the loop
                    logger.debug("redis bus could not close its subscriber connection cleanly: %s", exc)
            delay = min(self._backoff_max, self._backoff_initial * 2**attempt) * random.uniform(0.5, 1.0)
            attempt = min(attempt + 1, 30)
            await asyncio.sleep(delay)

    async def _run_connection(self, connection: AbstractConnection) -> None:
        """Run the reader and writer on ``connection`` until one of them fails, then re-raise that."""
        self._session_token = self._generation
        self._ping_requested = True  # the first PING is the barrier that marks the connection healthy
        assert self._wake is not None
        self._wake.set()
        reader = asyncio.create_task(self._read_frames(connection), name="redis-bus-reader")
        writer = asyncio.create_task(self._write_commands(connection), name="redis-bus-writer")
        try:
            done, _ = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            raise RedisConnectionError("redis bus subscriber loop ended")  # pragma: no cover
        finally:
            reader.cancel()
            writer.cancel()
            await asyncio.gather(reader, writer, return_exceptions=True)

    async def _read_frames(self, connection: AbstractConnection) -> None:
        """Read and handle frames forever; raise when the connection is dead or silent too long."""
        loop = asyncio.get_running_loop()
        while True:
            deadline = self._ping_deadline
            timeout = self._ping_interval if deadline is None else max(0.0, deadline - loop.time())
            # An explicit timeout makes redis-py return None on expiry instead of raising: idleness is
            # normal here and must never look like an error.
            frame = await connection.read_response(timeout=timeout)
            if frame is None:
                if self._ping_deadline is None:
                    self._ping_deadline = loop.time() + self._pong_timeout
                    self._ping_requested = True
                    assert self._wake is not None
                    self._wake.set()
                elif loop.time() >= self._ping_deadline:
                    raise RedisTimeoutError(f"no reply from Redis within {self._pong_timeout} s of a PING")
                continue
            self._ping_deadline = None  # any frame proves the connection is alive
            self._handle_frame(frame)

    def _handle_frame(self, frame: Any) -> None:
        if isinstance(frame, list):
            kind = frame[0]
            if kind == self._message_kind:
                channel = self._names.get(frame[1])
                if channel is not None:
                    self._listeners.dispatch(channel, frame[2])
            elif kind == b"sunsubscribe" and frame[1] in self._names:
                # Unasked-for: the channel's slot migrated to another node. Reconnecting re-reads
                # which channels belong here (via on_moved) instead of silently receiving nothing.
                self._moved()
                raise RedisConnectionError(f"slot of {frame[1]!r} moved away from {self._where()}")
            elif kind == b"pong":
                self._handle_pong(frame[1])
            # (un)subscribe confirmations carry nothing we need: the PING barrier follows them.
        elif isinstance(frame, bytes):
            # With no channel subscribed Redis answers "PING x" with a plain bulk string.
            self._handle_pong(frame)

    def _handle_pong(self, payload: bytes) -> None:
        if not payload.startswith(_PING_TOKEN):
            return
        generation = int(payload[len(_PING_TOKEN) :])
        self._acked_generation = max(self._acked_generation, generation)
        if not self._healthy and self._session_token is not None and generation >= self._session_token:
            self._healthy = True
            if self._had_session:
                logger.info(
                    "redis bus re-subscribed to %d channel(s) at %s", len(self._subscribed), self._where()
                )
                self._spawn_reconnect_callbacks()
            self._had_session = True
            assert self._ready is not None
            self._ready.set()
        if self._healthy:
            still_waiting = []
            for target, waiter in self._waiters:
                if waiter.done():
                    continue
                if target <= self._acked_generation:
                    waiter.set_result(None)
                else:
                    still_waiting.append((target, waiter))
            self._waiters = still_waiting

    async def _write_commands(self, connection: AbstractConnection) -> None:
        """Bring the connection's subscriptions in line with the listeners whenever woken."""
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            wanted = self._listeners.channels()
            to_subscribe = sorted(wanted - self._subscribed)
            to_unsubscribe = sorted(self._subscribed - wanted)
            commands: list[tuple[Any, ...]] = []
            if to_subscribe:
                commands.append((self._subscribe, *(self._prefix + c for c in to_subscribe)))
            if to_unsubscribe:
                commands.append((self._unsubscribe, *(self._prefix + c for c in to_unsubscribe)))
            # A listener change that cancels out (last listener removed and re-added before this ran)
            # sends no command but still needs a barrier, or wait_subscribed() would wait for a PING.
            if not commands and not self._ping_requested and self._generation == self._sent_generation:
                continue
            commands.append(("PING", _PING_TOKEN + str(self._generation).encode()))
            self._sent_generation = self._generation
            self._ping_requested = False
            if self._ping_deadline is None:
                self._ping_deadline = loop.time() + self._pong_timeout
            # Update the bookkeeping before the write yields: frames for new channels may arrive at once.
            for channel in to_subscribe:
                self._subscribed.add(channel)
                self._names[(self._prefix + channel).encode()] = channel
            for channel in to_unsubscribe:
                self._subscribed.discard(channel)
                self._names.pop((self._prefix + channel).encode(), None)
            if not connection.is_connected:
                # send_packed_command would silently open a fresh, unsubscribed connection.
                raise RedisConnectionError("subscriber connection closed")
            await connection.send_packed_command(connection.pack_commands(commands), check_health=False)

    # -- helpers -----------------------------------------------------------------------------------

    def _listeners_changed(self) -> None:
        self._generation += 1
        if self._wake is not None:
            self._wake.set()

    def _moved(self) -> None:
        if self._on_moved is not None:
            self._on_moved()

    def _connection_lost(self) -> None:
        self._healthy = False
        self._subscribed.clear()
        self._names.clear()
        self._ping_requested = False
        self._ping_deadline = None
        self._session_token = None

    def _log_loss(self, exc: BaseException) -> None:
        self._last_error = exc
        if self._healthy:
            logger.warning("redis bus lost its subscription at %s: %s; reconnecting", self._where(), exc)
        else:
            logger.debug("redis bus cannot subscribe at %s: %s", self._where(), exc)

    def _spawn_reconnect_callbacks(self) -> None:
        for callback in self._reconnect_callbacks:
            task = asyncio.create_task(self._run_reconnect_callback(callback))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    @staticmethod
    async def _run_reconnect_callback(callback: ReconnectCallback) -> None:
        try:
            await callback()
        except Exception:
            logger.exception("redis bus on_reconnect callback %r failed", callback)

    def _where(self) -> str:
        """Host/port/db of the Redis, for messages -- never the URL, which may contain a password."""
        kwargs = self._subscriber_pool.connection_kwargs if self._subscriber_pool else {}
        if "path" in kwargs:
            return f"unix:{kwargs['path']}"
        if kwargs:
            return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
        return "<not started>"
