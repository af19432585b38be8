"""Child processes for benchmarks: pinned to a core, measured through /proc, always stopped.

Server CPU time is read from `/proc/<pid>/stat` (utime + stime of the whole process, all threads) and
memory from `/proc/<pid>/status` (`VmRSS` now, `VmHWM` peak), so the numbers are the kernel's and the
measuring side adds nothing to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_kib(pid: int) -> dict[str, int]:
    """`VmRSS` (resident now) and `VmHWM` (peak resident) of the process, in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def pin_self(cpu: int) -> None:
    """Run this process (and the children it starts later, unless they re-pin) on `cpu` only."""
    if cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def raise_nofile(limit: int = 65_536) -> int:
    """Raise this process's open-file limit as far as allowed; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for wanted in ((limit, max(limit, hard)), (min(limit, hard), hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, wanted)
            return wanted[0]
        except (ValueError, OSError):
            continue
    return soft


#: Scheduling priority (nice value) for servers and the load generator; see `set_priority`.
PRIORITY = 0


_SESSION_FLAG = "SB_BENCH_OWN_SESSION"


def set_priority(nice: int) -> None:
    """Run this process, its children and the servers started later at `nice` (negative = ahead of
    other work). On a machine shared with test suites, -10 keeps their bursts from landing in the
    middle of a measurement; it changes only our own processes.

    With autogroup scheduling (`/proc/sys/kernel/sched_autogroup_enabled` = 1) a nice value only
    ranks processes within their session, and the CPU is shared fairly between sessions. So the
    benchmark first re-executes itself in a session of its own (`setsid --wait`) and gives that
    session's group the nice value (`/proc/self/autogroup`): our processes, and only they, go first.
    """
    global PRIORITY
    PRIORITY = nice
    if not nice:
        return
    autogroup = Path("/proc/self/autogroup")
    if autogroup.exists() and os.environ.get(_SESSION_FLAG) != "1":
        env = {**os.environ, _SESSION_FLAG: "1"}
        os.execvpe("setsid", ["setsid", "--wait", sys.executable, *sys.argv], env)
    os.setpriority(os.PRIO_PROCESS, 0, nice)
    if autogroup.exists():
        with contextlib.suppress(OSError):
            autogroup.write_text(str(nice))


class ServerProcess:
    """A server child started as `nice -n P taskset -c CPU prlimit --nofile=N <cmd>`.

    The wrappers exec their command, so `pid` is the server's own process id and /proc readings cover
    exactly the server.
    """

    def __init__(
        self, cmd: list[str], *, env: dict[str, str], cwd: Path, port: int, cpu: int, nofile: int = 65_536
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = cwd / f"server-{port}.log"
        self._log = self.log_path.open("w")
        # Without CAP_SYS_RESOURCE the hard limit is as far as anyone can go.
        nofile = min(nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        self.nofile = nofile
        wrapped = ["nice", "-n", str(PRIORITY), "taskset", "-c", str(cpu)]
        wrapped += ["prlimit", f"--nofile={nofile}:{nofile}", *cmd]
        self.proc = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    async def wait_ready(self, within: float = 60.0) -> None:
        """Poll `/healthz` until it answers 200; raise with the server's output if it never does."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"server did not become ready within {within} s:\n{self.output()}")

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def memory(self) -> dict[str, int]:
        return memory_kib(self.pid)

    def reset_peak(self) -> bool:
        """Reset `VmHWM` to the current RSS (so a later peak covers only what follows); False if the
        kernel refused."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def output(self, tail: int = 4000) -> str:
        self._log.flush()
        return self.log_path.read_text()[-tail:]

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (graceful shutdown), then SIGKILL after `timeout` seconds."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return int(self.proc.returncode)


class Profiler:
    """`py-spy record` attached to a running server for the measured window (optional).

    An output ending in `.txt` gets py-spy's raw collapsed stacks (read them with
    bench/pyspy_summary.py), anything else a flame graph SVG.
    """

    def __init__(self, pid: int, output: Path, *, rate: int = 250) -> None:
        self.output = output
        exe = Path(PYTHON).with_name("py-spy")
        cmd = [
            str(exe),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--nonblocking",
            "--format",
            "raw" if output.suffix == ".txt" else "flamegraph",
            "--output",
            str(output),
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])
    idle = fields[3] + fields[4]
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


SERVICES = ("postgres", "redis-server")


def services_cpu() -> float:
    """CPU seconds used so far by all PostgreSQL and Redis processes (shared with anyone using them)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        if comm in SERVICES:
            fields = text[text.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


class CpuWindow:
    """CPU used between `start()` and `stop()`: by the server, by this process, by PostgreSQL and
    Redis, and by the whole machine (what is left over is someone else's work)."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.server = self.own = self.services = self.machine = self.wall = 0.0
        self._start: tuple[float, ...] = ()

    def start(self) -> None:
        self._start = (
            cpu_seconds(self.server_pid),
            time.process_time(),
            services_cpu(),
            machine_cpu()[0],
            time.monotonic(),
        )

    def stop(self) -> None:
        server, own, services, machine, wall = self._start
        self.server = cpu_seconds(self.server_pid) - server
        self.own = time.process_time() - own
        self.services = services_cpu() - services
        self.machine = machine_cpu()[0] - machine
        self.wall = time.monotonic() - wall

    def foreign_pct(self, helpers: float = 0.0) -> float:
        """Busy CPU of everything else (not server, this process, `helpers` seconds of our other
        children, PostgreSQL or Redis), as % of one core over the window."""
        rest = self.machine - self.server - self.own - helpers - self.services
        return max(0.0, rest) / self.wall * 100 if self.wall else 0.0

    def services_pct(self) -> float:
        # A PostgreSQL backend that exits during the window takes its CPU time with it: clamp at 0.
        return max(0.0, self.services) / self.wall * 100 if self.wall else 0.0


async def wait_quiet(max_wait: float, *, threshold: float = 0.35, sample: float = 1.0) -> float:
    """Wait (at most `max_wait` seconds) until the machine's busy CPU over a `sample`-second window is
    below `threshold` cores — i.e. nobody else is running a test suite. Returns the last busy figure."""
    deadline = time.monotonic() + max_wait
    while True:
        busy0, _ = machine_cpu()
        await asyncio.sleep(sample)
        busy = (machine_cpu()[0] - busy0) / sample
        if busy < threshold or time.monotonic() >= deadline:
            return busy
