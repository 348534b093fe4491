"""Run Amazon States Language state machines: the interpreter, clocks, adapters, history.

>>> from runtime import run_sync
>>> run_sync({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}).status
'SUCCEEDED'
"""

from __future__ import annotations

from runtime.adapters.base import Adapter, AdapterRegistry, FunctionAdapter, TaskCall
from runtime.adapters.mock_config import MockConfig, MockConfigError, MockedTasks
from runtime.api import ExecutionResult, load_machine, run, run_sync
from runtime.clock import Clock, RealClock, VirtualClock
from runtime.errors import TaskFailure
from runtime.events import HistoryEvent

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
