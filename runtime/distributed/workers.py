"""Child executions of a Distributed Map across worker processes, so a CPU-bound run uses
every core.

The standard library's :class:`concurrent.futures.ProcessPoolExecutor` (``spawn``
context, safe beside the threads an event loop keeps) runs chunks of children. A child
that can wait on nothing (its processor has no Task, Wait or Retry delay:
``Branch.may_block`` is false) depends only on its input, the processor and the
execution's identity, so it gives the same result in any process. The parent keeps
everything that has an order: it reads the items, applies ItemSelector and ItemBatcher,
and takes the chunks' results back in submission order, counting them against the
tolerated failure threshold exactly as one process does; the workers run the children
and render their result-file records.

Each chunk carries the pickled :class:`Environment` (processor, handler table, execution
options, clock kind; a few KiB, pickled once per Map Run); a worker unpickles it once and
keeps it for the next chunks of the same run.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
import pickle
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import anyio

from asl.errors import StatesError
from runtime.adapters.base import AdapterRegistry
from runtime.distributed.writer import ChildRecord, ResultSink
from runtime.engine.clock import RealClock, VirtualClock
from runtime.engine.execution import Execution, ExecutionOptions, Frame
from runtime.engine.scope import run_branch

__all__ = ["CHUNK", "ChildOutcome", "Environment", "WorkerPool", "default_processes"]

#: Children per chunk sent to a worker: large enough that the round trip is negligible.
CHUNK = 512

#: One child's outcome: (index, status, output, error, cause, start, stop, file records,
#: transitions).
ChildOutcome = tuple[int, str, Any, str | None, str | None, float, float, list[str] | None, int]


def default_processes() -> int:
    """Every core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Environment:
    """What a worker needs to run one Map Run's children as the parent would."""

    token: str
    machine: Any
    processor: Any
    handlers: dict[str, Any]
    options: ExecutionOptions
    input: Any
    virtual: bool
    map_run_arn: str
    #: The ResultSink's settings when children's records are exported, else None.
    sink: tuple[str, str, str, str, str] | None
    #: Send outputs back (False when the exported records are all the parent needs).
    outputs: bool = True


class WorkerPool:
    """A process pool for one Map Run; ``close()`` ends its processes."""

    def __init__(self, processes: int, env: Environment) -> None:
        self.processes = processes
        self.payload = pickle.dumps(env, protocol=pickle.HIGHEST_PROTOCOL)
        self.token = env.token
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(processes, mp_context=context)

    def submit(self, now: float, chunk: list[tuple[int, Any, int, int]]) -> Future[Any]:
        """Run ``chunk`` of ``(index, input, items, redrive count)`` at clock time ``now``."""
        return self._pool.submit(run_chunk, self.token, self.payload, now, chunk)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_ENVIRONMENTS: dict[str, tuple[Environment, ResultSink | None]] = {}


def run_chunk(
    token: str, payload: bytes, now: float, chunk: list[tuple[int, Any, int, int]]
) -> list[ChildOutcome]:
    """In a worker: run the children of ``chunk``; their outcomes in order."""
    known = _ENVIRONMENTS.get(token)
    if known is None:
        _ENVIRONMENTS.clear()
        env: Environment = pickle.loads(payload)
        sink = ResultSink(*env.sink) if env.sink is not None else None
        known = _ENVIRONMENTS[token] = (env, sink)
    return anyio.run(_run_chunk, known[0], known[1], now, chunk)


async def _run_chunk(
    env: Environment, sink: ResultSink | None, now: float, chunk: list[tuple[int, Any, int, int]]
) -> list[ChildOutcome]:
    clock = VirtualClock(start=now) if env.virtual else RealClock()
    exe = Execution(env.machine, env.input, clock, AdapterRegistry(), env.options)
    exe.handlers = env.handlers
    exe.cancelled = anyio.get_cancelled_exc_class()
    outcomes: list[ChildOutcome] = []
    for index, data, size, redrives in chunk:
        start = clock.now()
        before = exe.transitions
        try:
            frame = Frame(0, None, None, f"[{index}]", muted=True)
            output = await run_branch(exe, env.processor, data, frame)
            status, error, cause = "SUCCEEDED", None, None
        except StatesError as exc:
            output, status, error, cause = None, "FAILED", exc.error, exc.cause
        stop = clock.now()
        texts = None
        if sink is not None:
            name = child_name(env.map_run_arn, index)
            record = ChildRecord(
                index, name, data, start, stop, status, output, error, cause, size, redrives
            )
            texts = sink.texts(record)
        steps = exe.transitions - before
        if not env.outputs:
            output = None
        outcomes.append((index, status, output, error, cause, start, stop, texts, steps))
    return outcomes


def child_name(map_run_arn: str, index: int) -> str:
    """The name of a Map Run's child execution (stable across redrives): the UUID version 5
    of ``<map run ARN>/<index>`` in the URL namespace, from a hash of the prefix kept once."""
    digest = _prefix_hash(map_run_arn).copy()
    digest.update(f"/{index}".encode())
    return str(uuid.UUID(bytes=digest.digest()[:16], version=5))


@functools.lru_cache(maxsize=64)
def _prefix_hash(map_run_arn: str) -> Any:
    return hashlib.sha1(uuid.NAMESPACE_URL.bytes + map_run_arn.encode(), usedforsecurity=False)
