"""Command-line options every benchmark shares: CPU pinning, profiling, and coping with a busy machine."""

from __future__ import annotations

import argparse


def add_case_options(parser: argparse.ArgumentParser, *, profile: bool = False, retries: int = 2) -> None:
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    if profile:
        parser.add_argument(
            "--profile",
            nargs="?",
            const="raw",
            choices=("raw", "svg"),
            help="py-spy record the server during each measured window (raw stacks or a flame graph)",
        )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="before each case, wait up to this many seconds for the machine to be idle",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority of the server and the load generator (e.g. -10 on a shared machine)",
    )
    parser.add_argument(
        "--retries", type=int, default=retries, help="re-run a case disturbed by other work up to this often"
    )
    parser.add_argument("--case-timeout", type=float, default=600.0, help="seconds per case")
