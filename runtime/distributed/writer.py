"""ResultWriter: the child executions' results, as AWS exports them (DG:
input-output-resultwriter; the layout and records below as captured from AWS, see the
README's Distributed Map section).

With a ``Resource`` (``arn:aws:states:::s3:putObject``) the results go to
``<Prefix>/<map run id>/`` (a redrive's to ``<Prefix>/<map run id>/Redrive-<n>/``): one
file per status, ``SUCCEEDED_0.json``, ``FAILED_0.json`` and ``PENDING_0.json``
(``.jsonl`` for OutputType JSONL; a file past :data:`MAX_FILE_BYTES` continues in ``_1``,
``_2``...; a status with no record has no file), then ``manifest.json`` listing them::

    {"DestinationBucket": "...", "MapRunArn": "...",
     "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": "...", "Size": 1094}]}}

A redrive's manifest lists, under ``SUCCEEDED``, the SUCCEEDED files of the generations
before it and then its own; under ``FAILED`` and ``PENDING`` only its own.

The Map state's result is ``{"MapRunArn": ..., "ResultWriterDetails": {"Bucket": ...,
"Key": ".../manifest.json"}}``. Each record of a child execution carries AWS's fields
(``ExecutionArn``, ``Input`` and ``Output`` as JSON text, ``InputDetails``, ``Name``,
``OutputDetails``, ``RedriveCount``, ``RedriveStatus``, ``StartDate``, ``StateMachineArn``,
``Status``, ``StopDate``; ``Error``/``Cause`` for a child that did not succeed, when it
has them). FAILED files hold the children that failed, timed out or were aborted; a child
that never started is a PENDING record, ``{"Input": ..., "InputDetails": {"Included":
true}, "Status": "PENDING"}``. Express children's records have no ``RedriveStatus``.

``WriterConfig.Transformation``: ``NONE`` writes those records (the default when exporting);
``COMPACT`` only the outputs (the default without a ResultWriter); ``FLATTEN`` the outputs
with array outputs spliced in. A child that did not succeed is always written as its full
record. Records are spooled to temporary files as children end, so memory does not grow
with the number of children.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import IO, Any

from runtime.distributed.runs import child_arn, express_id
from runtime.engine.events import dumps, iso_timestamp, json_chunks

__all__ = [
    "MAX_FILE_BYTES",
    "ChildRecord",
    "ResultSink",
    "aborted_cause",
    "earlier_succeeded",
    "result_folder",
]

#: Where a results file stops and the next one of its status begins.
MAX_FILE_BYTES = 5 * 1024**3

#: Spooled results stay in memory up to this size, then move to a temporary file.
_SPOOL_BYTES = 8 * 1024 * 1024

_STATUSES = ("FAILED", "PENDING", "SUCCEEDED")

#: ``RedriveStatus`` of a Standard child that did not succeed: a redrive of its Map Run
#: (of the parent execution) runs it again.
_REDRIVABLE = "REDRIVABLE_BY_MAP_RUN"


def aborted_cause(map_run_arn: str) -> str:
    """The ``Cause`` of a child the Map Run aborted when it failed, as AWS words it."""
    return f"The map run execution [{map_run_arn}] which was managing this resource was aborted"


def result_folder(prefix: str, map_run_arn: str, generation: int) -> str:
    """Where a Map Run's results go: ``<Prefix>/<map run id>/``, and a redrive's under
    ``Redrive-<generation>/`` in it."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = f"{prefix}{map_run_arn.rsplit(':', 1)[-1]}/"
    return f"{folder}Redrive-{generation}/" if generation else folder


def earlier_succeeded(
    get: Callable[[Mapping[str, Any]], IO[bytes]],
    bucket: str,
    prefix: str,
    map_run_arn: str,
    generation: int,
) -> list[dict[str, Any]] | None:
    """The ``SUCCEEDED`` entries a redrive's manifest carries over: those of the manifest
    the generation before it wrote, or None when that generation wrote none (it was
    aborted, or failed before its export)."""
    key = f"{result_folder(prefix, map_run_arn, generation - 1)}manifest.json"
    try:
        body = get({"Bucket": bucket, "Key": key})
    except Exception as exc:
        if _missing(exc):
            return None
        raise
    try:
        manifest = json.loads(body.read())
    finally:
        body.close()
    files = manifest.get("ResultFiles") if isinstance(manifest, dict) else None
    entries = files.get("SUCCEEDED") if isinstance(files, dict) else None
    if not isinstance(entries, list):
        raise ValueError(
            f"s3://{bucket}/{key} is not a Map Run manifest (no ResultFiles.SUCCEEDED)."
        )
    return [{"Key": entry["Key"], "Size": entry["Size"]} for entry in entries]


def _missing(exc: Exception) -> bool:
    """An S3 NoSuchKey, from boto3 or a local bucket."""
    if getattr(exc, "error", None) == "S3.NoSuchKeyException":
        return True
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in ("NoSuchKey", "404")


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
    #: Items the child held (more than one with an ItemBatcher).
    size: int = 1
    #: Times the child was redriven (a Map Run's redrive re-runs its failed children).
    redrive_count: int = 0

    def record(
        self, execution_arn: str, state_machine_arn: str, express: bool = False
    ) -> dict[str, Any]:
        """The child as AWS writes it in a results file (NONE), keys in AWS's order."""
        fields: dict[str, Any] = {}
        succeeded = self.status == "SUCCEEDED"
        if not succeeded:
            if self.cause is not None:
                fields["Cause"] = self.cause
            if self.error is not None:
                fields["Error"] = self.error
        fields["ExecutionArn"] = execution_arn
        fields["Input"] = dumps(self.input)
        fields["InputDetails"] = {"Included": True}
        fields["Name"] = self.name
        if succeeded:
            fields["Output"] = dumps(self.output)
        fields["OutputDetails"] = {"Included": True}
        fields["RedriveCount"] = self.redrive_count
        if express:
            pass  # an Express child is not redriven on its own: no redrive status
        elif succeeded:
            fields["RedriveStatus"] = "NOT_REDRIVABLE"
            fields["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
        else:
            fields["RedriveStatus"] = _REDRIVABLE
        fields["StartDate"] = iso_timestamp(self.start)
        fields["StateMachineArn"] = state_machine_arn
        fields["Status"] = self.status
        fields["StopDate"] = iso_timestamp(self.stop)
        return fields

    def text(
        self,
        execution_arn: str,
        state_machine_arn: str,
        input_text: str | None,
        express: bool = False,
    ) -> str:
        """``dumps(self.record(...))``, written out directly: one per child of a Map Run,
        so the record's dict and its re-serialisation are skipped (``input_text``: the
        input's JSON when the caller has it)."""
        name = encode_basestring(self.name)
        arn, machine = encode_basestring(execution_arn), encode_basestring(state_machine_arn)
        return self.encoded_text(arn, machine, name, input_text, express)

    def encoded_text(
        self, arn: str, machine: str, name: str, input_text: str | None, express: bool = False
    ) -> str:
        """:meth:`text` with the execution ARN, state machine ARN and name already as JSON
        strings (a Map Run's share one prefix and one state machine)."""
        if input_text is None:
            input_text = dumps(self.input)
        redrives = f',"RedriveCount":{int(self.redrive_count)}'
        if self.status == "SUCCEEDED":
            head = ""
            tail = (
                f',"Output":{encode_basestring(dumps(self.output))},'
                f'"OutputDetails":{{"Included":true}}{redrives}'
            )
            if not express:
                tail += f",{_SUCCEEDED_REDRIVE}"
        else:
            head = "".join(
                f'"{key}":{encode_basestring(value)},'
                for key, value in (("Cause", self.cause), ("Error", self.error))
                if value is not None
            )
            tail = f',"OutputDetails":{{"Included":true}}{redrives}'
            if not express:
                tail += f',"RedriveStatus":"{_REDRIVABLE}"'
        return (
            f'{{{head}"ExecutionArn":{arn},'
            f'"Input":{encode_basestring(input_text)},"InputDetails":{{"Included":true}},'
            f'"Name":{name}{tail},'
            f'"StartDate":"{iso_timestamp(self.start)}",'
            f'"StateMachineArn":{machine},'
            f'"Status":{encode_basestring(self.status)},'
            f'"StopDate":"{iso_timestamp(self.stop)}"}}'
        )


#: A succeeded child's redrive fields in its record, after its RedriveCount.
_SUCCEEDED_REDRIVE = (
    '"RedriveStatus":"NOT_REDRIVABLE",'
    '"RedriveStatusReason":"Execution is SUCCEEDED and cannot be redriven"'
)

_CHUNKS = json_chunks()


def _json(value: Any) -> str:
    """``dumps(value)``, from one shared C encoder (``dumps`` wraps it in Python calls)."""
    return "".join(_CHUNKS(value, 0))


#: The last timestamp rendered, with its text: children of a Map Run on the virtual clock
#: all start and stop at one instant.
_last_timestamp: list[tuple[float, str]] = [(-1.0, "")]


def _timestamp(epoch: float) -> str:
    epoch_seen, text = _last_timestamp[0]
    if epoch_seen != epoch:
        text = iso_timestamp(epoch)
        _last_timestamp[0] = (epoch, text)
    return text


#: Records are gathered up to this many bytes before they are written to their file.
_BUFFER_BYTES = 1 << 20


@dataclass
class _Spool:
    """The results of one status, as the text of its files."""

    suffix: str
    jsonl: bool
    files: list[IO[bytes]] = field(default_factory=list)
    #: Records in the last file, and its bytes so far (with those still in ``pending``).
    count: int = 0
    size: int = 0
    pending: list[bytes] = field(default_factory=list)
    pending_bytes: int = 0

    def add(self, text: str | bytes) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        self._put(data, 1)

    def add_joined(self, joined: bytes, lengths: list[int]) -> None:
        """Spool records joined by the byte that separates them in the file (``,`` in a
        JSON array, ``\\n`` in JSON Lines), with each record's length: at once, unless
        the file would pass its size there."""
        if not lengths:
            return
        if self.size + len(joined) + 2 > MAX_FILE_BYTES:
            at = 0
            for length in lengths:
                self._put(joined[at : at + length], 1)
                at += length + 1
            return
        self._put(joined, len(lengths))

    def _put(self, data: bytes, records: int) -> None:
        """Add ``data`` (``records`` records, joined) to the last file, or a new one."""
        if not self.files or self.size + len(data) + 2 > MAX_FILE_BYTES:
            self._close_last()
            self.files.append(tempfile.SpooledTemporaryFile(_SPOOL_BYTES))  # noqa: SIM115
            self.count = self.size = 0
        if self.jsonl:
            self.pending += (data, b"\n")
        else:
            self.pending += (b"," if self.count else b"[", data)
        added = len(data) + 1
        self.size += added
        self.pending_bytes += added
        self.count += records
        if self.pending_bytes >= _BUFFER_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.files[-1].write(b"".join(self.pending))
            self.pending.clear()
            self.pending_bytes = 0

    def _close_last(self) -> None:
        if self.files:
            self._flush()
            if not self.jsonl:
                self.files[-1].write(b"]")

    def finished(self) -> list[IO[bytes]]:
        self._close_last()
        self.count = self.size = 0
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
        express: bool = False,
    ) -> None:
        self.map_run_arn = map_run_arn
        self.child_prefix = child_prefix
        self.state_machine_arn = state_machine_arn
        self.transformation = transformation
        self.output_type = output_type
        #: Express children: records without a redrive status.
        self.express = express
        jsonl = self.jsonl = output_type == "JSONL"
        self.extension = ".jsonl" if jsonl else ".json"
        #: ``"<child prefix>:`` and the state machine ARN as JSON text, for each record.
        self._arn_head = encode_basestring(f"{child_prefix}:")[:-1]
        self._machine = encode_basestring(state_machine_arn)
        self.spools = {status: _Spool(status, jsonl) for status in _STATUSES}

    def close(self) -> None:
        """Drop what is spooled (a run that failed, or one already written)."""
        for spool in self.spools.values():
            for handle in spool.files:
                handle.close()
            spool.files.clear()
            spool.pending.clear()

    def add(self, child: ChildRecord, input_text: str | None = None) -> None:
        """Spool one ended child."""
        self.add_texts(child.status, self.texts(child, input_text))

    def texts(self, child: ChildRecord, input_text: str | None = None) -> list[str]:
        """The JSON texts one child adds to its results file (``input_text``: its input's
        JSON when the caller has it)."""
        if child.status != "SUCCEEDED" or self.transformation == "NONE":
            name = encode_basestring(child.name)
            arn = self._arn_head + name[1:]  # escaping is per character: joined as text
            if self.express:
                arn = f'{arn[:-1]}:{express_id(child.name)}"'
            return [child.encoded_text(arn, self._machine, name, input_text, self.express)]
        return [dumps(value) for value in self.values(child)]

    def succeeded_texts(
        self, name: str, input_text: str, output: Any, start: float, stop: float, redrives: int
    ) -> list[str]:
        """:meth:`texts` of a child that succeeded, without building its record (the
        common case, once per child): ``name`` as :func:`~runtime.distributed.workers.
        child_name` makes it (hex digits and dashes: nothing to escape in JSON)."""
        if self.transformation != "NONE":
            if self.transformation == "FLATTEN" and isinstance(output, list):
                return [_json(value) for value in output]
            return [_json(output)]
        tail = f":{express_id(name)}" if self.express else ""
        return [
            f'{{"ExecutionArn":{self._arn_head}{name}{tail}",'
            f'"Input":{encode_basestring(input_text)},"InputDetails":{{"Included":true}},'
            f'"Name":"{name}","Output":{encode_basestring(_json(output))},'
            '"OutputDetails":{"Included":true}'
            f',"RedriveCount":{redrives},{"" if self.express else _SUCCEEDED_REDRIVE + ","}'
            f'"StartDate":"{_timestamp(start)}","StateMachineArn":{self._machine},'
            f'"Status":"SUCCEEDED","StopDate":"{_timestamp(stop)}"}}'
        ]

    def add_texts(self, status: str, texts: list[str]) -> None:
        """Spool a child's texts (rendered by :meth:`texts`, here or in a worker)."""
        spool = self.spools["SUCCEEDED" if status == "SUCCEEDED" else "FAILED"]
        for text in texts:
            spool.add(text)

    def add_joined(self, joined: bytes, lengths: list[int]) -> None:
        """Spool the records of children that succeeded, joined by a worker."""
        self.spools["SUCCEEDED"].add_joined(joined, lengths)

    def add_pending(self, input_text: str) -> None:
        """Spool a child that never started, given its input as JSON text."""
        self.spools["PENDING"].add(
            f'{{"Input":{encode_basestring(input_text)},'
            '"InputDetails":{"Included":true},"Status":"PENDING"}'
        )

    def values(self, child: ChildRecord) -> Iterator[Any]:
        """What the transformation keeps of one child (FLATTEN may give several)."""
        if child.status != "SUCCEEDED" or self.transformation == "NONE":
            arn = child_arn(self.child_prefix, child.name, self.express)
            yield child.record(arn, self.state_machine_arn, self.express)
        elif self.transformation == "FLATTEN" and isinstance(child.output, list):
            yield from child.output
        else:
            yield child.output

    def write(
        self,
        bucket: str,
        prefix: str,
        put: Callable[[str, str, IO[bytes]], int],
        generation: int = 0,
        earlier: list[dict[str, Any]] | None = None,
    ) -> Any:
        """Write the files and the manifest with ``put``; return the Map's result.

        ``generation`` is the Map Run's redrive count (its files go under
        ``Redrive-<generation>/``), ``earlier`` the SUCCEEDED files of the generations
        before it (:func:`earlier_succeeded`), which its manifest lists first."""
        folder = result_folder(prefix, self.map_run_arn, generation)
        files: dict[str, list[dict[str, Any]]] = {status: [] for status in _STATUSES}
        files["SUCCEEDED"].extend(earlier or ())
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
