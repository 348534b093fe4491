"""One Map Run of a Distributed Map that reads, batches or exports its items.

The Map state's handler (:mod:`runtime.engine.fanout`) hands over here when the state has
an ``ItemReader``, ``ItemBatcher`` or ``ResultWriter``. The run writes ``MapStateStarted``
and ``MapRunStarted``, pulls items lazily from the reader (or the input array), applies
``ItemSelector`` per item and batches them, runs each child execution on the processor
(muted: a child has its own history), counts failures against the tolerated threshold,
exports the results, and writes ``MapRunSucceeded`` or ``MapRunFailed``.

Children run in at most ``MaxConcurrency`` worker tasks (AWS's 10,000 when it is 0), each
taking the next item when it finishes one; only the items in flight are in memory. With an
ItemReader, ``MapStateStarted`` says ``length`` 0 as AWS writes it (recorded by LocalStack's
validated snapshots), and since the number of items is known only once the source is read,
``ToleratedFailurePercentage`` is judged then (``ToleratedFailureCount`` still stops the
run at the first failure too many).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import io
import itertools
import json
import operator
import pickle
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from asl.errors import StatesError
from runtime.adapters.base import TaskCall, parse_resource
from runtime.distributed import reader as readers
from runtime.distributed.batcher import MAX_BATCH_BYTES, batches
from runtime.distributed.runs import LIVE, MapRunRecord, child_prefix
from runtime.distributed.workers import (
    CHUNK,
    ChildOutcome,
    Environment,
    Exported,
    WorkerPool,
    child_name,
    measured_input,
    packed,
    run_children,
    sink_of,
)
from runtime.distributed.writer import ChildRecord, ResultSink, aborted_cause, earlier_succeeded
from runtime.engine.clock import RealClock, VirtualClock
from runtime.engine.dataflow import jsonata_bindings
from runtime.engine.errors import MapRunFailure, PrefixedError
from runtime.engine.events import dumps
from runtime.engine.execution import Frame
from runtime.engine.fields import number_field
from runtime.engine.scope import run_branch

if TYPE_CHECKING:
    from asl.model import ItemReader, MapState
    from runtime.engine.scope import StateRun

__all__ = ["DEFAULT_CONCURRENCY", "MapRun", "uses_map_run"]

#: Child executions at once when MaxConcurrency is 0 (AWS's default limit).
DEFAULT_CONCURRENCY = 10_000

#: How long an Express child execution may run (AWS quota: five minutes).
EXPRESS_SECONDS = 300

#: AWS's ceiling for ReaderConfig MaxItems.
MAX_ITEMS = 100_000_000

_THRESHOLD = MapRunFailure(
    "States.ExceedToleratedFailureThreshold",
    "The specified tolerated failure threshold was exceeded",
)

#: One child to run: (index, its item or batch, the number of items it holds, the number
#: of items read from the source up to it). An item goes through ItemSelector when the
#: child starts (:attr:`MapRun.selecting`); a batch's items went through it already.
Job = tuple[int, Any, int, int]

#: The children of a chunk not to run, by position in it: None for a redrive's child
#: that succeeded before, or the error ItemSelector raised for its item.
Specials = dict[int, StatesError | None]

_SIZE = operator.itemgetter(2)


#: Chunks queued on each worker process: with fewer, a worker idles while this process
#: runs a chunk of its own (1,000,000 items on 2 cores: with two, parent/worker CPU was
#: 32.2/11.0 s; with four, 27.9/20.9 s).
QUEUED_PER_WORKER = 4

#: Chunks this process may have run ahead of the oldest chunk not back from a worker, per
#: process (their results wait, in order, for it): with too few, this process idles
#: whenever a worker is slower than it (a busy machine), and it never has more than this
#: many chunks' results in memory (a chunk's exported records are about 300 KiB).
AHEAD_PER_PROCESS = 16


def uses_map_run(state: MapState) -> bool:
    """True for a Distributed Map state (its Map Run is handled here)."""
    return state.processor.mode == "DISTRIBUTED"


class MapRun:
    """One run: ``await MapRun(...).run()`` returns the Map state's result."""

    def __init__(
        self,
        run: StateRun,
        effective: Any,
        arn: str,
        select: Callable[[int, Any], Any],
        items: Callable[[], list[Any]],
        tolerance: Callable[[], tuple[float | None, float | None]],
    ) -> None:
        self.srun = run
        self.state: MapState = run.state  # type: ignore[assignment]
        self.exe = run.exe
        self.effective = effective
        self.arn = arn
        self.select = select
        self.input_items = items
        self.tolerance = tolerance
        self.total: int | None = None
        self.read = 0
        #: Items counted in the Map Run record so far (see :meth:`_account`).
        self.accounted = 0
        self.failures = 0
        self.failure: StatesError | None = None
        #: What stopped the source while children read before it were still to be taken
        #: (:meth:`_pull`): it fails the run once they are, as when children run one by one.
        self.source_error: Exception | None = None
        self.count: float | None = None
        self.pct: float | None = None
        self.results: dict[int, Any] = {}
        #: The Map Run resource (DescribeMapRun), and who hears of it (the store).
        express = self.state.processor.execution_type == "EXPRESS"
        self.record = MapRunRecord(
            arn, self.exe.arn, self.exe.state_machine_arn, 0.0, express=express
        )
        self.listeners = [
            listener
            for listener in (getattr(o, "map_run", None) for o in self.exe.observers)
            if listener is not None
        ]
        #: Every ended child, kept only when a listener stores them.
        self.children: list[ChildRecord] | None = [] if self.listeners else None
        #: A redrive: the children of the run being redriven, by index.
        self.prior: dict[int, ChildRecord] = {}
        self._tolerance_seen: tuple[float, float] = (0, 0.0)
        #: ``...:execution:MACHINE/LABEL`` (``:express:`` for Express children), the
        #: machine and label being the Map Run's (:func:`~runtime.distributed.runs.child_arn`).
        self.child_prefix = child_prefix(arn, express)
        writer = self.state.result_writer
        self.sink = ResultSink(
            arn,
            self.child_prefix,
            child_prefix(arn).replace(":execution:", ":stateMachine:", 1),
            (writer.transformation or ("NONE" if writer.resource else "COMPACT"))
            if writer is not None
            else "COMPACT",
            (writer.output_type or "JSON") if writer is not None else "JSON",
            express,
        )
        #: A redrive's export: the SUCCEEDED files of the generations before it, which its
        #: manifest lists; None writes the children it takes over again in its own files
        #: (a first run, or a redrive whose previous generation wrote no manifest).
        self.earlier: list[dict[str, Any]] | None = None
        self.group: Any = None
        #: The children handed out to run (:class:`_Handed`), once the source is open.
        self.handed: _Handed | None = None
        #: Items pass through ItemSelector when their child starts (without ItemBatcher).
        self.selecting = self.state.item_selector is not None and self.state.item_batcher is None

    async def run(self) -> Any:
        run, state = self.srun, self.state
        source: Iterator[Any] | None = None
        if state.item_reader is None:
            listed = self.input_items()
            self.total = len(listed)
            source = iter(listed)
        limit = number_field(run, state.max_concurrency, "MaxConcurrency", integer=True)
        run.emit("MapStateStarted", {"length": self.total or 0})
        self.count, self.pct = self.tolerance()
        run.emit("MapRunStarted", {"mapRunArn": self.arn})
        self._begin(int(limit or 0))
        try:
            if source is None:
                source = await self._open_reader()
            await self._earlier_results()
            jobs = self.handed = _Handed(self._jobs(source), self.record)
            try:
                await self._children(jobs.jobs, int(limit or 0) or DEFAULT_CONCURRENCY)
                self._account(self.read)
                if self.failure is None and self._over_threshold(eager=False):
                    self.failure = _THRESHOLD
                if self.failure is not None and self._exports():
                    # Read in a thread: the rest of the source may be long (and remote).
                    await self._blocking(self._unstarted, jobs)
            finally:
                _close(jobs)
                _close(source)
            result = await self._export()
        except StatesError as exc:
            self.failure = self.failure or exc
        except self.exe.cancelled:
            # The execution was stopped (or a sibling branch failed): AWS aborts the run.
            self.exe.defer_abort(run.frame, "MapRunAborted")
            self._end("ABORTED")
            raise
        finally:
            self.sink.close()
        if self.failure is not None:
            run.emit("MapRunFailed", {"error": self.failure.error, "cause": self.failure.cause})
            self._end("FAILED")
            raise self.failure
        run.emit("MapRunSucceeded")
        self._end("SUCCEEDED")
        run.emit("MapStateSucceeded")
        return result

    # -- the Map Run resource -------------------------------------------------------------

    def _begin(self, limit: int) -> None:
        """Set up the record; on a redrive, take over the run being redriven."""
        record, exe = self.record, self.exe
        record.start = exe.clock.now()
        record.max_concurrency = limit
        record.tolerated_failure_count = int(self.count or 0)
        record.tolerated_failure_percentage = float(self.pct or 0.0)
        self._tolerance_seen = (record.tolerated_failure_count, record.tolerated_failure_percentage)
        prior = exe.replay.map_runs.get(self.arn) if exe.replay is not None else None
        if prior is not None and exe.options.redrive_count and exe.replaying(self.srun.frame):
            before, children = prior
            record.start = before.start
            record.redrive_count = before.redrive_count + 1
            record.redrive_date = exe.clock.now()
            self.prior = children
            self.srun.emit(
                "MapRunRedriven", {"mapRunArn": self.arn, "redriveCount": record.redrive_count}
            )
        LIVE[self.arn] = record
        exe.map_runs.append(record)
        for listener in self.listeners:
            listener(record, None)

    def _end(self, status: str) -> None:
        self.record.finish(status, self.exe.clock.now())
        LIVE.pop(self.arn, None)
        for listener in self.listeners:
            listener(self.record, self.children)

    # -- items -----------------------------------------------------------------------

    async def _open_reader(self) -> Iterator[Any]:
        reader = self.state.item_reader
        assert reader is not None
        params = self._evaluate(reader.parameters) if reader.parameters is not None else {}
        max_items = self._max_items(reader)
        resource = parse_resource(reader.resource, self.exe.options.region)
        adapter = self.exe.adapters.resolve(self.state.name, resource)
        try:
            items: Iterator[Any]
            if hasattr(adapter, "get"):
                items = await self._blocking(self._stream, adapter, resource.action, reader, params)
            else:  # a mock of the Map state: the data as found in its source
                call = TaskCall(resource, params, self.state.name, self.srun.ctx)
                call.clock = self.exe.clock
                items = _mocked(await adapter.invoke(call), resource.action, reader)
        except StatesError as exc:
            raise _reader_failed(exc.cause or exc.error) from None
        except Exception as exc:
            raise _reader_failed(_describe(exc)) from None
        if max_items is not None:
            items = _limited(items, max_items)
        return items

    def _stream(self, store: Any, action: str, reader: ItemReader, params: Any) -> Any:
        if action == "listObjectsV2":
            return readers.listing_items(store.list(params))
        if reader.input_type == "MANIFEST":
            from runtime.distributed.inventory import manifest_items

            return manifest_items(store, params)
        return readers.stream_items(
            store.get(params),
            reader.input_type or "JSON",
            header_location=reader.csv_header_location,
            headers=reader.csv_headers,
            delimiter=reader.csv_delimiter,
        )

    def _max_items(self, reader: ItemReader) -> int | None:
        value = number_field(self.srun, reader.max_items, "MaxItems", integer=True)
        if value is None or value == 0:
            return None
        if not 0 < value <= MAX_ITEMS:
            raise StatesError("States.Runtime", f"MaxItems must be between 0 and {MAX_ITEMS}.")
        return int(value)

    def _jobs(self, source: Iterator[Any]) -> Iterator[Job]:
        """Children to run, built lazily from the source: one per item or per batch."""
        batcher = self.state.item_batcher
        if batcher is None:
            return ((index, item, 1, index + 1) for index, item in enumerate(source))
        return self._batched(source, batcher)

    def _batched(self, source: Iterator[Any], batcher: Any) -> Iterator[Job]:
        """One child per batch of selected items (see :func:`batches`)."""
        items = self._counted(source)
        max_items = number_field(
            self.srun, batcher.max_items_per_batch, "MaxItemsPerBatch", integer=True
        )
        max_bytes = number_field(
            self.srun, batcher.max_input_bytes_per_batch, "MaxInputBytesPerBatch", integer=True
        )
        if max_items is not None and max_items <= 0:
            raise StatesError("States.Runtime", "MaxItemsPerBatch must be greater than 0.")
        if max_bytes is not None and not 0 < max_bytes <= MAX_BATCH_BYTES:
            raise StatesError(
                "States.Runtime",
                f"MaxInputBytesPerBatch must be between 1 and {MAX_BATCH_BYTES}.",
            )
        has_input = batcher.batch_input is not None
        batch_input = self._evaluate(batcher.batch_input) if has_input else None
        selected = (self.select(index, item) for index, item in items)
        grouped = batches(
            selected,
            int(max_items) if max_items else None,
            int(max_bytes) if max_bytes else None,
            batch_input,
            has_input,
        )
        for number, (batch, size) in enumerate(grouped):
            yield number, batch, size, self.read

    def _counted(self, source: Iterator[Any]) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(source):
            self.read = index + 1
            yield index, item

    def _account(self, read: int) -> None:
        """Count the items read up to ``read`` in the Map Run (pending until they run)."""
        if read > self.accounted:
            self.record.read(read - self.accounted)
            self.accounted = read
        if self.handed is not None:
            self.handed.catch_up()

    def _next(self, jobs: Iterator[Job], account: bool = True) -> Job | None:
        """The next child, or None when the source is done or the run failed.

        Its items count as read now, unless ``account`` is false (the caller counts them
        when it takes the child's result, so that counts follow the children's order)."""
        if self.failure is not None:
            return None
        try:
            job = next(jobs, None)
            if job is not None:
                self.read = job[3]
            if account:
                self._account(self.read)
            return job
        except Exception as exc:
            self._source_failed(exc)
        return None

    def _pull(self, jobs: Iterator[Job], count: int, into: list[Job]) -> None:
        """Up to ``count`` more children into ``into`` (``_next(jobs, account=False)`` over
        and over, in one loop). A failing source is kept in :attr:`source_error`: the
        children pulled before it still run and count, then it fails the run."""
        if self.failure is not None or self.source_error is not None:
            return
        try:
            into.extend(itertools.islice(jobs, count))
        except Exception as exc:
            self.source_error = exc
        if into:
            self.read = into[-1][3]

    def _source_failed(self, exc: Exception) -> None:
        """The source (or ItemSelector, ItemBatcher) failed: the run fails with it."""
        if isinstance(exc, StatesError):
            self._fail(exc)
        elif isinstance(exc, readers.ReadError):
            self._fail(_reader_failed(str(exc)))
        else:
            self._fail(_reader_failed(_describe(exc)))

    # -- children ----------------------------------------------------------------------

    async def _children(self, jobs: Iterator[Job], width: int) -> None:
        env = self._environment()
        if env is not None:
            if self.exe.options.processes > 1 and WorkerPool.reserve():
                try:
                    await self._pooled(jobs, env)
                finally:
                    WorkerPool.release()
            else:
                await self._here(jobs, env, [])
            if self.source_error is not None:
                self._source_failed(self.source_error)
            return
        if width == 1 or not self.state.processor.may_block:
            # No child can wait on anything: each runs to its end before the next starts.
            while (job := self._next(jobs)) is not None:
                await self._child(*job)
            return
        first: list[Job] = []
        while len(first) < width and (job := self._next(jobs)) is not None:
            first.append(job)
        if not first:
            return
        clock = self.exe.clock
        workers = len(first)

        async def worker(job: Job | None) -> None:
            nonlocal workers
            try:
                while job is not None:
                    await self._child(*job)
                    job = self._next(jobs)
            finally:
                workers -= 1
                if not workers:
                    clock.join()  # the waiting Map state is runnable again
                clock.leave()

        # The Map state hands its clock participation to the workers while it waits.
        for _ in first:
            clock.join()
        clock.leave()
        async with anyio.create_task_group() as group:
            self.group = group
            for job in first:
                group.start_soon(worker, job)

    async def _child(self, index: int, value: Any, size: int, read: int) -> None:
        if self._reuse(index, size):
            return
        clock = self.exe.clock
        start = clock.now()
        data: Any = None
        text: str | None = None
        self.record.started(size)
        try:
            data = self.select(index, value) if self.selecting else value
            text, measured = measured_input(data, self.state.name)
            output = await self._run_child(index, data, start, measured)
        except StatesError as exc:
            self._ended(index, data, size, start, clock.now(), None, exc, input_text=text)
            return
        except self.exe.cancelled:
            self.record.ended(size, "ABORTED")
            if self.failure is not None:  # the Map Run failed: it aborted this child
                self._aborted(index, data, size, start, text)
            raise
        self._ended(index, data, size, start, clock.now(), output, None, input_text=text)

    async def _run_child(self, index: int, data: Any, start: float, size: int) -> Any:
        """One child's processor; an Express child that may wait has five minutes."""
        frame = Frame(0, None, None, f"[{index}]", muted=True)
        processor, exe = self.state.processor, self.exe
        if processor.execution_type != "EXPRESS" or not processor.may_block:
            return await run_branch(exe, processor, data, frame, size)
        with anyio.CancelScope() as limit:
            timer = exe.clock.call_at(start + EXPRESS_SECONDS, limit.cancel)
            try:
                return await run_branch(exe, processor, data, frame, size)
            finally:
                timer.cancel()
        # Timed out: the child's own states were aborted in its (unwritten) history.
        exe.aborts = [abort for abort in exe.aborts if not abort[0].muted]
        raise _ExpressTimeout("States.Timeout", None)

    def _reuse(self, index: int, size: int) -> bool:
        """On a redrive, take over a child that succeeded (it is not run again; its
        record is in an earlier generation's SUCCEEDED file when :attr:`earlier` says so)."""
        prior = self.prior.get(index)
        if prior is None or prior.status != "SUCCEEDED":
            return False
        self.record.reused(size)
        if self.earlier is not None:
            self._keep(prior)
        else:
            self._succeeded(prior, None)
        return True

    def _aborted(self, index: int, data: Any, size: int, start: float, text: str | None) -> None:
        """A child running when the Map Run failed: AWS aborts it and exports it among the
        FAILED records, ``Status`` ABORTED with its own ``Cause`` and no ``Error``."""
        prior = self.prior.get(index)
        child = ChildRecord(
            index,
            child_name(self.arn, index),
            data,
            start,
            self.exe.clock.now(),
            "ABORTED",
            None,
            None,
            aborted_cause(self.arn),
            size,
            prior.redrive_count + 1 if prior is not None else 0,
        )
        self._keep(child)
        if self._exports():
            self.sink.add(child, text)

    def _ended(
        self,
        index: int,
        data: Any,
        size: int,
        start: float,
        stop: float,
        output: Any,
        exc: StatesError | None,
        texts: list[str] | None = None,
        input_text: str | None = None,
    ) -> None:
        """Account for one child that ran (here, or in a worker that rendered ``texts``);
        ``input_text`` is its input's JSON when known."""
        if texts is not None and self.children is None:
            # A worker rendered the exported record, and nothing else keeps the child.
            status = "SUCCEEDED" if exc is None else "FAILED"
            self.record.ended(size, status)
            self.sink.add_texts(status, texts)
            if exc is not None:
                self.results[index] = None
                self._failed(exc, size)
            return
        prior = self.prior.get(index)
        redrives = prior.redrive_count + 1 if prior is not None else 0
        name = child_name(self.arn, index)
        if exc is None:
            self.record.ended(size, "SUCCEEDED")
            done = ChildRecord(
                index, name, data, start, stop, "SUCCEEDED", output, None, None, size, redrives
            )
            self._succeeded(done, texts, input_text)
            return
        status = "TIMED_OUT" if isinstance(exc, _ExpressTimeout) else "FAILED"
        child = ChildRecord(
            index, name, data, start, stop, status, None, *_pair(exc), size, redrives
        )
        self.record.ended(size, status)
        if texts is None:
            self.sink.add(child, input_text)
        else:
            self.sink.add_texts(child.status, texts)
        self._keep(child)
        self.results[index] = None
        self._failed(exc, size)

    def _keep(self, child: ChildRecord) -> None:
        if self.children is not None:
            self.children.append(child)

    def _succeeded(
        self, child: ChildRecord, texts: list[str] | None, input_text: str | None = None
    ) -> None:
        self._keep(child)
        writer = self.state.result_writer
        if writer is not None and writer.resource:
            if texts is None:
                self.sink.add(child, input_text)
            else:
                self.sink.add_texts(child.status, texts)
        elif writer is not None:
            self.results[child.index] = list(self.sink.values(child))
        else:
            self.results[child.index] = child.output

    # -- children in worker processes ---------------------------------------------------

    def _environment(self) -> Environment | None:
        """What workers need to run this run's children, or None to run them here: one
        process asked for, children that may wait, a seeded run (its random sequence is
        this process's), a clock other than the standard two."""
        exe = self.exe
        clock = exe.clock
        if (
            self.state.processor.may_block
            or exe.options.seed is not None
            or type(clock) not in (VirtualClock, RealClock)
        ):
            return None
        writer = self.state.result_writer
        sink = self.sink
        exported = writer is not None and bool(writer.resource)
        options = dataclasses.replace(
            exe.options,
            name=exe.name,
            start_time=exe.start_time,
            context={"Execution": dict(exe.base_context["Execution"])},
        )
        env = Environment(
            token=f"{self.arn}#{uuid.uuid4()}",
            machine=exe.machine,
            processor=self.state.processor,
            handlers=dict(exe.handlers),
            options=options,
            input=exe.input,
            virtual=type(clock) is VirtualClock,
            map_run_arn=self.arn,
            sink=(
                sink.map_run_arn,
                sink.child_prefix,
                sink.state_machine_arn,
                sink.transformation,
                sink.output_type,
                sink.express,
            )
            if exported
            else None,
            # Exported records are all the parent needs, unless a store keeps children.
            outputs=not exported or self.children is not None,
            state_name=self.state.name,
        )
        try:
            pickle.dumps(env.handlers)
        except Exception:  # a partial run's wrapped handler: run here
            return None
        return env

    async def _pooled(self, jobs: Iterator[Job], env: Environment) -> None:
        """Run the children in worker processes (this process holds the pool slot: see
        :meth:`WorkerPool.reserve`) and in this one: ``processes`` is this process and
        ``processes - 1`` workers. Until the workers are up, this process runs chunks
        alone; then each worker has up to four chunks queued, and while the oldest chunk
        is not back, this process runs the next chunk itself. Results are taken in order,
        as one process takes them; a run of less than a chunk runs here."""
        first: list[Job] = []
        self._pull(jobs, CHUNK, first)
        if len(first) < CHUNK:
            await self._here(jobs, env, first)
            return
        processes = self.exe.options.processes
        workers = processes - 1
        pool = WorkerPool(workers, env)
        sink = sink_of(env)
        now = self.exe.clock.now
        #: Chunks in order: (chunk, sent, specials, a worker's future or None, outcomes of
        #: a chunk run here or None).
        inflight: collections.deque[tuple[list[Job], list[Job], Specials, Any, Any]]
        inflight = collections.deque()
        pending: list[Job] = first
        queued = 0
        starting = pool.start()
        ahead = AHEAD_PER_PROCESS * processes
        try:
            while True:
                if starting and all(future.done() for future in starting):
                    starting = []  # the workers are up (a failed start shows in submit)
                while (
                    not starting and self.failure is None and queued < QUEUED_PER_WORKER * workers
                ):
                    self._pull(jobs, CHUNK - len(pending), pending)
                    if not pending:
                        break
                    sent, special, redrives = self._prepare(pending)
                    try:
                        future = pool.submit(now(), sent, redrives) if sent else None
                    except (BrokenProcessPool, OSError) as exc:  # a worker gone, a full disk
                        raise _worker_failed(exc) from None
                    inflight.append((pending, sent, special, future, None))
                    queued += future is not None
                    pending = []
                head = inflight[0] if inflight else None
                if (
                    (head is None or (head[3] is not None and not head[3].done()))
                    and self.failure is None
                    and len(inflight) < ahead
                ):
                    # The workers are starting, or the oldest chunk is not back: run the
                    # next chunk here meanwhile.
                    self._pull(jobs, CHUNK - len(pending), pending)
                    if pending:
                        here, pending = pending, []
                        sent, special, redrives = self._prepare(here)
                        done: list[ChildOutcome] = []
                        await run_children(env, sink, now(), sent, redrives, done)
                        inflight.append((here, sent, special, None, packed(env, sink, done)))
                        continue
                if head is None:
                    return
                chunk, sent, special, future, outcomes = head
                inflight.popleft()
                if future is not None:
                    queued -= 1
                    # A chunk already back is taken without a trip through a thread.
                    try:
                        if future.done():
                            outcomes = future.result()
                        else:
                            outcomes = await self._blocking(future.result)
                    except (BrokenProcessPool, OSError, pickle.UnpicklingError, EOFError) as exc:
                        raise _worker_failed(exc) from None
                self._take(chunk, sent, special, outcomes if outcomes is not None else [])
        finally:
            # Items pulled ahead for chunks whose results were not taken were not read,
            # as far as one process would know.
            self.read = self.accounted
            with anyio.CancelScope(shield=True):  # ends workers with chunks still out
                await self._blocking(pool.close)

    async def _here(self, jobs: Iterator[Job], env: Environment, pending: list[Job]) -> None:
        """Run the children in this process, a chunk at a time, as a worker runs them
        (the same code, so one process and many give the same results); per child, only
        the child's own run and its record: the run's counts are kept per chunk."""
        sink = sink_of(env)
        clock = self.exe.clock
        try:
            while self.failure is None:
                self._pull(jobs, CHUNK - len(pending), pending)
                if not pending:
                    return
                chunk, pending = pending, []
                sent, special, redrives = self._prepare(chunk)
                done: list[ChildOutcome] = []
                try:
                    await run_children(env, sink, clock.now(), sent, redrives, done)
                except self.exe.cancelled:
                    self._cut(chunk, sent, special, done)
                    raise
                self._take(chunk, sent, special, packed(env, sink, done))
        finally:
            self.read = self.accounted  # items pulled ahead and not taken were not read

    def _cut(
        self, chunk: list[Job], sent: list[Job], special: Specials, done: list[ChildOutcome]
    ) -> None:
        """A run cancelled in the middle of a chunk run here: take the children that
        ended, and count the one that was running as aborted (as a child run on its own
        is)."""
        ran = 0
        for at, (_, _, size, read) in enumerate(chunk):
            if at in special:
                continue
            if ran == len(done):
                self._take(chunk[:at], sent[:ran], special, done)
                if self.failure is None:
                    self._account(read)
                    self.record.started(size)
                    self.record.ended(size, "ABORTED")
                return
            ran += 1
        self._take(chunk, sent, special, done)

    def _prepare(self, chunk: list[Job]) -> tuple[list[Job], Specials, dict[int, int]]:
        """The children of a chunk to run, with their inputs (through ItemSelector), the
        chunk's children not to run (by position: a redrive's succeeded child, an input
        ItemSelector failed on) and the redrive count of those that ran before. Whoever
        runs them checks each input's size, as a child run alone checks it."""
        prior, selecting = self.prior, self.selecting
        if not prior and not selecting:
            return chunk, {}, {}
        sent: list[Job] = []
        special: Specials = {}
        redrives: dict[int, int] = {}
        for at, job in enumerate(chunk):
            index, value, size, read = job
            before = prior.get(index) if prior else None
            if before is not None and before.status == "SUCCEEDED":
                special[at] = None
                continue
            if selecting:
                try:
                    job = (index, self.select(index, value), size, read)
                except StatesError as exc:
                    special[at] = exc
                    continue
            if before is not None:
                redrives[index] = before.redrive_count + 1
            sent.append(job)
        return sent, special, redrives

    def _take(
        self,
        chunk: list[Job],
        sent: list[Job],
        special: Specials,
        outcomes: list[ChildOutcome] | Exported,
    ) -> None:
        """Account for a chunk's children in order, up to a failure that ends the run."""
        if isinstance(outcomes, tuple):
            # Every child sent ran and succeeded; only their exported records came back.
            steps, joined, lengths = outcomes
            if self.failure is None and len(lengths) == len(chunk):  # all of them ran
                self._account(chunk[-1][3])
                self.record.succeeded(sum(map(_SIZE, chunk)), len(chunk))
                self.exe.transitions += sum(steps)
                self.sink.add_joined(joined, lengths)
                return
            outcomes = _unjoined(steps, joined, lengths)
        now = self.exe.clock.now
        results = iter(outcomes)
        inputs = iter(sent)
        for at, (index, _, size, read) in enumerate(chunk):
            if self.failure is not None:
                return
            self._account(read)
            if special and at in special:
                failed = special[at]
                if failed is None:
                    self._reuse(index, size)
                    continue
                self.record.started(size)
                self._ended(index, None, size, now(), now(), None, failed)
                continue
            self.record.started(size)
            data = next(inputs)[1]
            _, status, output, error, cause, start, stop, texts, steps_taken = next(results)
            self.exe.transitions += steps_taken
            # A child's error already has its final form (its own state's prefix, if
            # any): the Map state fails with it as it is, as with a child run alone.
            exc = None if status == "SUCCEEDED" else PrefixedError(error or "", cause)
            self._ended(index, data, size, start, stop, output, exc, texts)

    def _failed(self, exc: StatesError, size: int) -> None:
        self.failures += size
        self._updated_tolerance()
        tolerant = self.count is not None or self.pct is not None
        if not tolerant:
            self._fail(exc)
        elif self._over_threshold(eager=True):
            self._fail(_THRESHOLD)

    def _updated_tolerance(self) -> None:
        """Adopt the tolerance an UpdateMapRun set while the run goes on."""
        record = self.record
        count, pct = record.tolerated_failure_count, record.tolerated_failure_percentage
        seen_count, seen_pct = self._tolerance_seen
        if count != seen_count:
            self.count = float(count)
        if pct != seen_pct:
            self.pct = pct
        self._tolerance_seen = (count, pct)

    def _over_threshold(self, eager: bool) -> bool:
        """Past ToleratedFailureCount, or past the percentage once the total is known."""
        if self.count is not None and self.failures > self.count:
            return True
        return (self.total is not None or not eager) and self._over_percentage()

    def _over_percentage(self) -> bool:
        total = self.total if self.total is not None else self.read
        return self.pct is not None and total > 0 and 100.0 * self.failures / total > self.pct

    def _fail(self, exc: StatesError) -> None:
        """The run fails: no child starts any more; Standard children still running are
        aborted, Express ones run to their end (as captured from AWS: an Express child
        that was waiting when its Map Run failed succeeded 22 s later)."""
        if self.failure is None:
            self.failure = exc
            if self.group is not None and self.state.processor.execution_type != "EXPRESS":
                self.group.cancel_scope.cancel()

    # -- results -----------------------------------------------------------------------

    def _exports(self) -> bool:
        """Whether the results go to S3 (a ResultWriter with a Resource)."""
        writer = self.state.result_writer
        return writer is not None and bool(writer.resource)

    def _destination(self) -> tuple[str, str, Any]:
        """The ResultWriter's bucket and prefix, and the store that writes there."""
        writer = self.state.result_writer
        assert writer is not None and writer.resource
        params = self._evaluate(writer.parameters) if writer.parameters is not None else {}
        bucket, prefix = str(params.get("Bucket", "")), str(params.get("Prefix", "") or "")
        resource = parse_resource(writer.resource, self.exe.options.region)
        # By pattern, not by state: a mock of the Map state answers its ItemReader only.
        return bucket, prefix, self.exe.adapters.resolve("", resource)

    async def _earlier_results(self) -> None:
        """On a redrive that exports, read the manifest the generation before wrote: its
        SUCCEEDED files stay listed, and the children it took over are not written again
        (AWS: a redrive's manifest lists the earlier generations' SUCCEEDED files)."""
        generation = self.record.redrive_count
        if not generation or not self._exports():
            return
        bucket, prefix, store = self._destination()
        if not hasattr(store, "get"):
            return
        try:
            self.earlier = await self._blocking(
                earlier_succeeded, store.get, bucket, prefix, self.arn, generation
            )
        except StatesError as exc:
            raise MapRunFailure("States.ResultWriterFailed", exc.cause or exc.error) from None
        except Exception as exc:
            raise MapRunFailure("States.ResultWriterFailed", _describe(exc)) from None

    def _unstarted(self, jobs: _Handed) -> None:
        """The run failed: export the children it never started, read to the end of the
        source as AWS reads it (each counts as a pending item). One never run is a PENDING
        record with the input it would have had; on a redrive, one that ran before keeps
        its earlier record (a failure stays in this generation's FAILED file). A source
        that fails while read to its end ends the records there (the run fails already)."""
        sink, prior = self.sink, self.prior
        untaken = jobs.untaken()
        while True:
            try:
                job = next(untaken, None)
            except Exception:
                return
            if job is None:
                return
            index, value, _, read = job
            self._account(read)
            before = prior.get(index) if prior else None
            if before is not None:
                self._keep(before)  # the store keeps it for the next redrive
                if before.status != "SUCCEEDED" or self.earlier is None:
                    sink.add(before)
                continue
            data = value
            if self.selecting:
                try:
                    data = self.select(index, value)
                except StatesError:
                    data = value  # its child would fail on start: the item as read
            self.record.unstarted()
            sink.add_pending(dumps(data))

    async def _export(self) -> Any:
        writer = self.state.result_writer
        if writer is None or not writer.resource:
            return self._in_order(writer is not None)
        bucket, prefix, store = self._destination()
        generation = self.record.redrive_count
        try:
            result = await self._blocking(
                self.sink.write, bucket, prefix, store.put, generation, self.earlier
            )
        except StatesError as exc:
            raise MapRunFailure("States.ResultWriterFailed", exc.cause or exc.error) from None
        except Exception as exc:
            raise MapRunFailure("States.ResultWriterFailed", _describe(exc)) from None
        items, executions = self.record.items, self.record.executions
        done = ("succeeded", "failed", "timedOut", "aborted")
        self.record.written(sum(items[k] for k in done), sum(executions[k] for k in done))
        return result

    def _in_order(self, transformed: bool) -> list[Any]:
        ordered = [self.results.get(index) for index in range(len(self.results))]
        if not transformed:
            return ordered
        return [value for values in ordered for value in (values or ())]

    def _evaluate(self, compiled: Any) -> Any:
        run = self.srun
        if self.state.query_language == "JSONata":
            with run.evaluating:
                return compiled.evaluate(jsonata_bindings(run.data, run.ctx, run.frame.view))
        return compiled.evaluate(self.effective, run.ctx, run.frame.view)

    async def _blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self.exe.clock.busy():
            return await anyio.to_thread.run_sync(functools.partial(fn, *args))


class _Handed:
    """The children to run (:attr:`jobs`), keeping those handed out and not yet taken: the
    run takes them in order (each counted once in ``executions.total``), so when it fails
    the ones after the last taken are still to export as never started, whichever way they
    were pulled ahead (one process, chunks, worker processes). A second iterator of
    ``itertools.tee`` trails the run's, let go up to the children taken every
    :data:`_TRAIL` of them (:meth:`catch_up`, as the run counts what it took): only those
    pulled ahead and the last few taken are held, and handing one out costs no Python
    call."""

    def __init__(self, jobs: Iterator[Job], record: MapRunRecord) -> None:
        self.source = jobs
        self.jobs, self._trail = itertools.tee(jobs)
        self.record = record
        self._behind = 0
        self._draining = False

    def catch_up(self) -> None:
        """Let go of the children taken so far, a batch at a time."""
        taken = self.record.executions["total"]
        if taken - self._behind >= _TRAIL and not self._draining:
            self._skip(taken)

    def _skip(self, taken: int) -> None:
        collections.deque(itertools.islice(self._trail, taken - self._behind), maxlen=0)
        self._behind = taken

    def untaken(self) -> Iterator[Job]:
        """The children not taken, those pulled ahead then the rest of the source."""
        self._draining = True
        self._skip(self.record.executions["total"])
        # The run's iterator is done with: dropped, so that the tee does not keep for it
        # what the trail reads from here on.
        self.jobs = iter(())
        yield from self._trail

    def close(self) -> None:
        _close(self.source)


#: Children taken between two :meth:`_Handed.catch_up` that let go of them.
_TRAIL = 4096


class _ExpressTimeout(StatesError):
    """An Express child execution that ran past its five minutes."""


def _unjoined(steps: list[int], joined: bytes, lengths: list[int]) -> list[ChildOutcome]:
    """The outcomes of a chunk of succeeded children from their joined records (only the
    fields the parent reads when a worker exported the records)."""
    outcomes: list[ChildOutcome] = []
    at = 0
    for taken, length in zip(steps, lengths, strict=True):
        text = joined[at : at + length].decode("utf-8", "surrogatepass")
        outcomes.append((-1, "SUCCEEDED", None, None, None, 0.0, 0.0, [text], taken))
        at += length + 1
    return outcomes


def _worker_failed(exc: BaseException) -> StatesError:
    """A worker process that died or whose result could not be read back: the run fails
    saying so (an out-of-memory kill, a full disk), not with a traceback."""
    if isinstance(exc, BrokenProcessPool):
        return StatesError("States.Runtime", str(exc))
    detail = str(exc) or type(exc).__name__
    return StatesError("States.Runtime", f"A worker process of the Map Run failed: {detail}")


def _mocked(data: Any, action: str, reader: ItemReader) -> Iterator[Any]:
    """Items from a mocked ItemReader: text as found in the object, or parsed JSON."""
    if isinstance(data, str):
        if action == "listObjectsV2":
            data = json.loads(data)
        else:
            return readers.stream_items(
                io.BytesIO(data.encode("utf-8")),
                reader.input_type or "JSON",
                header_location=reader.csv_header_location,
                headers=reader.csv_headers,
                delimiter=reader.csv_delimiter,
            )
    if isinstance(data, dict) and "Contents" in data:
        return readers.listing_items(data["Contents"])
    if not isinstance(data, list):
        raise readers.ReadError("A mocked ItemReader returns the object's text or an array.")
    return iter(data)


def _limited(items: Iterator[Any], limit: int) -> Iterator[Any]:
    try:
        for count, item in enumerate(items, 1):
            yield item
            if count >= limit:
                return
    finally:
        _close(items)


def _close(items: Any) -> None:
    """Close a generator reading an object, so its body is released now."""
    close = getattr(items, "close", None)
    if close is not None:
        close()


def _pair(exc: StatesError) -> tuple[str, str | None]:
    return exc.error, exc.cause


def _reader_failed(cause: str) -> StatesError:
    return MapRunFailure("States.ItemReaderFailed", cause)


def _describe(exc: BaseException) -> str:
    """A botocore failure as AWS words it, anything else by its message."""
    if getattr(exc, "response", None) is not None:
        from runtime.adapters.aws import service_error

        return service_error("s3", exc).cause or str(exc)
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, readers.ReadError) else str(exc)
