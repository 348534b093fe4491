"""Durable executions: the embedded SQLite store, its recorder and the audit commands.

>>> from runtime import run_sync
>>> from runtime.durable.store import Store, StoreRecorder, ExecutionInfo
>>> store = Store.open(":memory:")
>>> recorder = StoreRecorder(store, ExecutionInfo(
...     "arn:aws:states:us-east-1:123456789012:execution:M:e1", "e1",
...     "arn:aws:states:us-east-1:123456789012:stateMachine:M", "M", {}))
>>> machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
>>> result = run_sync(machine, {"x": 1}, name="e1", state_machine_name="M",
...                   observers=[recorder])
>>> store.get_execution("e1").status, len(store.history(result.arn))
('SUCCEEDED', 4)
"""

from __future__ import annotations

from runtime.durable.store.errors import (
    AmbiguousExecution,
    ExecutionAlreadyExists,
    ExecutionNotFound,
    SchemaTooNew,
    StoreError,
)
from runtime.durable.store.observer import StoreRecorder
from runtime.durable.store.postgres import PostgresStore
from runtime.durable.store.records import ExecutionInfo, ExecutionRecord, ExecutionSummary
from runtime.durable.store.sqlite import ENV_VAR, Store, default_store_path, resolve_store_path

__all__ = [
    "ENV_VAR",
    "AmbiguousExecution",
    "ExecutionAlreadyExists",
    "ExecutionInfo",
    "ExecutionNotFound",
    "ExecutionRecord",
    "ExecutionSummary",
    "PostgresStore",
    "SchemaTooNew",
    "Store",
    "StoreError",
    "StoreRecorder",
    "default_store_path",
    "resolve_store_path",
]
