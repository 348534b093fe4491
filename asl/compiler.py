"""Turn a (validated) definition into the immutable model of :mod:`asl.model`.

Every expression is compiled here, once; a syntax error becomes a
:class:`~asl.errors.DefinitionError` whose diagnostic names the JSON Pointer of the field.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from asl import model as m
from asl.errors import DefinitionError, ExpressionSyntaxError

__all__ = ["PathValue", "compile_machine"]


@dataclass(frozen=True, slots=True)
class PathValue:
    """Adapts a compiled path to the :class:`~asl.model.Evaluable` protocol."""

    path: Any

    @property
    def text(self) -> str:
        return str(self.path.text)

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        return self.path.get(data, context, variables)


def _pointer_part(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


class _At:
    """``with compiler.at(...)``: an expression error inside becomes a located DefinitionError."""

    __slots__ = ("_compiler", "_parts")

    def __init__(self, compiler: _Compiler, parts: tuple[str | int, ...]) -> None:
        self._compiler = compiler
        self._parts = parts

    def __enter__(self) -> None:
        self._compiler.stack.append(self._parts)

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        where = self._compiler.where if isinstance(exc, ExpressionSyntaxError) else None
        self._compiler.stack.pop()
        if isinstance(exc, ExpressionSyntaxError) and where is not None:
            raise _located(where, exc) from exc


#: ``compiler.at(...)`` when locations are not tracked: does nothing.
_UNTRACKED: contextlib.nullcontext[None] = contextlib.nullcontext()


class _Compiler:
    """Walks the definition; ``self.where`` is the JSON Pointer of the current field.

    With ``track`` False, no location is kept (a definition that passed validation compiles;
    should an expression be refused all the same, :func:`compile_machine` compiles again
    with ``track`` to say where).
    """

    def __init__(
        self, machine_ql: m.QueryLanguage, mentions_context: bool = True, track: bool = True
    ) -> None:
        self.machine_ql = machine_ql
        #: The reference tokens of the fields being compiled, outermost first.
        self.stack: list[tuple[str | int, ...]] = []
        self.all_states: dict[str, m.State] = {}
        #: False when no text of the definition holds ``$$`` or ``$states``.
        self.mentions_context = mentions_context
        self.track = track

    @property
    def where(self) -> str:
        """The JSON Pointer of the current field (built only when an error names it)."""
        return "".join("/" + _pointer_part(str(p)) for parts in self.stack for p in parts)

    def at(self, *parts: str | int) -> _At | contextlib.nullcontext[None]:
        """A block compiling the field at ``parts`` below the current one."""
        return _At(self, parts) if self.track else _UNTRACKED

    # -- scopes -----------------------------------------------------------------

    def branch(self, raw: Mapping[str, Any], mode: str = "INLINE") -> m.Branch:
        states: dict[str, m.State] = {}
        for name, spec in raw["States"].items():
            with self.at("States", name):
                state = self.state(name, spec)
            states[name] = state
            self.all_states[name] = state
        kind = "STANDARD"
        if mode == "DISTRIBUTED":
            kind = raw.get("ProcessorConfig", {}).get("ExecutionType", "STANDARD")
        may_block = any(map(_may_block, states.values()))
        return m.Branch(raw["StartAt"], m.ReadOnlyDict(states), mode, may_block, kind)

    def state(self, name: str, raw: Mapping[str, Any]) -> m.State:
        ql: m.QueryLanguage = raw.get("QueryLanguage", self.machine_ql)
        kind = raw["Type"]
        common: dict[str, Any] = {
            "name": name,
            "type": kind,
            "query_language": ql,
            "comment": raw.get("Comment"),
            "next": raw.get("Next"),
            "_source": raw,
            "uses_context": kind in ("Task", "Map")
            or (self.mentions_context and _mentions_context(raw)),
        }
        if ql == "JSONPath":
            # Absent, each keeps the model's default (DEFAULT), so only present ones compile.
            if "InputPath" in raw:
                common["input_path"] = self.optional(raw, "InputPath", self.path)
            if "OutputPath" in raw:
                common["output_path"] = self.optional(raw, "OutputPath", self.path)
            if "Assign" in raw:
                with self.at("Assign"):
                    common["assign"] = self.template(raw["Assign"], "Assign")
        else:
            common["output"], common["assign"] = self.output_and_assign(raw)
        builder: Callable[[Mapping[str, Any], dict[str, Any]], m.State] = getattr(
            self, "state_" + kind.lower()
        )
        return builder(raw, common)

    # -- per state type ----------------------------------------------------------

    def with_result(self, raw: Mapping[str, Any], common: dict[str, Any]) -> dict[str, Any]:
        if common["query_language"] == "JSONPath":
            if "Parameters" in raw and raw.get("Type") != "Map":
                with self.at("Parameters"):
                    common["parameters"] = self.template(raw["Parameters"], "Parameters")
            if "ResultSelector" in raw:
                with self.at("ResultSelector"):
                    common["result_selector"] = self.template(
                        raw["ResultSelector"], "ResultSelector"
                    )
            if "ResultPath" in raw:  # absent: the model's default (DEFAULT)
                common["result_path"] = self.optional(raw, "ResultPath", self.reference_path)
        return common

    def with_errors(self, raw: Mapping[str, Any], common: dict[str, Any]) -> dict[str, Any]:
        self.with_result(raw, common)
        if common["query_language"] == "JSONata" and "Arguments" in raw:
            with self.at("Arguments"):
                common["arguments"] = self.jsonata(raw["Arguments"], "Arguments")
        common["retry"] = tuple(self.retrier(r) for r in raw.get("Retry", ()))
        catchers = []
        for i, c in enumerate(raw.get("Catch", ())):
            with self.at("Catch", i):
                catchers.append(self.catcher(c, common["query_language"]))
        common["catch"] = tuple(catchers)
        return common

    def state_pass(self, raw: Mapping[str, Any], common: dict[str, Any]) -> m.State:
        self.with_result(raw, common)
        # The model's copy is read-only (the engine hands out a plain one).
        return m.PassState(result=m.freeze(raw.get("Result", m.DEFAULT)), **common)

    def state_task(self, raw: Mapping[str, Any], common: dict[str, Any]) -> m.State:
        self.with_errors(raw, common)
        ql = common["query_language"]
        return m.TaskState(
            resource=raw["Resource"],
            timeout_seconds=self.seconds(raw, "TimeoutSeconds", ql),
            heartbeat_seconds=self.seconds(raw, "HeartbeatSeconds", ql),
            credentials=self.credentials(raw.get("Credentials"), ql),
            **common,
        )

    def state_choice(self, raw: Mapping[str, Any], common: dict[str, Any]) -> m.State:
        ql = common["query_language"]
        rules = []
        for i, rule in enumerate(raw.get("Choices", ())):
            with self.at("Choices", i):
                rules.append(self.choice_rule(rule, ql))
        return m.ChoiceState(choices=tuple(rules), default=raw.get("Default"), **common)

    def state_wait(self, raw: Mapping[str, Any], common: dict[str, Any]) -> m.State:
        ql = common["query_language"]
        for mode in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath"):
            if mode in raw:
                value = raw[mode]
                with self.at(mode):
                    if mode.endswith("Path"):
                        value = self.reference_path(value)
                    elif mode == "Timestamp" and not _is_jsonata(value):
                        value = _epoch(value)
                    elif ql == "JSONata":
                        value = self.jsonata(value, mode)
                return m.WaitState(mode=mode, value=value, **common)
        return m.WaitState(**common)

    def state_succeed(self, raw: Mapping[str, Any], common: dict[str, Any]) -> m.State:
        return m.SucceedState(**common)

    def state_fail(self, raw: Mapping[str, Any], common: dict[str, Any]) -> m.State:
        ql = common["query_language"]
        fields: dict[str, Any] = {}
        for key in ("Error", "Cause"):
            low = key.lower()
            if key + "Path" in raw:
                with self.at(key + "Path"):
                    fields[low] = self.path_or_intrinsic(raw[key + "Path"])
                fields[low + "_is_path"] = True
            elif key in raw:
                with self.at(key):
                    fields[low] = self.jsonata(raw[key], key) if ql == "JSONata" else raw[key]
        return m.FailState(**fields, **common)

    def state_parallel(self, raw: Mapping[str, Any], common: dict[str, Any]) -> m.State:
        self.with_errors(raw, common)
        branches = []
        for i, b in enumerate(raw.get("Branches", ())):
            with self.at("Branches", i):
                branches.append(self.branch(b))
        return m.ParallelState(branches=tuple(branches), **common)

    def state_map(self, raw: Mapping[str, Any], common: dict[str, Any]) -> m.State:
        self.with_errors(raw, common)
        ql = common["query_language"]
        key = "ItemProcessor" if "ItemProcessor" in raw else "Iterator"
        proc_raw = raw.get(key, {"StartAt": "", "States": {}})
        mode = proc_raw.get("ProcessorConfig", {}).get("Mode", "INLINE")
        with self.at(key):
            processor = self.branch(proc_raw, mode)
        extra: dict[str, Any] = {"processor": processor}
        selector_key = "ItemSelector" if "ItemSelector" in raw else "Parameters"
        if selector_key in raw:
            with self.at(selector_key):
                extra["item_selector"] = (
                    self.jsonata(raw[selector_key], selector_key)
                    if ql == "JSONata"
                    else self.template(raw[selector_key], selector_key)
                )
        if "ItemsPath" in raw:
            extra["items_path"] = self.optional(raw, "ItemsPath", self.reference_path)
        if "Items" in raw:
            with self.at("Items"):
                extra["items"] = m.freeze(
                    self.jsonata(raw["Items"], "Items") if ql == "JSONata" else (raw["Items"])
                )
        for field_name, attr in (
            ("MaxConcurrency", "max_concurrency"),
            ("ToleratedFailureCount", "tolerated_failure_count"),
            ("ToleratedFailurePercentage", "tolerated_failure_percentage"),
        ):
            value = self.seconds(raw, field_name, ql)
            if value is not None:
                extra[attr] = value
        for key, attr, build in (
            ("ItemReader", "item_reader", self.item_reader),
            ("ItemBatcher", "item_batcher", self.item_batcher),
            ("ResultWriter", "result_writer", self.result_writer),
        ):
            if isinstance(raw.get(key), Mapping):
                with self.at(key):
                    extra[attr] = build(raw[key], ql)
        extra["label"] = raw.get("Label")
        return m.MapState(**extra, **common)

    # -- Distributed Map fields ------------------------------------------------

    def arguments(self, raw: Mapping[str, Any], ql: m.QueryLanguage) -> Any:
        """ItemReader/ResultWriter ``Parameters`` (JSONPath) or ``Arguments`` (JSONata)."""
        key = "Arguments" if ql == "JSONata" else "Parameters"
        if key not in raw:
            return None
        with self.at(key):
            return self.jsonata(raw[key], key) if ql == "JSONata" else self.template(raw[key], key)

    def item_reader(self, raw: Mapping[str, Any], ql: m.QueryLanguage) -> m.ItemReader:
        config = raw.get("ReaderConfig") or {}
        with self.at("ReaderConfig"):
            max_items = self.seconds(config, "MaxItems", ql)
        return m.ItemReader(
            resource=str(raw.get("Resource", "")),
            parameters=self.arguments(raw, ql),
            input_type=config.get("InputType"),
            csv_header_location=config.get("CSVHeaderLocation", "FIRST_ROW"),
            csv_headers=tuple(config.get("CSVHeaders", ())),
            csv_delimiter=config.get("CSVDelimiter", "COMMA"),
            max_items=max_items,
        )

    def item_batcher(self, raw: Mapping[str, Any], ql: m.QueryLanguage) -> m.ItemBatcher:
        batch_input = None
        if "BatchInput" in raw:
            with self.at("BatchInput"):
                value = raw["BatchInput"]
                batch_input = (
                    self.jsonata(value, "BatchInput")
                    if ql == "JSONata"
                    else self.template(value, "BatchInput")
                )
        return m.ItemBatcher(
            max_items_per_batch=self.seconds(raw, "MaxItemsPerBatch", ql),
            max_input_bytes_per_batch=self.seconds(raw, "MaxInputBytesPerBatch", ql),
            batch_input=batch_input,
        )

    def result_writer(self, raw: Mapping[str, Any], ql: m.QueryLanguage) -> m.ResultWriter:
        config = raw.get("WriterConfig")
        return m.ResultWriter(
            resource=raw.get("Resource"),
            parameters=self.arguments(raw, ql),
            output_type=config.get("OutputType", "JSON") if isinstance(config, Mapping) else None,
            transformation=(
                config.get("Transformation", "NONE") if isinstance(config, Mapping) else None
            ),
        )

    # -- pieces ----------------------------------------------------------------

    def optional(self, raw: Mapping[str, Any], key: str, build: Callable[[str], Any]) -> Any:
        if key not in raw:
            return m.DEFAULT
        if raw[key] is None:
            return None
        with self.at(key):
            return build(raw[key])

    def seconds(self, raw: Mapping[str, Any], key: str, ql: m.QueryLanguage) -> Any:
        """An integer field with a ``...Path`` twin (or a JSONata expression)."""
        if key + "Path" in raw:
            with self.at(key + "Path"):
                return ("path", self.reference_path(raw[key + "Path"]))
        if key in raw:
            value = raw[key]
            if ql == "JSONata":
                with self.at(key):
                    return ("jsonata", self.jsonata(value, key))
            return ("value", value)
        return None

    def retrier(self, raw: Mapping[str, Any]) -> m.Retrier:
        max_delay = raw.get("MaxDelaySeconds")
        return m.Retrier(
            error_equals=tuple(raw["ErrorEquals"]),
            interval_seconds=raw.get("IntervalSeconds", 1),
            max_attempts=raw.get("MaxAttempts", 3),
            backoff_rate=raw.get("BackoffRate", 2.0),
            max_delay_seconds=max_delay,
            jitter_full=raw.get("JitterStrategy", "NONE") == "FULL",
        )

    def catcher(self, raw: Mapping[str, Any], ql: m.QueryLanguage) -> m.Catcher:
        assign = output = None
        result_path: Any = m.DEFAULT
        if ql == "JSONPath":
            result_path = self.optional(raw, "ResultPath", self.reference_path)
            if "Assign" in raw:
                with self.at("Assign"):
                    assign = self.template(raw["Assign"], "Assign")
        else:
            output, assign = self.output_and_assign(raw)
        return m.Catcher(tuple(raw["ErrorEquals"]), raw["Next"], result_path, output, assign)

    def choice_rule(self, raw: Mapping[str, Any], ql: m.QueryLanguage) -> m.ChoiceRule:
        assign = output = None
        if ql == "JSONata":
            cond = raw.get("Condition")
            with self.at("Condition"):
                condition = self.jsonata(cond, "Condition") if isinstance(cond, str) else cond
            output, assign = self.output_and_assign(raw)
        else:
            from asl.choice import compile_choice_rule

            condition = compile_choice_rule(raw)
            if "Assign" in raw:
                with self.at("Assign"):
                    assign = self.template(raw["Assign"], "Assign")
        return m.ChoiceRule(condition=condition, next=raw["Next"], assign=assign, output=output)

    def output_and_assign(self, raw: Mapping[str, Any]) -> tuple[Any, Any]:
        """JSONata ``Output`` and ``Assign`` of a state, rule or catcher (None if absent)."""
        compiled = []
        for key in ("Output", "Assign"):
            value = None
            if key in raw:
                with self.at(key):
                    value = self.jsonata(raw[key], key)
            compiled.append(value)
        return compiled[0], compiled[1]

    def credentials(self, raw: Any, ql: m.QueryLanguage) -> Any:
        if raw is None:
            return None
        with self.at("Credentials"):
            if ql == "JSONata":
                return self.jsonata(raw, "Credentials")
            return self.template(raw, "Credentials")

    def path(self, text: str) -> Any:
        return _paths().compile_path(text)

    def reference_path(self, text: str) -> Any:
        return _paths().compile_reference_path(text)

    def path_or_intrinsic(self, text: str) -> Any:
        if text.startswith("$"):
            return PathValue(self.path(text))
        from asl.intrinsics import compile_intrinsic

        return compile_intrinsic(text)

    def template(self, value: Any, field: str) -> Any:
        return _templates().compile_template(value, field=field)

    def jsonata(self, value: Any, field: str) -> Any:
        from asl.jsonata import compile_value

        return compile_value(value, field=field)


@functools.cache
def _paths() -> ModuleType:
    import asl.paths  # on first use: the model's import stays light

    return asl.paths


@functools.cache
def _templates() -> ModuleType:
    import asl.template

    return asl.template


def _is_jsonata(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def _epoch(text: Any) -> float:
    """A literal Wait ``Timestamp`` as epoch seconds, parsed once."""
    from asl.timestamps import parse_timestamp

    parsed = parse_timestamp(text) if isinstance(text, str) else None
    if parsed is None:
        raise ExpressionSyntaxError("not an RFC 3339 timestamp", str(text))
    return parsed.timestamp()


def _mentions_context(raw: Mapping[str, Any]) -> bool:
    """Could an expression of this state read the context object?"""
    import json

    text = json.dumps(raw)
    return "$$" in text or "$states" in text


def _may_block(state: m.State) -> bool:
    kind = type(state)
    if kind is m.PassState or kind is m.ChoiceState:
        return False
    if isinstance(state, m.TaskState | m.WaitState):
        return True
    if isinstance(state, m.ParallelState):
        return bool(state.retry) or any(b.may_block for b in state.branches)
    if isinstance(state, m.MapState):
        return bool(state.retry) or state.processor.may_block
    return False


def _located(where: str, exc: ExpressionSyntaxError) -> DefinitionError:
    from asl.validate.diagnostics import Diagnostic

    diag = Diagnostic(
        severity="ERROR",
        code="INVALID_EXPRESSION",
        message=f"{exc.message} in {exc.text!r} at position {exc.position}",
        location=where or "/",
    )
    return DefinitionError([diag])


def compile_machine(definition: Mapping[str, Any], text: str | None = None) -> m.StateMachine:
    """Compile a definition that passed validation into a :class:`~asl.model.StateMachine`.

    ``text``, when given, is the definition's JSON text (it spares a look at each state's
    own text when nothing in the definition reads the context object). Raises
    :class:`DefinitionError` if an expression in it does not compile.
    """
    ql: m.QueryLanguage = definition.get("QueryLanguage", "JSONPath")
    mentions = text is None or "$$" in text or "$states" in text
    compiler = _Compiler(ql, mentions, track=False)
    try:
        root = compiler.branch(definition)
    except ExpressionSyntaxError:  # compile again, this time keeping track of where
        compiler = _Compiler(ql, mentions)
        root = compiler.branch(definition)
    return m.StateMachine(
        start_at=root.start_at,
        states=root.states,
        query_language=ql,
        timeout_seconds=definition.get("TimeoutSeconds"),
        comment=definition.get("Comment"),
        all_states=m.ReadOnlyDict(compiler.all_states),
        _source=definition,
    )
