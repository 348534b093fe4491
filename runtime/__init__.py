"""Run Amazon States Language state machines: the interpreter, clocks, adapters, history.

    >>> from runtime import run_sync
    >>> run_sync({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}).status
    'SUCCEEDED'

Names are imported on first use, so ``asl validate`` (whose console script lives in this
package) never pays for anyio or the interpreter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.adapters.base import Adapter, AdapterRegistry, FunctionAdapter, TaskCall
    from runtime.adapters.mock_config import MockConfig, MockConfigError, MockedTasks
    from runtime.api import ExecutionResult, load_machine, run, run_sync
    from runtime.engine.clock import Clock, RealClock, VirtualClock
    from runtime.engine.errors import TaskFailure
    from runtime.engine.events import HistoryEvent

__all__ = [
    "Adapter",
    "AdapterRegistry",
    "Clock",
    "ExecutionResult",
    "FunctionAdapter",
    "HistoryEvent",
    "MockConfig",
    "MockConfigError",
    "MockedTasks",
    "RealClock",
    "TaskCall",
    "TaskFailure",
    "VirtualClock",
    "load_machine",
    "run",
    "run_sync",
]

_HOMES = {
    "Adapter": "runtime.adapters.base",
    "AdapterRegistry": "runtime.adapters.base",
    "FunctionAdapter": "runtime.adapters.base",
    "TaskCall": "runtime.adapters.base",
    "MockConfig": "runtime.adapters.mock_config",
    "MockConfigError": "runtime.adapters.mock_config",
    "MockedTasks": "runtime.adapters.mock_config",
    "ExecutionResult": "runtime.api",
    "load_machine": "runtime.api",
    "run": "runtime.api",
    "run_sync": "runtime.api",
    "Clock": "runtime.engine.clock",
    "RealClock": "runtime.engine.clock",
    "VirtualClock": "runtime.engine.clock",
    "TaskFailure": "runtime.engine.errors",
    "HistoryEvent": "runtime.engine.events",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
