"""A throw-away 3-master Redis Cluster on loopback, for the cluster bus/presence tests.

Three ``redis-server --cluster-enabled yes`` children on free ports, joined with
``redis-cli --cluster create ... --cluster-replicas 0``. Each node keeps its ``nodes.conf`` in its own
directory, so :meth:`PrivateRedisCluster.restart` brings a killed master back with the same node id and
slots (no replicas: nothing fails over, the shard is simply away until it is back). No persistence of
data (``--save ""``): pub/sub and presence need none, and it keeps start-up fast.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(count: int, start: int = 7100, end: int = 7999) -> list[int]:
    """``count`` ports P in [start, end] with P and its cluster bus port P + 10000 free (a random free
    port would not do: P + 10000 must stay below 65536). The scan starts at a random point of the
    range and wraps, so clusters started at once (pytest-xdist workers, other suites) rarely race for
    the same ports between this check and redis-server's bind."""
    ports: list[int] = []
    first = random.randint(start, end)
    for port in [*range(first, end + 1), *range(start, first)]:
        if _free(port) and _free(port + 10000):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise RuntimeError(f"no {count} free port pairs P, P+10000 in {start}..{end}")


class PrivateRedisCluster:
    """Start with :meth:`start`, stop with :meth:`stop`; :meth:`kill`/:meth:`restart` one master."""

    def __init__(self, server: str, cli: str, workdir: Path, masters: int = 3) -> None:
        self.server = server
        self.cli = cli
        self.workdir = workdir
        self.ports = cluster_ports(masters)
        self._processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """The hub's ``REDIS_URL`` for this cluster (any node is a valid seed)."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start(self, timeout: float = 20.0) -> None:
        for port in self.ports:
            self._spawn(port)
        try:
            for port in self.ports:
                self._wait_ping(port, timeout)
        except RuntimeError:
            self.stop()
            raise
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        created = subprocess.run(
            [self.cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if created.returncode != 0:
            self.stop()
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout}{created.stderr}")
        self.wait_state_ok(timeout)

    def kill(self, port: int) -> None:
        """SIGKILL one node (an abrupt crash)."""
        process = self._processes.pop(port)
        process.kill()
        process.wait()

    def restart(self, port: int, timeout: float = 20.0) -> None:
        """Start a killed node again on the same port and config; wait for the cluster to be whole."""
        self._spawn(port)
        self._wait_ping(port, timeout)
        self.wait_state_ok(timeout)

    def stop(self) -> None:
        for port in list(self._processes):
            self.kill(port)

    def wait_state_ok(self, timeout: float) -> None:
        """Wait until every running node reports ``cluster_state:ok``."""
        deadline = time.monotonic() + timeout
        while True:
            states = [self._command(port, b"CLUSTER INFO") for port in self._processes]
            if all(b"cluster_state:ok" in state for state in states):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster did not reach state ok within {timeout} s: {states}")
            time.sleep(0.05)

    def _spawn(self, port: int) -> None:
        directory = self.workdir / f"node-{port}"
        directory.mkdir(parents=True, exist_ok=True)
        self._processes[port] = subprocess.Popen(
            [
                self.server,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "2000",
                # With no replicas a dead master would otherwise stop the *whole* cluster (CLUSTERDOWN);
                # the hub's recommended setting, see docs/operations.md "Redis Cluster".
                "--cluster-require-full-coverage", "no",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def _wait_ping(self, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._command(port, b"PING").startswith(b"+PONG"):
            process = self._processes.get(port)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start (port {port} taken?)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {port} did not answer within {timeout} s")
            time.sleep(0.02)

    @staticmethod
    def _command(port: int, command: bytes) -> bytes:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
                sock.sendall(command + b"\r\n")
                return sock.recv(4096)
        except OSError:
            return b""
