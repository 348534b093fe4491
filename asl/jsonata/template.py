"""JSONata-mode field values: ``{% %}`` strings anywhere inside a JSON structure.

SPEC "JSONata Concepts": a string that starts with ``{%`` and ends with ``%}`` (no
surrounding whitespace) is a JSONata expression; any other string is a literal. A field that
takes JSONata may hold one expression or a JSON structure with expressions nested at any
depth. :func:`compile_value` compiles every expression once and folds constant sub-trees,
so evaluating touches only the parts that can change.

Failures become ``States.QueryEvaluationError`` with AWS's cause texts (the runtime adds the
"An error occurred while executing the state 'X' (entered at the event id #N). " prefix):

* ``The JSONata expression '$x' specified for the field 'Output/result' returned nothing
  (undefined).``
* ``... returned an unsupported result type.`` (a function)
* ``... threw an error during evaluation. T1006: Attempted to invoke a non-function``
* ``... returned an unexpected result type. Expected 'array', but was 'number' for value:
  1`` -- see :func:`unexpected_type_cause`, used by the runtime's per-field checks.

The location is a slash path into the field value: ``Arguments``, ``Arguments/FunctionName``,
``Assign/result`` (conformance ``assign_reference_variables.undefined_reference.*``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from asl.errors import StatesError
from asl.jsonata.engine import (
    UNDEFINED,
    UNSUPPORTED,
    EvaluationError,
    JsonataExpression,
    compile_expression,
)

__all__ = [
    "QUERY_EVALUATION_ERROR",
    "JsonataValue",
    "QueryEvaluationError",
    "compile_value",
    "expression_text",
    "is_expression",
    "type_name",
    "unexpected_type_cause",
]

QUERY_EVALUATION_ERROR: Final = "States.QueryEvaluationError"


class QueryEvaluationError(StatesError):
    """Raised when a JSONata field fails; ``location`` is the field path AWS records.

    AWS writes an ``EvaluationFailed`` event with ``error``, ``cause``, ``location`` and
    ``state`` before the failure event; ``location`` is the same slash path as in the cause.
    """

    def __init__(self, cause: str, location: str) -> None:
        super().__init__(QUERY_EVALUATION_ERROR, cause)
        self.location = location


def is_expression(value: Any) -> bool:
    """True for a string that is a JSONata expression: ``{%`` ... ``%}``, nothing around."""
    return isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}"


def expression_text(value: str) -> str:
    """The expression inside ``{% %}``, trimmed, as AWS quotes it in causes."""
    return value[2:-2].strip()


def type_name(value: Any) -> str:
    """AWS's word for the JSON type of ``value``: 'array', 'object', 'string', 'number'...."""
    # bool before int: isinstance(True, int) holds in Python.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def _json(value: Any) -> str:
    """Compact JSON as AWS prints values in causes (``{"foo":"bar"}``)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _prefix(text: str, field: str) -> str:
    return f"The JSONata expression '{text}' specified for the field '{field}'"


def unexpected_type_cause(text: str, field: str, expected: str, value: Any) -> str:
    """The cause for a result of the wrong JSON type, e.g. a number where 'array' is due."""
    return (
        f"{_prefix(text, field)} returned an unexpected result type. "
        f"Expected '{expected}', but was '{type_name(value)}' for value: {_json(value)}"
    )


class _Node(Protocol):
    def evaluate(self, bindings: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Constant:
    """A sub-tree without expressions, built once; results share it (do not mutate them)."""

    value: Any

    def evaluate(self, bindings: Mapping[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class _Expression:
    """One ``{% %}`` string at ``location``."""

    expression: JsonataExpression
    location: str

    def evaluate(self, bindings: Mapping[str, Any]) -> Any:
        try:
            result = self.expression.evaluate(bindings)
        except EvaluationError as exc:
            detail = f"threw an error during evaluation. {exc.described}"
            raise self._fail(detail) from None
        if result is UNDEFINED:
            raise self._fail("returned nothing (undefined).")
        if result is UNSUPPORTED:
            raise self._fail("returned an unsupported result type.")
        return result

    def _fail(self, detail: str) -> QueryEvaluationError:
        cause = f"{_prefix(self.expression.text, self.location)} {detail}"
        return QueryEvaluationError(cause, self.location)


@dataclass(frozen=True, slots=True)
class _Object:
    """An object with at least one expression inside."""

    items: tuple[tuple[str, _Node], ...]

    def evaluate(self, bindings: Mapping[str, Any]) -> Any:
        return {key: node.evaluate(bindings) for key, node in self.items}


@dataclass(frozen=True, slots=True)
class _Array:
    """An array with at least one expression inside."""

    items: tuple[_Node, ...]

    def evaluate(self, bindings: Mapping[str, Any]) -> Any:
        return [node.evaluate(bindings) for node in self.items]


def _compile(value: Any, location: str) -> _Node:
    """The node for ``value`` found at ``location``; constants fold into one node."""
    if is_expression(value):
        return _Expression(compile_expression(expression_text(value)), location)
    if isinstance(value, dict):
        items = tuple((key, _compile(item, f"{location}/{key}")) for key, item in value.items())
        if all(isinstance(node, _Constant) for _, node in items):
            return _Constant(value)
        return _Object(items)
    if isinstance(value, list):
        # AWS's spelling of array positions in a location is not recorded; `[i]` is a guess.
        nodes = tuple(_compile(item, f"{location}[{index}]") for index, item in enumerate(value))
        if all(isinstance(node, _Constant) for node in nodes):
            return _Constant(value)
        return _Array(nodes)
    return _Constant(value)


@dataclass(frozen=True, slots=True)
class JsonataValue:
    """A compiled JSONata-mode field value."""

    field: str
    """The field name that starts every location (``Output``, ``Arguments``...)."""
    root: _Node
    """The compiled value."""

    @property
    def is_constant(self) -> bool:
        """True when the value holds no expression at all."""
        return isinstance(self.root, _Constant)

    @property
    def text(self) -> str | None:
        """The expression text when the whole value is one expression, else None."""
        root = self.root
        return root.expression.text if isinstance(root, _Expression) else None

    def evaluate(self, bindings: Mapping[str, Any]) -> Any:
        """The value with every expression evaluated; raises :class:`QueryEvaluationError`."""
        return self.root.evaluate(bindings)


def compile_value(value: Any, *, field: str) -> JsonataValue:
    """Compile a JSONata-mode ``value`` of ``field``; raise ExpressionSyntaxError on bad text."""
    return JsonataValue(field, _compile(value, field))
