"""No function in hub/ or bots/ is more complex than radon grade C (cyclomatic complexity 15).

Issue "architecture" set the bound: past 15 branches a function is hard to read and to test, and the
ones that grew there (relay batches, webhook results, socket admission) were where the bugs hid. The
check walks every function, method and closure with radon's own visitor (`cc_visit`, the numbers
`radon cc` prints) and names each one over the bound, so the failure says what to split.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

ROOT = Path(__file__).resolve().parents[2]
MAX_COMPLEXITY = 15


def _functions(blocks: list[Function | Class]) -> Iterator[Function]:
    """Every function in radon's blocks: top-level ones, methods, closures and those of inner classes."""
    for block in blocks:
        if isinstance(block, Class):
            yield from _functions([*block.methods, *block.inner_classes])
        else:
            yield block
            yield from _functions(block.closures)


def too_complex(source: str, where: str) -> list[str]:
    """`where:line name (complexity)` for each function in `source` above the bound."""
    # cc_visit lists methods twice (on their own and in their class): keep each function once.
    unique = {(f.lineno, f.fullname): f for f in _functions(cc_visit(source))}
    return [
        f"{where}:{f.lineno} {f.fullname} ({f.complexity})"
        for f in sorted(unique.values(), key=lambda f: f.lineno)
        if f.complexity > MAX_COMPLEXITY
    ]


def test_no_function_in_hub_or_bots_is_above_complexity_15() -> None:
    files = sorted(path for package in ("hub", "bots") for path in (ROOT / package).rglob("*.py"))
    assert len(files) > 100  # the walk found the code (a wrong root would pass vacuously)
    found = [
        problem
        for path in files
        for problem in too_complex(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not found, f"cyclomatic complexity above {MAX_COMPLEXITY}; split these:\n" + "\n".join(found)


def _branchy(name: str, branches: int, indent: str = "") -> str:
    lines = [f"{indent}def {name}(x):"] + [
        f"{indent}    if x == {i}:\n{indent}        return {i}" for i in range(branches)
    ]
    return "\n".join([*lines, f"{indent}    return -1", ""])


def test_the_check_sees_methods_closures_and_inner_classes() -> None:
    """The walk must reach every kind of function, or a complex method would slip through unnoticed."""
    source = "\n".join(
        [
            _branchy("flat", 15),  # complexity 16
            _branchy("fine", 14),  # complexity 15: allowed
            "class Outer:",
            _branchy("method", 15, "    "),
            "    class Inner:",
            _branchy("deep", 20, "        "),
            "def wrapper():",
            _branchy("closure", 16, "    "),
            "    return closure",
            "",
        ]
    )
    found = too_complex(source, "x.py")
    assert [line.split(" ", 1)[1] for line in found] == [
        "flat (16)",
        "Outer.method (16)",
        "Inner.deep (21)",
        "closure (17)",
    ]
