"""ResultWriter: the child executions' results, as AWS exports them (DG:
input-output-resultwriter).

With a ``Resource`` (``arn:aws:states:::s3:putObject``) the results go to
``<Prefix>/<map run id>/``: one file per status, ``SUCCEEDED_0.json`` and
``FAILED_0.json`` (``.jsonl`` for OutputType JSONL; a file past :data:`MAX_FILE_BYTES`
continues in ``_1``, ``_2``...), then ``manifest.json`` listing them::

    {"DestinationBucket": "...", "MapRunArn": "...",
     "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": "...", "Size": 1094}]}}

and the Map state's result is ``{"MapRunArn": ..., "ResultWriterDetails": {"Bucket": ...,
"Key": ".../manifest.json"}}``. Each record of a child execution carries AWS's fields
(``ExecutionArn``, ``Input`` and ``Output`` as JSON text, ``InputDetails``, ``Name``,
``RedriveCount``, ``RedriveStatus``, ``StartDate``, ``StateMachineArn``, ``Status``,
``StopDate``, and ``Error``/``Cause`` for a failure).

``WriterConfig.Transformation``: ``NONE`` writes those records (the default when exporting);
``COMPACT`` only the outputs (the default without a ResultWriter); ``FLATTEN`` the outputs
with array outputs spliced in. A failed child is always written as its full record.
Records are spooled to temporary files as children end, so memory does not grow with the
number of children.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from runtime.engine.events import dumps, iso_timestamp

__all__ = ["MAX_FILE_BYTES", "ChildRecord", "ResultSink"]

#: Where a results file stops and the next one of its status begins.
MAX_FILE_BYTES = 5 * 1024**3

#: Spooled results stay in memory up to this size, then move to a temporary file.
_SPOOL_BYTES = 8 * 1024 * 1024

_STATUSES = ("FAILED", "PENDING", "SUCCEEDED")


@dataclass(frozen=True, slots=True)
class ChildRecord:
    """One ended child execution of a Map Run."""

    index: int
    name: str
    input: Any
    start: float
    stop: float
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None

    def record(self, execution_arn: str, state_machine_arn: str) -> dict[str, Any]:
        """The child as AWS writes it in a results file (NONE), keys in AWS's order."""
        fields: dict[str, Any] = {}
        if self.status != "SUCCEEDED":
            fields["Cause"] = self.cause or ""
            fields["Error"] = self.error or ""
        fields["ExecutionArn"] = execution_arn
        fields["Input"] = dumps(self.input)
        fields["InputDetails"] = {"Included": True}
        fields["Name"] = self.name
        if self.status == "SUCCEEDED":
            fields["Output"] = dumps(self.output)
            fields["OutputDetails"] = {"Included": True}
        fields["RedriveCount"] = 0
        if self.status == "SUCCEEDED":
            fields["RedriveStatus"] = "NOT_REDRIVABLE"
            fields["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
        else:
            fields["RedriveStatus"] = "REDRIVABLE"
        fields["StartDate"] = iso_timestamp(self.start)
        fields["StateMachineArn"] = state_machine_arn
        fields["Status"] = self.status
        fields["StopDate"] = iso_timestamp(self.stop)
        return fields


@dataclass
class _Spool:
    """The results of one status, as the text of its files."""

    suffix: str
    jsonl: bool
    files: list[IO[bytes]] = field(default_factory=list)
    count: int = 0

    def add(self, text: str) -> None:
        data = text.encode("utf-8")
        if not self.files or self.files[-1].tell() + len(data) + 2 > MAX_FILE_BYTES:
            self._close_last()
            self.files.append(tempfile.SpooledTemporaryFile(_SPOOL_BYTES))  # noqa: SIM115
            self.count = 0
        handle = self.files[-1]
        if self.jsonl:
            handle.write(data + b"\n")
        else:
            handle.write((b"," if self.count else b"[") + data)
        self.count += 1

    def _close_last(self) -> None:
        if self.files and not self.jsonl:
            self.files[-1].write(b"]")

    def finished(self) -> list[IO[bytes]]:
        self._close_last()
        self.count = 0
        return self.files


class ResultSink:
    """Collects a Map Run's child results and writes or returns them."""

    def __init__(
        self,
        map_run_arn: str,
        child_prefix: str,
        state_machine_arn: str,
        transformation: str,
        output_type: str = "JSON",
    ) -> None:
        self.map_run_arn = map_run_arn
        self.child_prefix = child_prefix
        self.state_machine_arn = state_machine_arn
        self.transformation = transformation
        jsonl = output_type == "JSONL"
        self.extension = ".jsonl" if jsonl else ".json"
        self.spools = {status: _Spool(status, jsonl) for status in _STATUSES}

    def add(self, child: ChildRecord) -> None:
        """Spool one ended child."""
        spool = self.spools["SUCCEEDED" if child.status == "SUCCEEDED" else "FAILED"]
        for value in self.values(child):
            spool.add(dumps(value))

    def values(self, child: ChildRecord) -> Iterator[Any]:
        """What the transformation keeps of one child (FLATTEN may give several)."""
        if child.status != "SUCCEEDED" or self.transformation == "NONE":
            yield child.record(f"{self.child_prefix}:{child.name}", self.state_machine_arn)
        elif self.transformation == "FLATTEN" and isinstance(child.output, list):
            yield from child.output
        else:
            yield child.output

    def close(self) -> None:
        """Release the spooled files (a Map Run without an export, or one that failed)."""
        for spool in self.spools.values():
            for handle in spool.files:
                handle.close()

    def write(self, bucket: str, prefix: str, put: Callable[[str, str, IO[bytes]], int]) -> Any:
        """Write the files and the manifest with ``put``; return the Map's result."""
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        folder = f"{prefix}{self.map_run_arn.rsplit(':', 1)[-1]}/"
        files: dict[str, list[dict[str, Any]]] = {status: [] for status in _STATUSES}
        for status, spool in self.spools.items():
            for number, handle in enumerate(spool.finished()):
                key = f"{folder}{status}_{number}{self.extension}"
                files[status].append({"Key": key, "Size": put(bucket, key, handle)})
                handle.close()
        manifest = {
            "DestinationBucket": bucket,
            "MapRunArn": self.map_run_arn,
            "ResultFiles": files,
        }
        key = f"{folder}manifest.json"
        with tempfile.TemporaryFile() as handle:
            handle.write(dumps(manifest).encode("utf-8"))
            put(bucket, key, handle)
        return {
            "MapRunArn": self.map_run_arn,
            "ResultWriterDetails": {"Bucket": bucket, "Key": key},
        }
