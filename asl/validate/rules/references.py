"""What each state reads: workflow variables, and the ``$states`` fields of its JSONata.

The variable rules (:mod:`asl.validate.rules.variables`) need, for every state, the
variables it reads and where. A read is found by compiling the text with the compilers the
runtime uses, so the validator sees exactly the references the runtime will follow:

* JSONPath states: ``$name...`` paths in path fields, in ``.$`` values of payload templates
  and ``Assign``, and as intrinsic function arguments (SPEC §State Machine Variables).
* JSONata states: ``$name`` in ``{% %}`` expressions, less ``$states``, function
  parameters, ``:=`` locals and functions (the engine's own static analysis, see
  :meth:`asl.jsonata.JsonataExpression.reads`).

Text that does not compile is skipped here: :mod:`asl.validate.rules.expressions` reports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from asl.errors import ExpressionSyntaxError
from asl.validate.rules.expressions import NOT_EXPRESSIONS as _NOT_EXPRESSIONS
from asl.validate.rules.walk import StateRef, pointer_join

__all__ = ["JsonataSite", "Read", "jsonata_sites", "reads"]

#: JSONPath fields holding a Path or a Reference Path, as key paths from the state.
_PATH_FIELDS: tuple[tuple[str, ...], ...] = (
    ("InputPath",),
    ("OutputPath",),
    ("ItemsPath",),
    ("SecondsPath",),
    ("TimestampPath",),
    ("TimeoutSecondsPath",),
    ("HeartbeatSecondsPath",),
    ("MaxConcurrencyPath",),
    ("ToleratedFailureCountPath",),
    ("ToleratedFailurePercentagePath",),
    ("ErrorPath",),
    ("CausePath",),
    ("ItemReader", "ReaderConfig", "MaxItemsPath"),
    ("ItemBatcher", "MaxItemsPerBatchPath"),
    ("ItemBatcher", "MaxInputBytesPerBatchPath"),
)
#: JSONPath payload templates (SPEC §Payload Template), as key paths from the state.
_TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("Parameters",),
    ("ResultSelector",),
    ("ItemSelector",),
    ("Credentials",),
    ("Assign",),
    ("ItemReader", "Parameters"),
    ("ResultWriter", "Parameters"),
)
#: States whose result ``$states.result`` names in their top-level Output/Assign (SPEC A.6).
_RESULT_STATES = frozenset({"Task", "Map", "Parallel"})


@dataclass(frozen=True, slots=True)
class Read:
    """A read of the workflow variable ``name`` by the value at ``location``."""

    name: str
    #: JSON Pointer of the field value (the path string or the ``{% %}`` string).
    location: str


@dataclass(frozen=True, slots=True)
class JsonataSite:
    """One ``{% %}`` string of a JSONata state and what it may reference there."""

    #: JSON Pointer of the string.
    location: str
    #: The expression between ``{%`` and ``%}``.
    text: str
    #: The field it belongs to, for messages (``Arguments``, ``Catch/0/Output``...).
    field: str
    #: ``$states.result`` is defined here: top-level Output/Assign of Task/Map/Parallel.
    result_allowed: bool
    #: ``$states.errorOutput`` is defined here: a Catcher's Output/Assign.
    error_allowed: bool


def _items(value: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                yield index, item


def _dig(body: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    value: Any = body
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


# --- JSONPath ------------------------------------------------------------------------------


def _path_variable(text: str) -> str | None:
    from asl.paths import compile_path

    try:
        return compile_path(text).variable
    except ExpressionSyntaxError:
        return None


def _intrinsic_variables(text: str) -> Iterator[str]:
    from asl.intrinsics import compile_intrinsic
    from asl.intrinsics.nodes import Call, PathArgument

    try:
        pending: list[Any] = [compile_intrinsic(text).call]
    except ExpressionSyntaxError:
        return
    while pending:
        node = pending.pop()
        if isinstance(node, Call):
            pending.extend(node.args)
        elif isinstance(node, PathArgument) and node.path.variable is not None:
            yield node.path.variable


def _expression_reads(text: str, where: str) -> Iterator[Read]:
    """Reads of a path (``$...``) or an intrinsic call (anything else)."""
    if text.startswith("$"):
        name = _path_variable(text)
        if name is not None:
            yield Read(name, where)
    else:
        yield from (Read(name, where) for name in _intrinsic_variables(text))


def _template_reads(value: Any, where: str) -> Iterator[Read]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _template_reads(item, pointer_join(where, index))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            here = pointer_join(where, key)
            if key.endswith(".$") and isinstance(item, str):
                yield from _expression_reads(item, here)
            else:
                yield from _template_reads(item, here)


def _choice_reads(state: StateRef) -> Iterator[Read]:
    pending = [(state.at("Choices", i), rule) for i, rule in _items(state.body.get("Choices"))]
    while pending:
        where, rule = pending.pop()
        for key, value in rule.items():
            if (key == "Variable" or key.endswith("Path")) and isinstance(value, str):
                yield from _expression_reads(value, pointer_join(where, key))
        if "Assign" in rule:
            yield from _template_reads(rule["Assign"], pointer_join(where, "Assign"))
        pending.extend(
            (pointer_join(where, key, i), item)
            for key in ("And", "Or")
            for i, item in _items(rule.get(key))
        )
        if isinstance(rule.get("Not"), Mapping):
            pending.append((pointer_join(where, "Not"), rule["Not"]))


def _jsonpath_reads(state: StateRef) -> Iterator[Read]:
    for keys in _PATH_FIELDS:
        text = _dig(state.body, keys)
        if isinstance(text, str):
            yield from _expression_reads(text, state.at(*keys))
    for keys in _TEMPLATES:
        value = _dig(state.body, keys)
        if value is not None:
            yield from _template_reads(value, state.at(*keys))
    for index, catcher in _items(state.body.get("Catch")):
        if "Assign" in catcher:
            yield from _template_reads(catcher["Assign"], state.at("Catch", index, "Assign"))
    yield from _choice_reads(state)


# --- JSONata -------------------------------------------------------------------------------


def _expressions(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Yield (pointer, text inside ``{% %}``) for every expression nested in ``value``."""
    if isinstance(value, str):
        if len(value) >= 4 and value.startswith("{%") and value.endswith("%}"):
            yield where, value[2:-2]
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _expressions(item, pointer_join(where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _expressions(item, pointer_join(where, index))


def jsonata_sites(state: StateRef) -> Iterator[JsonataSite]:
    """Every ``{% %}`` string of a JSONata state, with what ``$states`` holds there."""
    returns_result = state.type in _RESULT_STATES
    for key, value in state.body.items():
        if key in _NOT_EXPRESSIONS:
            continue
        result = returns_result and key in ("Output", "Assign")
        for where, text in _expressions(value, state.at(key)):
            yield JsonataSite(where, text, key, result, False)
    for field, keys, on_error in (
        ("Catch", ("Output", "Assign"), True),
        ("Choices", ("Condition", "Output", "Assign"), False),
    ):
        for index, holder in _items(state.body.get(field)):
            for key in keys:
                label = f"{field}/{index}/{key}"
                for where, text in _expressions(holder.get(key), state.at(field, index, key)):
                    yield JsonataSite(where, text, label, False, on_error)


def _jsonata_reads(state: StateRef) -> Iterator[Read]:
    from asl.jsonata import compile_expression

    for site in jsonata_sites(state):
        try:
            found = compile_expression(site.text).reads()
        except ExpressionSyntaxError:
            continue
        yield from (Read(name, site.location) for name in sorted(found.variables))


def reads(state: StateRef) -> Iterator[Read]:
    """Every read of a workflow variable by ``state`` (in its own query language)."""
    if state.language == "JSONata":
        yield from _jsonata_reads(state)
    else:
        yield from _jsonpath_reads(state)
