"""`switchboard healthcheck` against real processes: 0 while the process is healthy, 1 once it is not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support.process import HubProcess, cli_env, run_cli


def _wait_for(predicate: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_hub_healthcheck_follows_the_hub(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    hub = HubProcess(tmp_path, env)
    try:
        hub.wait_ready()
        healthy = run_cli(tmp_path, "healthcheck", "--url", f"{hub.url}/readyz", env=env)
        assert healthy.returncode == 0, healthy.stderr
        assert healthy.stdout.strip() == "hub is healthy"
        missing = run_cli(tmp_path, "healthcheck", "--url", f"{hub.url}/no-such-page", env=env)
        assert missing.returncode == 1
        assert "answered 404" in missing.stderr
    finally:
        hub.stop()
    down = run_cli(tmp_path, "healthcheck", "--url", f"{hub.url}/readyz", env=env)
    assert down.returncode == 1
    assert down.stderr.startswith("unhealthy: ")
    assert "Traceback" not in down.stderr


def test_worker_healthcheck_reads_its_heartbeat(tmp_path: Path) -> None:
    beats = tmp_path / "beats"
    beats.mkdir()
    env = cli_env(tmp_path, HEARTBEAT_DIR=str(beats))
    assert run_cli(tmp_path, "migrate", env=env).returncode == 0
    check = ("healthcheck", "--process", "worker")
    before = run_cli(tmp_path, *check, env=env)
    assert before.returncode == 1
    assert "no heartbeat file" in before.stderr
    with (tmp_path / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "worker"], cwd=tmp_path, env=env, stdout=log, stderr=log
        )
    try:
        _wait_for(lambda: run_cli(tmp_path, *check, env=env).returncode == 0, "a healthy worker")
        assert (beats / "switchboard-worker.heartbeat").read_text().strip() == str(worker.pid)
        # another kind in the same container is not vouched for by the worker's heartbeat
        assert run_cli(tmp_path, "healthcheck", "--process", "discord", env=env).returncode == 1
    finally:
        worker.terminate()
        assert worker.wait(20) == 0, (tmp_path / "worker.log").read_text()
    stopped = run_cli(tmp_path, *check, env=env)
    assert stopped.returncode == 1
    assert "not running" in stopped.stderr

    # A process that hangs or was killed leaves a file nobody touches any more.
    path = beats / "switchboard-worker.heartbeat"
    path.write_text("12345\n")
    old = time.time() - 120
    os.utime(path, (old, old))
    stale = run_cli(tmp_path, *check, env=env)
    assert stale.returncode == 1
    # The CLI starts in a second or more on a busy machine: the age it reports is 120 s or a little more.
    age = re.search(r"last touched (\d+) s ago \(limit 30 s\)", stale.stderr)
    assert age is not None, stale.stderr
    assert 120 <= int(age.group(1)) < 300
    assert run_cli(tmp_path, *check, "--max-age", "300", env=env).returncode == 0


def test_an_unwritable_heartbeat_dir_stops_the_worker_with_one_line(tmp_path: Path) -> None:
    env = cli_env(tmp_path, HEARTBEAT_DIR=str(tmp_path / "no" / "such" / "dir"))
    assert run_cli(tmp_path, "migrate", env=env).returncode == 0
    result = run_cli(tmp_path, "worker", env=env)
    assert result.returncode == 2
    assert "HEARTBEAT_DIR: cannot write the heartbeat file" in result.stderr
    assert "Traceback" not in result.stderr
