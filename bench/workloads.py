"""The benchmark workloads: the six shared ones and larger sizes from the shared generator.

``shared/bench/workloads/`` holds the definitions, inputs and ``manifest.json`` (state
transitions of one execution); ``generate.py`` there builds any size, so it is imported by
path (``shared/`` is read-only and not a package).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = [
    "DEFAULT_LARGE",
    "JSONATA_TWINS",
    "STANDARD",
    "Workload",
    "generated",
    "jsonata_twin",
    "load_generator",
    "load_standard",
    "parse_sizes",
    "write_files",
]

#: The six shared workloads, in the shared README's order.
STANDARD = (
    "pass_chain",
    "choice_loop",
    "map_1k",
    "parallel_fanout",
    "intrinsics_heavy",
    "retry_catch",
)

#: Larger sizes run by default: generator name -> size argument (states, iterations, items).
#: Each stays under AWS's 25,000-event history quota (a Standard execution that writes more
#: fails with States.Runtime): choice_loop writes 4 events per iteration, map_1k 8 per item.
#: ``--large choice_loop=10000,map_1k=10000`` runs past it, as throughput until the failure.
DEFAULT_LARGE: dict[str, int] = {"pass_chain": 1000, "choice_loop": 5000, "map_1k": 3000}

Builder = Callable[[int], tuple[dict[str, Any], Any, int]]

#: JSONata versions of shared workloads, state for state (the goal: a 1,000-item Map
#: whose processor uses JSONata runs within 3x the JSONPath one). Same input, same transitions.
JSONATA_TWINS: dict[str, dict[str, Any]] = {
    "map_1k": {
        "Comment": "map_1k in JSONata: inline Map over 1000 items, 3 Pass states per item",
        "QueryLanguage": "JSONata",
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "Items": "{% $states.input.items %}",
                "MaxConcurrency": 0,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "A",
                    "States": {
                        "A": {
                            "Type": "Pass",
                            "Output": {
                                "id": "{% $states.input.id %}",
                                "sq": "{% $states.input.v + 1 %}",
                            },
                            "Next": "B",
                        },
                        "B": {
                            "Type": "Pass",
                            "Output": "{% $merge([$states.input, {'b': {'tag': 'b'}}]) %}",
                            "Next": "C",
                        },
                        "C": {
                            "Type": "Pass",
                            "Output": {
                                "id": "{% $states.input.id %}",
                                "sum": "{% $states.input.sq + $states.input.id %}",
                                "tag": "{% $states.input.b.tag %}",
                            },
                            "End": True,
                        },
                    },
                },
                "Output": "{% $merge([$states.input, {'results': $states.result}]) %}",
                "End": True,
            }
        },
    }
}


@dataclass(frozen=True, slots=True)
class Workload:
    """One definition and input, with the transitions one execution should make."""

    #: Label in the tables, e.g. ``pass_chain`` or ``map_10k``.
    name: str
    #: The definition as a JSON document.
    definition: dict[str, Any]
    #: The execution input, as JSON text (each run parses its own copy).
    input_text: str
    #: States entered by one execution (manifest or generator), or None when unknown.
    transitions: int | None
    #: True for the six shared files (the peers' transition count comes from their manifest).
    standard: bool


def _workloads_dir(shared: Path) -> Path:
    return shared / "bench" / "workloads"


def load_standard(shared: Path, names: Iterable[str] = STANDARD) -> list[Workload]:
    """The shared workload files named ``names``, with the manifest's transition counts."""
    folder = _workloads_dir(shared)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    out = []
    for name in names:
        entry = manifest[name]
        out.append(
            Workload(
                name=name,
                definition=json.loads((folder / entry["definition"]).read_text("utf-8")),
                input_text=(folder / entry["input"]).read_text("utf-8"),
                transitions=entry.get("transitions"),
                standard=True,
            )
        )
    return out


def jsonata_twin(workload: Workload) -> Workload | None:
    """The JSONata version of ``workload`` (same input and transitions), if there is one."""
    definition = JSONATA_TWINS.get(workload.name)
    if definition is None:
        return None
    return Workload(
        f"{workload.name}_jsonata", definition, workload.input_text, workload.transitions, False
    )


def load_generator(shared: Path) -> ModuleType:
    """Import ``shared/bench/workloads/generate.py`` by path (it is not a package)."""
    path = _workloads_dir(shared) / "generate.py"
    spec = importlib.util.spec_from_file_location("asl_bench_generate", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _label(name: str, size: int) -> str:
    base = name.removesuffix("_1k")
    text = f"{size // 1000}k" if size % 1000 == 0 else str(size)
    return f"{base}_{text}"


def generated(shared: Path, sizes: dict[str, int]) -> list[Workload]:
    """Workloads built by the shared generator: ``{"map_1k": 10000}`` gives ``map_10k``."""
    generator = load_generator(shared)
    builders: dict[str, Builder] = generator.WORKLOADS
    out = []
    for name, size in sizes.items():
        definition, payload, transitions = builders[name](size)
        out.append(
            Workload(_label(name, size), definition, json.dumps(payload), transitions, False)
        )
    return out


def parse_sizes(text: str) -> dict[str, int]:
    """``"pass_chain=1000,map_1k=10000"`` -> a size map; ``""`` or ``"none"`` -> no sizes."""
    if text.strip().lower() in ("", "none"):
        return {}
    sizes = {}
    for item in text.split(","):
        name, _, size = item.partition("=")
        if name.strip() not in STANDARD or not size.strip().isdigit():
            raise ValueError(f"bad size {item!r}: want NAME=INT with NAME one of {STANDARD}")
        sizes[name.strip()] = int(size)
    return sizes


def write_files(workload: Workload, folder: Path) -> tuple[Path, Path]:
    """Write the definition and input for subprocesses (CLI, peers); return both paths.

    The file names start with the workload name: the peer drivers take the name (and so the
    manifest entry) from the definition's file name.
    """
    folder.mkdir(parents=True, exist_ok=True)
    definition = folder / f"{workload.name}.asl.json"
    payload = folder / f"{workload.name}.input.json"
    definition.write_text(json.dumps(workload.definition), "utf-8")
    payload.write_text(workload.input_text, "utf-8")
    return definition, payload
