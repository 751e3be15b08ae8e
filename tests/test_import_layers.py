"""The packages form floors: each imports only its own floor and those below, never one above.

Read from the source (every import statement, function-level ones included), so a cycle cannot
hide behind a lazy import.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import interplay

ROOT = Path(interplay.__file__).parent
FLOORS = [
    {"validation", "typed", "processes"},
    {"functional", "config", "data"},
    {"runs"},
    {"metrics", "losses", "heads", "models", "vision_language"},
    {"probing", "prompt_learning"},
    {"integrations", "training"},
    {"report"},
    {"experiments", "layer_profile"},
    {"cli", "__main__", "__init__"},
]


def unit_of(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return parts[0].removesuffix(".py")


def imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        unit = unit_of(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "interplay":
                targets = [node.module] if node.module != "interplay" else [f"interplay.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.split(".")[0] == "interplay"]
            else:
                continue
            for target in targets:
                other = target.split(".")[1] if "." in target else "__init__"
                known = (ROOT / other).is_dir() or (ROOT / f"{other}.py").is_file()
                if known and other != unit:
                    graph[unit].add(other)
    return graph


def floor_of(unit: str) -> int:
    return next(i for i, floor in enumerate(FLOORS) if unit in floor)


def test_every_module_has_a_floor():
    units = {unit_of(p) for p in ROOT.rglob("*.py")}
    assert units <= set().union(*FLOORS), units - set().union(*FLOORS)


def test_no_package_imports_one_above_it():
    upward = [f"{unit} imports {other}" for unit, others in imports().items() for other in others
              if floor_of(other) > floor_of(unit)]
    assert upward == []


def test_no_two_packages_import_each_other():
    graph = imports()
    mutual = sorted({tuple(sorted((a, b))) for a, others in graph.items() for b in others if a in graph.get(b, ())})
    assert mutual == []
