"""Child executions of a Distributed Map across worker processes, so a CPU-bound run uses
every core.

With ``processes`` N, a Map Run starts N - 1 worker processes (the standard library's
:mod:`multiprocessing`, ``spawn`` start method: safe beside the threads an event loop
keeps), each with a pipe of its own, and runs chunks of children in them and in the
parent, which runs a chunk itself while the oldest chunk sent is not back
(:func:`run_children`, the workers' code, as a run with one process does). A child that
can wait on nothing (its processor has no Task, Wait or Retry delay:
``Branch.may_block`` is false) depends only on its input, the processor and the
execution's identity, so it gives the same result in any process. The parent keeps
everything that has an order: it reads the items, applies ItemSelector and ItemBatcher,
and takes the chunks' results back in submission order, counting them against the
tolerated failure threshold exactly as one process does; the workers run the children
and render their result-file records.

A worker gets the pickled :class:`Environment` (processor, handler table, execution
options, clock kind; a few KiB, pickled once per Map Run) when it starts, says it is
ready, then runs the chunks it is sent, in order, answering each with its result.

The parent has no thread of its own for the pool: it sends chunks and reads results
between the chunks it runs itself, so a worker always has the chunks queued in its pipe
to go on with (with :class:`concurrent.futures.ProcessPoolExecutor`, whose threads need
the GIL for every 64 KiB of a pipe while the parent's event loop runs children, a worker
waited for its next chunk or blocked on sending a third of the time). A message past
:data:`SPILL_BYTES` (a chunk's items, a chunk's exported records: about 300 KiB) goes
through a file of its own in the run's spill folder, read once and removed, and only its
name through the pipe, which so never fills.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import functools
import hashlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import shutil
import signal
import tempfile
import threading
import uuid
from concurrent.futures.process import BrokenProcessPool
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
    "Task",
    "WorkerPool",
    "default_processes",
    "measured_input",
    "packed",
    "run_children",
    "sink_of",
]

#: Children per chunk sent to a worker: large enough that the round trip is negligible.
CHUNK = 512

#: A message past this many bytes goes through a file (see above); a worker has at most
#: a few results unread in its pipe, far under the pipe's 64 KiB.
SPILL_BYTES = 8 * 1024

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
    #: The folder large messages go through (see above): the pool's, made and removed
    #: with it.
    spill: str = ""


class Task:
    """A chunk sent to a worker (or a worker starting): :meth:`done` once it answered,
    :meth:`result` its answer, waiting for it."""

    __slots__ = ("_error", "_finished", "_pool", "_value")

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self._finished = False
        self._value: Any = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        if not self._finished:
            self._pool.collect(block=False)
        return self._finished

    def result(self) -> Any:
        while not self._finished:
            self._pool.collect(block=True)
        if self._error is not None:
            raise self._error
        return self._value

    def finish(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value, self._error, self._finished = value, error, True


@dataclass(slots=True)
class _Worker:
    process: Any
    conn: multiprocessing.connection.Connection
    #: Tasks sent and not answered yet, oldest first (a worker answers in order).
    waiting: collections.deque[Task]


class WorkerPool:
    """The worker processes of one Map Run; ``close()`` ends them.

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
        self.folder = tempfile.mkdtemp(prefix="asl-map-run-")
        env = dataclasses.replace(env, spill=self.folder)
        self._lock = threading.Lock()
        self._broken: BrokenProcessPool | None = None
        self._spilled = itertools.count()
        self._workers: list[_Worker] = []
        self._ready: list[Task] = []
        payload = pickle.dumps(env, protocol=pickle.HIGHEST_PROTOCOL)
        context = multiprocessing.get_context("spawn")
        try:
            for _ in range(processes):
                here, there = context.Pipe()
                process = context.Process(
                    target=serve_chunks, args=(there, env.token, payload), daemon=True
                )
                process.start()
                there.close()
                ready = Task(self)
                self._ready.append(ready)
                self._workers.append(_Worker(process, here, collections.deque([ready])))
        except BaseException:
            self.close()
            raise

    def start(self) -> list[Task]:
        """The workers' start: each task is done once its worker has loaded the run (a
        worker process takes a fraction of a second to a second to start; meanwhile the
        parent runs chunks itself)."""
        return list(self._ready)

    def submit(
        self, now: float, chunk: list[tuple[int, Any, int, int]], redrives: dict[int, int]
    ) -> Task:
        """Run ``chunk`` of ``(index, input, items, _)`` at clock time ``now`` (``redrives``:
        the redrive count of the children that ran before, by index) in the worker with
        the fewest chunks queued."""
        with self._lock:
            if self._broken is not None:
                raise self._broken
            worker = min(self._workers, key=lambda w: len(w.waiting))
            task = Task(self)
            message = _message(
                pickle.dumps((now, chunk, redrives), pickle.HIGHEST_PROTOCOL),
                self.folder,
                f"in-{next(self._spilled)}",
            )
            try:
                worker.conn.send_bytes(message)
            except OSError:  # the worker is gone
                self._fail(worker)
                raise self._broken or BrokenProcessPool() from None
            worker.waiting.append(task)
            return task

    def collect(self, block: bool) -> None:
        """Take the answers the workers sent (``block``: wait for at least one)."""
        with self._lock:
            busy = [w for w in self._workers if w.waiting]
            if not busy:
                return
            handles: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
            ready = multiprocessing.connection.wait(handles, None if block else 0)
            if not ready:
                return
            for worker in busy:
                while worker.waiting and _readable(worker.conn):
                    try:
                        message = worker.conn.recv_bytes()
                    except (EOFError, OSError):
                        break  # the worker is gone: its sentinel says so below
                    task = worker.waiting.popleft()
                    try:
                        answer = _opened(message)
                    except Exception as exc:  # its file went missing, say: this chunk fails
                        task.finish(error=exc)
                        continue
                    if isinstance(answer, _Raised):
                        task.finish(error=answer.error())
                    else:
                        task.finish(answer)
                gone = worker.process.sentinel in ready
                if worker.waiting and gone and not _readable(worker.conn):
                    self._fail(worker)

    def _fail(self, worker: _Worker) -> None:
        """``worker`` ended before answering: every chunk still out fails, and the pool
        takes no more."""
        if self._broken is None:
            worker.process.join(1)
            code = worker.process.exitcode
            if code is None:
                detail = "its pipe closed"
            elif code < 0:
                detail = f"killed by {signal.Signals(-code).name}"
            else:
                detail = f"exit code {code}"
            self._broken = BrokenProcessPool(
                f"A worker process of the Map Run ended unexpectedly ({detail})"
            )
        for worker in self._workers:
            while worker.waiting:
                worker.waiting.popleft().finish(error=self._broken)

    def close(self) -> None:
        """End the workers: at once when chunks are still out (a failed or stopped run),
        else after they read that there is no more."""
        for worker in self._workers:
            try:
                if worker.waiting or self._broken is not None:
                    worker.process.terminate()
                else:
                    worker.conn.send_bytes(b"")
            except (OSError, ValueError):
                pass
        for worker in self._workers:
            worker.process.join(5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _readable(conn: multiprocessing.connection.Connection) -> bool:
    """An answer is waiting in ``conn`` (False once the pipe is broken)."""
    try:
        return conn.poll()
    except (EOFError, OSError):
        return False


@dataclass(frozen=True, slots=True)
class _Raised:
    """A worker's answer when running a chunk raised (a bug: a child's own failures are
    outcomes)."""

    text: str
    exc: BaseException | None

    def error(self) -> BaseException:
        return self.exc if self.exc is not None else RuntimeError(self.text)


def _message(data: bytes, folder: str, name: str) -> bytes:
    """``data`` as sent through a pipe: in place, or through a file of ``folder``."""
    if len(data) <= SPILL_BYTES or not folder:
        return b"D" + data
    path = os.path.join(folder, name)
    with open(path, "wb") as handle:
        handle.write(data)
    return b"F" + path.encode("utf-8", "surrogateescape")


def _opened(message: bytes) -> Any:
    """What :func:`_message` sent, unpickled (a file read once, then removed)."""
    if not message:
        raise EOFError
    if message[:1] == b"F":
        path = message[1:].decode("utf-8", "surrogateescape")
        with open(path, "rb") as handle:
            data = handle.read()
        os.unlink(path)
        return pickle.loads(data)
    return pickle.loads(message[1:])


_ENVIRONMENTS: dict[str, tuple[Environment, ResultSink | None]] = {}
_runner: asyncio.Runner | None = None


def serve_chunks(conn: multiprocessing.connection.Connection, token: str, payload: bytes) -> None:
    """A worker process: load the run, say so, then run each chunk sent until told there is
    no more (an empty message) or the parent is gone. Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    env, sink = environment(token, payload)
    names = itertools.count()
    pid = os.getpid()
    try:
        conn.send_bytes(b"D" + pickle.dumps(None))
        while message := conn.recv_bytes():
            try:
                now, chunk, redrives = _opened(message)
                result: Any = run_chunk(env, sink, now, chunk, redrives)
            except Exception as exc:  # a bug, or a chunk's file gone: the parent raises it
                result = _Raised(f"{type(exc).__name__}: {exc}", _picklable(exc))
            data = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
            conn.send_bytes(_message(data, env.spill, f"out-{pid}-{next(names)}"))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone or closed the pipe


def _picklable(exc: BaseException) -> BaseException | None:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return None
    return exc


def run_chunk(
    env: Environment,
    sink: ResultSink | None,
    now: float,
    chunk: list[tuple[int, Any, int, int]],
    redrives: dict[int, int],
) -> list[ChildOutcome] | Exported:
    """In a worker: run the children of ``chunk``; their outcomes in order, or when every
    child succeeded and only their exported records matter, those records in one piece."""
    outcomes: list[ChildOutcome] = []
    global _runner
    if _runner is None:  # one event loop for every chunk this worker runs
        _runner = asyncio.Runner()
    _runner.run(run_children(env, sink, now, chunk, redrives, outcomes))
    return packed(env, sink, outcomes)


def environment(token: str, payload: bytes) -> tuple[Environment, ResultSink | None]:
    """In a worker: the Map Run's environment, unpickled once per run."""
    known = _ENVIRONMENTS.get(token)
    if known is None:
        _ENVIRONMENTS.clear()
        env: Environment = pickle.loads(payload)
        known = _ENVIRONMENTS[token] = (env, sink_of(env))
    return known


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
