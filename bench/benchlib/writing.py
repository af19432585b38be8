"""Running bench/writer.py as a child process and reading its report."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from benchlib.procs import PYTHON, REPO
from benchlib.targets import Target

WRITER = str(REPO / "bench" / "writer.py")


@dataclass
class WriterReport:
    """What the writer did: `requests` rows are `[seq, t_send, t_done, status]`."""

    requests: list[list[float]]
    elapsed: float
    cpu_seconds: float
    errors: dict[str, int]

    @property
    def ok_seqs(self) -> list[int]:
        """Sequence numbers of the requests the server accepted (2xx): those must be delivered."""
        return sorted(int(r[0]) for r in self.requests if 200 <= r[3] < 300)

    @property
    def first_send(self) -> float:
        return min((r[1] for r in self.requests), default=0.0)

    @property
    def request_latencies(self) -> list[float]:
        return [r[2] - r[1] for r in self.requests if 200 <= r[3] < 300]


async def run_writer(target: Target, *args: str, within: float = 300.0) -> WriterReport:
    """Run the writer against `target` with extra `args` (mode, events, ...) and wait for its report."""
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        WRITER,
        *target.writer_args(),
        *args,
        "--timeout-total",
        str(within),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within + 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"writer failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    data: dict[str, Any] = json.loads(out)
    return WriterReport(
        requests=data["requests"],
        elapsed=float(data["elapsed"]),
        cpu_seconds=float(data["cpu_seconds"]),
        errors=dict(data["errors"]),
    )
