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

import functools
import io
import json
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from asl.errors import StatesError
from runtime.adapters.base import TaskCall, parse_resource
from runtime.distributed import reader as readers
from runtime.distributed.batcher import MAX_BATCH_BYTES, batches
from runtime.distributed.writer import ChildRecord, ResultSink
from runtime.engine.dataflow import jsonata_bindings
from runtime.engine.errors import MapRunFailure
from runtime.engine.execution import Frame
from runtime.engine.fields import number_field
from runtime.engine.scope import run_branch

if TYPE_CHECKING:
    from asl.model import ItemReader, MapState
    from runtime.engine.scope import StateRun

__all__ = ["DEFAULT_CONCURRENCY", "MapRun", "uses_map_run"]

#: Child executions at once when MaxConcurrency is 0 (AWS's default limit).
DEFAULT_CONCURRENCY = 10_000

#: AWS's ceiling for ReaderConfig MaxItems.
MAX_ITEMS = 100_000_000

_THRESHOLD = MapRunFailure(
    "States.ExceedToleratedFailureThreshold",
    "The specified tolerated failure threshold was exceeded",
)

#: One child to run: (index, its input built on demand, the number of items it holds).
Job = tuple[int, Callable[[], Any], int]


def uses_map_run(state: MapState) -> bool:
    """True when the state reads, batches or exports items (handled here)."""
    return bool(state.item_reader or state.item_batcher or state.result_writer)


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
        self.failures = 0
        self.failure: StatesError | None = None
        self.count: float | None = None
        self.pct: float | None = None
        self.results: dict[int, Any] = {}
        label = self.state.label or self.state.name
        opts = self.exe.options
        prefix = f"arn:aws:states:{opts.region}:{opts.account}"
        self.child_prefix = f"{prefix}:execution:{opts.state_machine_name}/{label}"
        writer = self.state.result_writer
        self.sink = ResultSink(
            arn,
            self.child_prefix,
            f"{prefix}:stateMachine:{opts.state_machine_name}/{label}",
            (writer.transformation or ("NONE" if writer.resource else "COMPACT"))
            if writer is not None
            else "COMPACT",
            (writer.output_type or "JSON") if writer is not None else "JSON",
        )
        self.group: Any = None

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
        try:
            if source is None:
                source = await self._open_reader()
            jobs = self._jobs(source)
            try:
                await self._children(jobs, int(limit or 0) or DEFAULT_CONCURRENCY)
            finally:
                _close(jobs)
                _close(source)
            if self.failure is None and self._over_threshold(eager=False):
                self.failure = _THRESHOLD
            result = await self._export()
        except StatesError as exc:
            self.failure = self.failure or exc
        finally:
            self.sink.close()
        if self.failure is not None:
            run.emit("MapRunFailed", {"error": self.failure.error, "cause": self.failure.cause})
            raise self.failure
        run.emit("MapRunSucceeded")
        run.emit("MapStateSucceeded")
        return result

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
        items = self._counted(source)
        batcher = self.state.item_batcher
        if batcher is None:
            for index, item in items:
                yield index, functools.partial(self.select, index, item), 1
            return
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
            yield number, functools.partial(_same, batch), size

    def _counted(self, source: Iterator[Any]) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(source):
            self.read = index + 1
            yield index, item

    def _next(self, jobs: Iterator[Job]) -> Job | None:
        """The next child, or None when the source is done or the run failed."""
        if self.failure is not None:
            return None
        try:
            return next(jobs, None)
        except StatesError as exc:
            self._fail(exc)
        except readers.ReadError as exc:
            self._fail(_reader_failed(str(exc)))
        except Exception as exc:
            self._fail(_reader_failed(_describe(exc)))
        return None

    # -- children ----------------------------------------------------------------------

    async def _children(self, jobs: Iterator[Job], width: int) -> None:
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

    async def _child(self, index: int, build: Callable[[], Any], size: int) -> None:
        clock = self.exe.clock
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.arn}/{index}"))
        start = clock.now()
        data: Any = None
        try:
            data = build()
            frame = Frame(0, None, None, f"[{index}]", muted=True)
            output = await run_branch(self.exe, self.state.processor, data, frame)
        except StatesError as exc:
            stop = clock.now()
            self.sink.add(ChildRecord(index, name, data, start, stop, "FAILED", None, *_pair(exc)))
            self.results[index] = None
            self._failed(exc, size)
            return
        self._succeeded(ChildRecord(index, name, data, start, clock.now(), "SUCCEEDED", output))

    def _succeeded(self, child: ChildRecord) -> None:
        writer = self.state.result_writer
        if writer is not None and writer.resource:
            self.sink.add(child)
        elif writer is not None:
            self.results[child.index] = list(self.sink.values(child))
        else:
            self.results[child.index] = child.output

    def _failed(self, exc: StatesError, size: int) -> None:
        self.failures += size
        tolerant = self.count is not None or self.pct is not None
        if not tolerant:
            self._fail(exc)
        elif self._over_threshold(eager=True):
            self._fail(_THRESHOLD)

    def _over_threshold(self, eager: bool) -> bool:
        """Past ToleratedFailureCount, or past the percentage once the total is known."""
        if self.count is not None and self.failures > self.count:
            return True
        return (self.total is not None or not eager) and self._over_percentage()

    def _over_percentage(self) -> bool:
        total = self.total if self.total is not None else self.read
        return self.pct is not None and total > 0 and 100.0 * self.failures / total > self.pct

    def _fail(self, exc: StatesError) -> None:
        if self.failure is None:
            self.failure = exc
            if self.group is not None:
                self.group.cancel_scope.cancel()

    # -- results -----------------------------------------------------------------------

    async def _export(self) -> Any:
        writer = self.state.result_writer
        if writer is None or not writer.resource:
            return self._in_order(writer is not None)
        params = self._evaluate(writer.parameters) if writer.parameters is not None else {}
        bucket, prefix = str(params.get("Bucket", "")), str(params.get("Prefix", "") or "")
        resource = parse_resource(writer.resource, self.exe.options.region)
        # By pattern, not by state: a mock of the Map state answers its ItemReader only.
        store: Any = self.exe.adapters.resolve("", resource)
        try:
            return await self._blocking(self.sink.write, bucket, prefix, store.put)
        except StatesError as exc:
            raise MapRunFailure("States.ResultWriterFailed", exc.cause or exc.error) from None
        except Exception as exc:
            raise MapRunFailure("States.ResultWriterFailed", _describe(exc)) from None

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


def _same(value: Any) -> Any:
    return value


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
