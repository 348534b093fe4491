"""The JSONata engine behind JSONata-mode fields: compile once, evaluate many times.

The engine is `jlens <https://pypi.org/project/jlens/>`_, a Rust implementation of JSONata
that passes 1622 of the 1625 cases of the official 2.0.6 test suite (see
``tests/test_jsonata_suite.py`` and ``notes/jsonata-engine.md``). This module is the only
place that imports it: the rest of the project sees :class:`JsonataExpression`, plain JSON
values, :data:`UNDEFINED`, :class:`EvaluationError` and :class:`ExpressionSyntaxError`.

Values crossing the boundary follow JavaScript's JSON rules, as AWS's engine (jsonata-js
2.0.6) does: an integral number comes back as ``int`` (``1.0`` prints as ``1``), a sequence
as a ``list``, and a function (or regex) result is reported as :data:`UNSUPPORTED`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import jlens

from asl.errors import ExpressionSyntaxError
from asl.jsonata.functions import EXTRA_FUNCTIONS, FunctionError

__all__ = [
    "EVALUATION_TIMEOUT_SECONDS",
    "UNDEFINED",
    "UNSUPPORTED",
    "EvaluationError",
    "ExpressionReads",
    "JsonataExpression",
    "compile_expression",
]


class _Marker:
    """A named singleton for results that are not JSON values."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __bool__(self) -> bool:
        return False


#: The result of an expression that yields nothing (JSONata ``undefined``).
UNDEFINED: Final[Any] = _Marker("UNDEFINED")
#: The result of an expression that yields a function or a regex: no JSON form exists.
UNSUPPORTED: Final[Any] = _Marker("UNSUPPORTED")

# Re-evaluates an expression whose result came back as None, which `jlens` answers for JSON
# null, for undefined and for a function alike. `[[v], v = null]` is `[[], false]` for
# undefined, `[[null], true]` for null and `[[null], false]` for a function. It calls no
# function by name, so a workflow variable such as `type` or `exists` cannot shadow it.
_PROBE: Final = "(\n$__asl_result := (\n{}\n);\n[[$__asl_result], $__asl_result = null]\n)"


#: Wall-clock bound on one evaluation. JSONata optimises tail calls, so
#: `($f := function(){$f()}; $f())` loops forever instead of overflowing; this turns it into
#: D1012 "Evaluation timeout after N milliseconds" rather than a hung execution. AWS's own
#: bound is not published. Read at each call so tests can lower it.
EVALUATION_TIMEOUT_SECONDS: float = 10.0


class EvaluationError(Exception):
    """Raised when the engine fails while evaluating (a JSONata dynamic or type error)."""

    def __init__(self, code: str, message: str, position: int | None) -> None:
        self.code = code
        self.message = message
        self.position = position
        super().__init__(self.described)

    @property
    def described(self) -> str:
        """``CODE: message`` as AWS prints it after "threw an error during evaluation."."""
        return f"{self.code}: {self.message}" if self.code else self.message


#: The AWS functions, which the engine reports as bindings read (they are not variables).
_EXTRA_NAMES: Final = frozenset(function.name for function in EXTRA_FUNCTIONS)


@dataclass(frozen=True, slots=True)
class ExpressionReads:
    """What an expression reads, found statically (for the validator, never at run time)."""

    #: ``$name`` references that are neither ``$states``, built-in or AWS functions,
    #: function parameters nor ``:=`` locals: the workflow variables it reads.
    variables: frozenset[str]
    #: The fields of ``$states`` it reads (``input``, ``result``...); None when it reads
    #: ``$states`` whole (``$lookup($states, ...)``), so any field may be read.
    states: frozenset[str] | None
    #: True when it reads the context value at the top level: ``$``, ``$$`` or a bare
    #: field name, which ASL gives no value (SPEC A.6; nested ``$`` in predicates is fine).
    reads_input: bool


def _compiled(text: str) -> Any:
    """The engine's compiled form of ``text`` with the AWS functions it names registered.

    Each registered function costs about 0.5 us on every evaluation, so only those whose
    ``$name`` occurs in the text are added. JSONata reaches a function only through its
    name (``$eval``, the one dynamic way, is removed), so no call can miss its function.
    """
    expression = jlens.Expression(text)
    for function in EXTRA_FUNCTIONS:
        if function.pattern.search(text):
            expression.register_function(function.name, function.implementation, function.signature)
    return expression


def _syntax_error(text: str, exc: Exception) -> ExpressionSyntaxError:
    """An :class:`ExpressionSyntaxError` for ``exc`` raised while parsing ``text``."""
    code = getattr(exc, "code", None)
    position = getattr(exc, "position", None)
    message = f"{code}: {exc}" if code else f"Invalid JSONata expression: {exc}"
    return ExpressionSyntaxError(message, text, position if isinstance(position, int) else 0)


def compile_expression(text: str) -> JsonataExpression:
    """Compile JSONata ``text`` (without ``{% %}``); ExpressionSyntaxError if it won't parse."""
    try:
        main = _compiled(text)
        probe = _compiled(_PROBE.format(text))
    except (jlens.JlensError, ValueError, TypeError) as exc:
        # UnicodeEncodeError (a lone surrogate) is a ValueError; the engine cannot hold it.
        raise _syntax_error(text, exc) from None
    return JsonataExpression(text, main, probe, _binding_reads(main))


#: What an expression reads of its bindings: (name, Read) pairs, or None for "any, whole".
BindingReads = tuple[tuple[str, Any], ...] | None


def _binding_reads(main: Any) -> BindingReads:
    """The bindings ``main`` reads, from the engine's static analysis, computed once.

    The engine converts every binding it is given, whole, on each evaluation: handing it
    ``$states.context`` (which holds the execution input) for ``$states.input.id`` cost
    0.5 ms per evaluation on a 1,000-item input. Cutting the bindings down to what is read
    gives the same result (the engine's contract for ``reads``).
    """
    found = main.reads()
    if found.get("everyBinding"):
        return None
    # A workflow variable may shadow an AWS function of the same name: keep those names too.
    plan: BindingReads = _plan(found["bindings"])
    return plan


def _plan(read: Any) -> Any:
    """A Read as nested tuples ``((key, sub), ...)`` (True stays True): cheaper to walk."""
    if read is True:
        return True
    return tuple((key, _plan(sub)) for key, sub in read.items())


def _cut(value: Any, plan: Any) -> Any:
    """``value`` cut down to ``plan`` (see :func:`_plan`)."""
    if type(value) is dict:
        return {
            key: value[key] if sub is True else _cut(value[key], sub)
            for key, sub in plan
            if key in value
        }
    if type(value) is list:
        return [item if plan is True else _cut(item, plan) for item in value]
    return value


class JsonataExpression:
    """An immutable compiled JSONata expression; ``text`` is its source."""

    __slots__ = ("_main", "_probe", "_reads", "text")

    text: str
    _main: Any
    _probe: Any
    _reads: BindingReads

    def __init__(self, text: str, main: Any, probe: Any, reads: BindingReads = None) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "_main", main)
        object.__setattr__(self, "_probe", probe)
        object.__setattr__(self, "_reads", reads)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"JsonataExpression({self.text!r})"

    def reads(self) -> ExpressionReads:
        """What this expression reads of ``$states``, the variables and its input."""
        found = self._main.reads()
        names = frozenset(found["bindings"]) - _EXTRA_NAMES - {"states"}
        found_input = _reads_input(found)
        if found_input and names:
            # A call of an unknown function reads its context whole; bind every name to a
            # function so that only a real `$`, `$$` or bare field reads the input.
            found_input = _reads_input(self._main.reads({name: _nothing for name in names}))
        states = found["bindings"].get("states", {})
        fields = None if states is True else frozenset(states)
        return ExpressionReads(names, fields, found_input)

    def evaluate(self, bindings: Mapping[str, Any], *, data: Any = None) -> Any:
        """Evaluate with ``bindings`` (``{"states": {...}, name: value}``).

        ``data`` is the context value ``$``; ASL forbids a top-level ``$`` and gives the
        expression none (None is "no input"). Returns a JSON value, :data:`UNDEFINED` or
        :data:`UNSUPPORTED`; raises :class:`EvaluationError` when the engine fails.
        """
        reads = self._reads
        timeout = EVALUATION_TIMEOUT_SECONDS
        try:
            if reads is None:
                env = bindings if type(bindings) is dict else dict(bindings)
            else:
                # Cutting the bindings walks the input: deep input overflows here too.
                env = {
                    name: bindings[name] if read is True else _cut(bindings[name], read)
                    for name, read in reads
                    if name in bindings
                }
            result = self._main.evaluate(data, env, timeout=timeout)
            if result is None:
                return self._classify_none(data, env, timeout)
        except (jlens.JlensError, FunctionError) as exc:
            raise _evaluation_error(exc) from None
        except RecursionError:
            raise EvaluationError("D1011", "Stack overflow", None) from None
        return result

    def _classify_none(self, data: Any, env: dict[str, Any], timeout: float) -> Any:
        """Tell JSON null from undefined and functions, which the engine all returns as None."""
        boxed, is_null = self._probe.evaluate(data, env, timeout=timeout)
        if not boxed:
            return UNDEFINED
        return None if is_null else UNSUPPORTED


def _reads_input(found: Any) -> bool:
    """Whether ``reads()`` says the context value itself or one of its fields is read.

    An empty read (``{}``) only needs the context to exist: an object constructor
    ``{'a': 1}`` groups over it, which is no reference to the input.
    """
    read = found.get("input")
    return read is True or bool(read)


def _nothing(*args: Any) -> None:
    """A stand-in function (see :meth:`JsonataExpression.reads`)."""
    return None


def _evaluation_error(exc: Exception) -> EvaluationError:
    """Our error for an engine error or an exception raised inside an extra function."""
    code = getattr(exc, "code", "") or ""
    message = exc.message if isinstance(exc, FunctionError) else str(exc)
    position = getattr(exc, "position", None)
    return EvaluationError(code, message, position if isinstance(position, int) else None)
