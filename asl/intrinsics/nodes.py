"""Compiled intrinsic call trees: literals, path arguments and calls.

A call evaluates its arguments, runs its function body and turns any failure into the
``StatesError`` AWS reports. AWS reports intrinsic failures as ``States.Runtime`` (not
``States.IntrinsicFailure``) with a cause that names the failing call, e.g. ``There was an
error while evaluating the intrinsic function: States.MathAdd($.a, 1). Invalid arguments in
States.MathAdd`` (AWS observations of ``Invalid arguments in States.MathAdd`` /
``States.StringToJson`` with error ``States.Runtime``); the runtime prepends "An error occurred
while executing the state ..." as for every state failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from asl.errors import StatesError
from asl.intrinsics._text import compact_json
from asl.intrinsics.functions import Function, InvalidArguments
from asl.paths import Path, PathNotFound

__all__ = ["INTRINSIC_ERROR", "Call", "Literal", "Node", "PathArgument", "StringLiteral"]

#: The ASL error name of every intrinsic failure (see the module docstring).
INTRINSIC_ERROR = "States.Runtime"


class Node(Protocol):
    """Anything that yields an argument value."""

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        """Return this node's value for one evaluation."""
        ...


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant argument: a number, ``true``/``false``/``null`` or a parsed template."""

    value: Any

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        """Return the constant."""
        return self.value


@dataclass(frozen=True, slots=True)
class StringLiteral:
    """A ``'quoted'`` argument; ``raw`` keeps the escapes for ``States.Format`` templates."""

    #: The string with ``\\'``, ``\\{``, ``\\}`` and ``\\\\`` resolved.
    value: str
    #: The text between the quotes, escapes unresolved.
    raw: str

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> str:
        """Return the string."""
        return self.value


class _PathMissing(Exception):
    """Raised by a path argument that selects nothing; the enclosing call words the cause."""

    def __init__(self, text: str, source: Any) -> None:
        self.text = text
        self.source = source
        super().__init__(text)


@dataclass(frozen=True, slots=True)
class PathArgument:
    """A ``$…``, ``$$…`` or ``$variable…`` argument."""

    #: The path as written.
    text: str
    #: The compiled path.
    path: Path

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        """Select the value; raise _PathMissing when nothing matches."""
        try:
            return self.path.get(data, context, variables)
        except PathNotFound:
            source = context if self.text.startswith("$$") else data
            raise _PathMissing(self.text, source) from None


@dataclass(frozen=True, slots=True)
class Call:
    """One ``States.Name(arg, …)`` call."""

    #: The function from the table.
    function: Function
    #: The argument nodes, in order.
    args: tuple[Node, ...]
    #: The call as written (used in causes).
    text: str
    #: Whether the function takes this many arguments (known once the call is parsed).
    _fits: bool = field(init=False, repr=False, compare=False)
    #: The literal arguments' values in place, the others None; and (index, evaluate) of
    #: the others: an evaluation copies the first and fills in the second.
    _literals: tuple[Any, ...] = field(init=False, repr=False, compare=False)
    _varying: tuple[tuple[int, Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fits", self.function.accepts(len(self.args)))
        literal = tuple(isinstance(arg, Literal | StringLiteral) for arg in self.args)
        literals = tuple(
            arg.value if fixed else None  # type: ignore[attr-defined]
            for arg, fixed in zip(self.args, literal, strict=True)
        )
        varying = tuple(
            (index, arg.evaluate)
            for index, (arg, fixed) in enumerate(zip(self.args, literal, strict=True))
            if not fixed
        )
        object.__setattr__(self, "_literals", literals)
        object.__setattr__(self, "_varying", varying)

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        """Evaluate the arguments and run the function; failures become StatesError."""
        try:
            # AWS accepts a definition with a wrong argument count and fails when it runs.
            if not self._fits:
                raise InvalidArguments
            values = list(self._literals)
            for index, evaluate in self._varying:  # in the written order
                values[index] = evaluate(data, context, variables)
            return self.function.body(values)
        except InvalidArguments as failure:
            detail = failure.detail or f"Invalid arguments in {self.function.name}"
            raise StatesError(INTRINSIC_ERROR, self._cause(detail)) from None
        except _PathMissing as missing:
            detail = (
                f"The JsonPath argument for the field '{missing.text}' could not be found "
                f"in the input '{compact_json(missing.source)}'"
            )
            raise StatesError(INTRINSIC_ERROR, self._cause(detail)) from None

    def _cause(self, detail: str) -> str:
        return f"There was an error while evaluating the intrinsic function: {self.text}. {detail}"
