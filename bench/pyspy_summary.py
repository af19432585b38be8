"""Summarise a `py-spy record --format raw` profile (collapsed stacks) as text tables.

    .venv/bin/python bench/pyspy_summary.py bench/results/profile-fanout-postgres-1000-max-*.txt

Prints the functions with the most samples on top of the stack (self), the most samples anywhere on
the stack (inclusive), and the same inclusive share grouped by package (sqlalchemy, hypercorn, quart,
hub, ...), so a hot path shows up without a flame graph viewer. `--focus NAME` restricts everything to
stacks that pass through a frame containing NAME (e.g. `create_ticket` or `Connection._write`).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def parse(path: Path) -> list[tuple[list[str], int]]:
    """Stacks (outermost frame first) with their sample counts."""
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def package(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame.split(" ")[0]
    file = match.group("file")
    return file.split("/")[0] if "/" in file else file


def function(frame: str) -> str:
    """`func (file)` without the line number, so samples at different lines add up."""
    match = _FRAME.match(frame)
    return f"{match.group('func')} ({match.group('file')})" if match else frame


def summarise(path: Path, focus: str | None, top: int) -> str:
    stacks = parse(path)
    if focus:
        stacks = [(s, n) for s, n in stacks if any(focus in f for f in s)]
    total = sum(n for _, n in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    packages_self: Counter[str] = Counter()
    for frames, count in stacks:
        own[function(frames[-1])] += count
        packages_self[package(frames[-1])] += count
        for name in {function(f) for f in frames}:
            inclusive[name] += count
        for name in {package(f) for f in frames}:
            packages[name] += count
    lines = [f"# {path.name}: {total} samples" + (f" through {focus!r}" if focus else "")]
    for title, counter in (
        ("self (top of stack)", own),
        ("inclusive", inclusive),
        ("package, self", packages_self),
        ("package, inclusive", packages),
    ):
        lines.append(f"\n## {title}")
        for name, count in counter.most_common(top):
            lines.append(f"{count / total * 100:6.1f} %  {count:6d}  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--focus", help="only stacks through a frame containing this text")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    for path in args.profiles:
        print(summarise(path, args.focus, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
