"""pytest fixtures for testing state machines (installed as the ``asl_runtime`` plugin).

    def test_order(asl_run):
        result = asl_run("machine.asl.json", {"id": 1}, functions={"Charge": charge})
        assert result.status == "SUCCEEDED"

``asl_run`` runs on a fresh :class:`~runtime.engine.clock.VirtualClock` (``asl_clock``), so
Waits and retry delays take no wall time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runtime.api import Definition, ExecutionResult, run_sync
from runtime.engine.clock import VirtualClock

__all__ = ["asl_clock", "asl_run"]


@pytest.fixture
def asl_clock() -> VirtualClock:
    """A virtual clock starting at the current real time."""
    return VirtualClock()


@pytest.fixture
def asl_run(asl_clock: VirtualClock) -> Callable[..., ExecutionResult]:
    """``asl_run(definition, input=None, **options)``: :func:`runtime.run_sync` on ``asl_clock``.

    ``definition`` may be a dict, JSON/YAML text, or a path (``str`` ending in .json/.yaml
    or a :class:`~pathlib.Path`).
    """

    def runner(definition: Definition, input: Any = None, **options: Any) -> ExecutionResult:
        if isinstance(definition, str) and definition.endswith((".json", ".yaml", ".yml")):
            definition = Path(definition)
        options.setdefault("clock", asl_clock)
        return run_sync(definition, input, **options)

    return runner
