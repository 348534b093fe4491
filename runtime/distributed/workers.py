"""Child executions of a Distributed Map across worker processes, so a CPU-bound run uses
every core.

The standard library's :class:`concurrent.futures.ProcessPoolExecutor` (``spawn``
context, safe beside the threads an event loop keeps) runs chunks of children: with
``processes`` N, N - 1 workers, and the parent, which runs a chunk itself while the
oldest chunk sent is not back (:func:`run_children`, the workers' code, as a run with one
process does). A child
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

import asyncio
import functools
import hashlib
import multiprocessing
import os
import pickle
import threading
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import anyio

from asl.errors import StatesError
from runtime.adapters.base import AdapterRegistry
from runtime.distributed.writer import ChildRecord, ResultSink
from runtime.engine.clock import RealClock, VirtualClock
from runtime.engine.errors import MAX_PAYLOAD_BYTES, DataLimitExceeded, check_payload
from runtime.engine.events import json_chunks
from runtime.engine.execution import Execution, ExecutionOptions, Frame
from runtime.engine.scope import run_branch

__all__ = [
    "CHUNK",
    "ChildOutcome",
    "Environment",
    "Exported",
    "WorkerPool",
    "default_processes",
    "measured_input",
    "packed",
    "run_children",
    "sink_of",
]

#: Children per chunk sent to a worker: large enough that the round trip is negligible.
CHUNK = 512

#: One child's outcome: (index, status, output, error, cause, start, stop, file records,
#: transitions).
ChildOutcome = tuple[int, str, Any, str | None, str | None, float, float, list[str] | None, int]

#: A chunk whose children all succeeded and whose outputs the parent does not need:
#: ``(transitions, records, lengths)``: each child's transitions, the children's exported
#: records as the bytes of their results file (joined as the file joins them) and each
#: record's length in it.
Exported = tuple[list[int], bytes, list[int]]


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
    sink: tuple[str, str, str, str, str, bool] | None
    #: Send outputs back (False when the exported records are all the parent needs).
    outputs: bool = True
    #: The Map state's name (a child's input over the payload quota names it).
    state_name: str = ""


class WorkerPool:
    """A process pool for one Map Run; ``close()`` ends its processes.

    One Map Run at a time has worker processes in a process (:meth:`reserve`), so a
    server running many executions does not start a pool for each."""

    _busy = threading.Lock()

    @classmethod
    def reserve(cls) -> bool:
        """Take this process's pool slot; False when another Map Run holds it."""
        return cls._busy.acquire(blocking=False)

    @classmethod
    def release(cls) -> None:
        cls._busy.release()

    def __init__(self, processes: int, env: Environment) -> None:
        self.processes = processes
        self.payload = pickle.dumps(env, protocol=pickle.HIGHEST_PROTOCOL)
        self.token = env.token
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(processes, mp_context=context)

    def submit(
        self, now: float, chunk: list[tuple[int, Any, int, int]], redrives: dict[int, int]
    ) -> Future[Any]:
        """Run ``chunk`` of ``(index, input, items, _)`` at clock time ``now`` (``redrives``:
        the redrive count of the children that ran before, by index)."""
        return self._pool.submit(run_chunk, self.token, self.payload, now, chunk, redrives)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_ENVIRONMENTS: dict[str, tuple[Environment, ResultSink | None]] = {}
_runner: asyncio.Runner | None = None


def run_chunk(
    token: str,
    payload: bytes,
    now: float,
    chunk: list[tuple[int, Any, int, int]],
    redrives: dict[int, int],
) -> list[ChildOutcome] | Exported:
    """In a worker: run the children of ``chunk``; their outcomes in order, or when every
    child succeeded and only their exported records matter, those records in one piece."""
    known = _ENVIRONMENTS.get(token)
    if known is None:
        _ENVIRONMENTS.clear()
        env: Environment = pickle.loads(payload)
        known = _ENVIRONMENTS[token] = (env, sink_of(env))
    outcomes: list[ChildOutcome] = []
    global _runner
    if _runner is None:  # one event loop for every chunk this worker runs
        _runner = asyncio.Runner()
    _runner.run(run_children(known[0], known[1], now, chunk, redrives, outcomes))
    return packed(known[0], known[1], outcomes)


def sink_of(env: Environment) -> ResultSink | None:
    """The ResultSink that renders the children's records, when they are exported."""
    return ResultSink(*env.sink) if env.sink is not None else None


def packed(
    env: Environment, sink: ResultSink | None, outcomes: list[ChildOutcome]
) -> list[ChildOutcome] | Exported:
    """A chunk's outcomes as the parent takes them: as they are, or when every child
    succeeded and only their exported records matter, those records in one piece."""
    if sink is None or env.outputs:
        return outcomes
    if any(o[1] != "SUCCEEDED" or o[7] is None or len(o[7]) != 1 for o in outcomes):
        return outcomes  # a failure, or FLATTEN's many records (or none) for a child
    records = [o[7][0].encode("utf-8", "surrogatepass") for o in outcomes if o[7]]
    lengths = [len(record) for record in records]
    joined = (b"\n" if sink.jsonl else b",").join(records)
    return [o[8] for o in outcomes], joined, lengths


async def run_children(
    env: Environment,
    sink: ResultSink | None,
    now: float,
    chunk: list[tuple[int, Any, int, int]],
    redrives: dict[int, int],
    outcomes: list[ChildOutcome],
) -> None:
    """Run the children of ``chunk`` (``(index, input, items, _)``) one after the other,
    appending each one's outcome to ``outcomes`` as it ends (in a worker's event loop, or
    in the parent's when the run has one process: a cancelled run leaves the outcomes of
    the children that ended). ``redrives``: see :meth:`WorkerPool.submit`."""
    clock = VirtualClock(start=now) if env.virtual else RealClock()
    exe = Execution(env.machine, env.input, clock, AdapterRegistry(), env.options)
    exe.handlers = env.handlers
    exe.cancelled = anyio.get_cancelled_exc_class()
    processor, state_name, arn, keep = env.processor, env.state_name, env.map_run_arn, env.outputs
    time = clock.now
    for index, data, size, _ in chunk:
        start = time()
        before = exe.transitions
        text = None
        try:
            text, measured = measured_input(data, state_name)
            frame = Frame(0, None, None, f"[{index}]", muted=True)
            output = await run_branch(exe, processor, data, frame, measured)
        except StatesError as exc:
            stop = time()
            texts = None
            if sink is not None:
                record = ChildRecord(
                    index,
                    child_name(arn, index),
                    data,
                    start,
                    stop,
                    "FAILED",
                    None,
                    exc.error,
                    exc.cause,
                    size,
                    redrives.get(index, 0) if redrives else 0,
                )
                texts = sink.texts(record, text)
            steps = exe.transitions - before
            outcomes.append(
                (index, "FAILED", None, exc.error, exc.cause, start, stop, texts, steps)
            )
            continue
        stop = time()
        texts = None
        if sink is not None:
            name = child_name(arn, index)
            again = redrives.get(index, 0) if redrives else 0
            texts = sink.succeeded_texts(name, text, output, start, stop, again)
        steps = exe.transitions - before
        outcomes.append(
            (index, "SUCCEEDED", output if keep else None, None, None, start, stop, texts, steps)
        )


_CHUNKS = json_chunks()


def measured_input(data: Any, who: str) -> tuple[str, int]:
    """A child's input as JSON and its bytes, checked: a child's input (an item, a batch)
    is an execution input, 256 KiB at most (``DataLimitExceeded`` naming ``who``)."""
    try:
        text = "".join(_CHUNKS(data, 0))
    except RecursionError:
        check_payload(data, who)  # says why, as for any other value
        raise
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_PAYLOAD_BYTES:
        raise DataLimitExceeded(who)
    return text, size


def child_name(map_run_arn: str, index: int) -> str:
    """The name of a Map Run's child execution (stable across redrives): the UUID version 5
    of ``<map run ARN>/<index>`` in the URL namespace, from a hash of the prefix kept once
    (``str(uuid.uuid5(...))``, formatted here without building a UUID object)."""
    digest = _prefix_hash(map_run_arn).copy()
    digest.update(f"/{index}".encode())
    text = digest.hexdigest()
    # Version 5 in the 13th digit; RFC 4122's variant in the top bits of the 17th.
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:32]}"


#: A hex digit with its top two bits set to RFC 4122's variant (``10``).
_VARIANT = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


@functools.lru_cache(maxsize=64)
def _prefix_hash(map_run_arn: str) -> Any:
    return hashlib.sha1(uuid.NAMESPACE_URL.bytes + map_run_arn.encode(), usedforsecurity=False)
