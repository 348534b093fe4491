"""The compiled, immutable model of a state machine.

Every path, payload template, intrinsic call, Choice rule and JSONata expression is
compiled once by :mod:`asl.compiler` into an object with an ``evaluate``/``get`` method;
the runtime only calls them. Nothing here parses text.

A field that may be absent, ``null`` or set is modelled with :data:`DEFAULT` (absent: the
spec's default applies), ``None`` (JSON ``null``) or the compiled object.

A compiled machine is shared (``asl.compile_definition`` hands every caller of an equal
definition the same one), so it is read-only all the way down: the dataclasses are frozen,
and its mappings and the JSON it keeps (``definition``, each state's ``raw``, a Pass
``Result``, a Map's literal ``Items``) are :class:`ReadOnlyDict` / :class:`ReadOnlyList`,
which raise TypeError naming the change tried. They are a dict and a list otherwise (equal
to plain ones, written by :mod:`json`); ``copy.deepcopy`` or :func:`thaw` gives a plain copy.
``definition`` and ``raw`` are copied from the compiled source on first use, so a run that
never reads them does not pay for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NoReturn, Protocol, SupportsIndex

__all__ = [
    "DEFAULT",
    "Branch",
    "Catcher",
    "ChoiceRule",
    "ChoiceState",
    "Evaluable",
    "FailState",
    "ItemBatcher",
    "ItemReader",
    "JsonataEvaluable",
    "MapState",
    "ParallelState",
    "PassState",
    "PathLike",
    "QueryLanguage",
    "ReadOnlyDict",
    "ReadOnlyList",
    "ResultWriter",
    "Retrier",
    "State",
    "StateMachine",
    "SucceedState",
    "TaskState",
    "WaitState",
    "freeze",
    "thaw",
]

QueryLanguage = Literal["JSONPath", "JSONata"]


class _Default:
    """Marks a field left out of the definition (its spec default applies)."""

    _instance: _Default | None = None

    def __new__(cls) -> _Default:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFAULT"

    def __bool__(self) -> bool:
        return False


DEFAULT: Final = _Default()


def _refuse(what: str) -> NoReturn:
    raise TypeError(
        f"cannot {what}: a compiled state machine is read-only (every compile of an equal "
        "definition shares it); compile an edited copy.deepcopy(machine.definition) instead"
    )


class ReadOnlyDict(dict[str, Any]):
    """A dict of a compiled machine: reads as a dict, refuses every change in place."""

    __slots__ = ()

    def __setitem__(self, key: str, value: Any) -> NoReturn:
        _refuse(f"set key {key!r}")

    def __delitem__(self, key: str) -> NoReturn:
        _refuse(f"delete key {key!r}")

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        _refuse("update it (|=)")

    def clear(self) -> NoReturn:
        _refuse("clear it")

    def pop(self, key: str, *default: Any) -> NoReturn:
        _refuse(f"pop key {key!r}")

    def popitem(self) -> NoReturn:
        _refuse("popitem")

    def setdefault(self, key: str, default: Any = None) -> NoReturn:
        _refuse(f"setdefault key {key!r}")

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("update it")

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        plain: dict[str, Any] = thaw(self)
        return plain

    def __reduce__(self) -> tuple[Any, ...]:  # pickled (for worker processes) as it is
        return (ReadOnlyDict, (dict(self),))


class ReadOnlyList(list[Any]):
    """A list of a compiled machine: reads as a list, refuses every change in place."""

    __slots__ = ()

    def __setitem__(self, index: Any, value: Any) -> NoReturn:
        _refuse(f"set item {index!r}")

    def __delitem__(self, index: Any) -> NoReturn:
        _refuse(f"delete item {index!r}")

    def __iadd__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        _refuse("extend it (+=)")

    def __imul__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        _refuse("repeat it (*=)")

    def append(self, value: Any) -> NoReturn:
        _refuse("append to it")

    def extend(self, values: Any) -> NoReturn:
        _refuse("extend it")

    def insert(self, index: SupportsIndex, value: Any) -> NoReturn:
        _refuse("insert into it")

    def pop(self, index: SupportsIndex = -1) -> NoReturn:
        _refuse("pop from it")

    def remove(self, value: Any) -> NoReturn:
        _refuse("remove from it")

    def clear(self) -> NoReturn:
        _refuse("clear it")

    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("sort it")

    def reverse(self) -> NoReturn:
        _refuse("reverse it")

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        plain: list[Any] = thaw(self)
        return plain

    def __reduce__(self) -> tuple[Any, ...]:
        return (ReadOnlyList, (list(self),))


def freeze(value: Any) -> Any:
    """A read-only copy of the JSON ``value`` (scalars are themselves)."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if isinstance(value, Mapping):
        return ReadOnlyDict({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return ReadOnlyList([freeze(item) for item in value])
    if isinstance(value, tuple):  # not JSON, but already read-only: kept a tuple
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """A plain (mutable) copy of a read-only JSON value; anything else is itself."""
    kind = type(value)
    if kind is ReadOnlyDict:
        return {key: thaw(item) for key, item in value.items()}
    if kind is ReadOnlyList:
        return [thaw(item) for item in value]
    return value


class Evaluable(Protocol):
    """A compiled JSONPath-mode value: template, intrinsic call or path wrapper."""

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any: ...


class PathLike(Protocol):
    """A compiled JSONPath (see :mod:`asl.paths`)."""

    text: str

    def get(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any: ...


class JsonataEvaluable(Protocol):
    """A compiled JSONata-mode field value (see :mod:`asl.jsonata`)."""

    def evaluate(self, bindings: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class Retrier:
    """One entry of a state's ``Retry`` array (SPEC §Retrying after an error)."""

    error_equals: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter_full: bool = False


@dataclass(frozen=True, slots=True)
class Catcher:
    """One entry of a state's ``Catch`` array (SPEC §Fallback states)."""

    error_equals: tuple[str, ...]
    next: str
    #: JSONPath ResultPath: DEFAULT (``$``), None (discard), or a reference path.
    result_path: Any = DEFAULT
    #: JSONata ``Output`` of the catcher, if any.
    output: JsonataEvaluable | None = None
    #: ``Assign`` of the catcher (JSONPath template or JSONata value), if any.
    assign: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Fields common to every state type."""

    name: str
    type: str
    query_language: QueryLanguage = "JSONPath"
    #: The next state's name, or None for a terminal state.
    next: str | None = None
    comment: str | None = None
    #: JSONPath: InputPath / OutputPath: DEFAULT (``$``), None (``null``) or a path.
    input_path: Any = DEFAULT
    output_path: Any = DEFAULT
    #: ``Assign``: compiled JSONPath template or JSONata value, or None.
    assign: Any = None
    #: JSONata ``Output``, or None.
    output: JsonataEvaluable | None = None
    #: False when nothing in the state can read the context object (``$$`` or
    #: ``$states.context``): a runtime need not build one for it.
    uses_context: bool = True
    #: The definition of this state as written (private: see :attr:`raw`).
    _source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _raw: Mapping[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def raw(self) -> Mapping[str, Any]:
        """The definition of this state as written (for traces and reports), read-only.

        Copied on first use: a run that never reads it never pays for the copy."""
        raw = self._raw
        if raw is None:
            raw = freeze(self._source)
            object.__setattr__(self, "_raw", raw)
        return raw

    @property
    def is_end(self) -> bool:
        """True when the state ends its scope (End, Succeed, Fail)."""
        return self.next is None


@dataclass(frozen=True, slots=True, kw_only=True)
class _WithResult(State):
    """States that produce a result: Pass, Task, Parallel, Map."""

    #: JSONPath Parameters (or Map ItemSelector) template, or None.
    parameters: Evaluable | None = None
    #: JSONPath ResultSelector template, or None.
    result_selector: Evaluable | None = None
    #: JSONPath ResultPath: DEFAULT (``$``), None (discard), or a reference path.
    result_path: Any = DEFAULT


@dataclass(frozen=True, slots=True, kw_only=True)
class _WithErrors(_WithResult):
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    #: JSONata ``Arguments``, or None.
    arguments: JsonataEvaluable | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PassState(_WithResult):
    """Pass: passes its input (or ``Result``) on."""

    result: Any = DEFAULT


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState(_WithErrors):
    """Task: calls the resource."""

    resource: str = ""
    #: Seconds, a reference path (TimeoutSecondsPath), a JSONata value, or None.
    timeout_seconds: Any = None
    heartbeat_seconds: Any = None
    credentials: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceRule:
    """A top-level Choice rule: its condition and where it leads."""

    condition: Any  # asl.choice.Condition or a JSONata value / bool
    next: str
    assign: Any = None
    output: JsonataEvaluable | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceState(State):
    """Choice: the first rule that matches picks the next state."""

    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitState(State):
    """Wait: one of Seconds, SecondsPath, Timestamp, TimestampPath."""

    #: "Seconds" | "SecondsPath" | "Timestamp" | "TimestampPath"
    mode: str = "Seconds"
    #: int seconds, epoch seconds of a literal Timestamp, a compiled path, or a JSONata
    #: value.
    value: Any = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SucceedState(State):
    """Succeed: ends its scope successfully."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FailState(State):
    """Fail: ends the execution (or branch) with an error and cause."""

    error: Any = None
    cause: Any = None
    #: True when ``error``/``cause`` are paths or intrinsics (ErrorPath/CausePath).
    error_is_path: bool = False
    cause_is_path: bool = False


@dataclass(frozen=True, slots=True)
class Branch:
    """A closed scope of states: the machine, a Parallel branch, a Map processor."""

    start_at: str
    states: Mapping[str, State]
    #: Map ProcessorConfig Mode: "INLINE" or "DISTRIBUTED".
    mode: str = "INLINE"
    #: False when no state in this scope can wait on anything (no Task, Wait or Retry
    #: delay, nested scopes included): a runtime may then run it without a new task.
    may_block: bool = True
    #: A Distributed Map processor's ProcessorConfig ExecutionType: "STANDARD" or "EXPRESS".
    execution_type: str = "STANDARD"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelState(_WithErrors):
    """Parallel: runs every branch on the same input."""

    branches: tuple[Branch, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MapState(_WithErrors):
    """Map: runs its processor once per item."""

    processor: Branch = field(default_factory=lambda: Branch("", {}))
    #: JSONPath ItemsPath (DEFAULT = ``$``) or JSONata ``Items`` value.
    items_path: Any = DEFAULT
    items: Any = None
    #: ItemSelector / Parameters (JSONPath template or JSONata value), or None.
    item_selector: Any = None
    #: int, a reference path (MaxConcurrencyPath) or a JSONata value.
    max_concurrency: Any = None
    tolerated_failure_count: Any = None
    tolerated_failure_percentage: Any = None
    item_reader: ItemReader | None = None
    item_batcher: ItemBatcher | None = None
    result_writer: ResultWriter | None = None
    #: Map Run label (Distributed Map), or None for the state name.
    label: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemReader:
    """A Distributed Map's ItemReader: where its items come from."""

    #: The S3 API ARN, e.g. ``arn:aws:states:::s3:getObject``.
    resource: str
    #: Parameters (JSONPath template) or Arguments (JSONata value), or None.
    parameters: Any = None
    #: ReaderConfig InputType: "JSON", "JSONL", "CSV", "MANIFEST", or None (listObjectsV2).
    input_type: str | None = None
    #: CSVHeaderLocation: "FIRST_ROW" or "GIVEN".
    csv_header_location: str = "FIRST_ROW"
    csv_headers: tuple[str, ...] = ()
    #: CSVDelimiter: "COMMA", "PIPE", "SEMICOLON", "SPACE" or "TAB".
    csv_delimiter: str = "COMMA"
    #: MaxItems: ``("value", n)``, ``("path", path)``, ``("jsonata", expr)`` or None.
    max_items: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemBatcher:
    """A Distributed Map's ItemBatcher: items grouped into one child input each."""

    #: Number specs like :attr:`ItemReader.max_items`, or None.
    max_items_per_batch: Any = None
    max_input_bytes_per_batch: Any = None
    #: BatchInput (JSONPath template or JSONata value), or None.
    batch_input: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultWriter:
    """A Distributed Map's ResultWriter: where and how child results are exported."""

    #: ``arn:aws:states:::s3:putObject``, or None (WriterConfig only: no export).
    resource: str | None = None
    #: Parameters (JSONPath template) or Arguments (JSONata value) with Bucket and Prefix.
    parameters: Any = None
    #: WriterConfig OutputType ("JSON" or "JSONL") and Transformation
    #: ("NONE", "COMPACT" or "FLATTEN"); None when WriterConfig is absent.
    output_type: str | None = None
    transformation: str | None = None


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A compiled state machine."""

    start_at: str
    states: Mapping[str, State]
    query_language: QueryLanguage = "JSONPath"
    timeout_seconds: int | None = None
    comment: str | None = None
    #: Every state of the machine, nested ones included, by (unique) name.
    all_states: Mapping[str, State] = field(default_factory=dict, repr=False)
    #: The definition compiled (private: see :attr:`definition`).
    _source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _definition: Mapping[str, Any] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def definition(self) -> Mapping[str, Any]:
        """The definition compiled, read-only (``copy.deepcopy`` gives a plain copy).

        Copied on first use: a run that never reads it never pays for the copy."""
        definition = self._definition
        if definition is None:
            definition = freeze(self._source)
            object.__setattr__(self, "_definition", definition)
        return definition

    @property
    def root(self) -> Branch:
        """The top-level scope as a :class:`Branch`."""
        return Branch(self.start_at, self.states)
