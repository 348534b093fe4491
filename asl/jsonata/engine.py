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
from typing import Any, Final

import jlens

from asl.errors import ExpressionSyntaxError
from asl.jsonata.functions import EXTRA_FUNCTIONS, FunctionError

__all__ = [
    "EVALUATION_TIMEOUT_SECONDS",
    "UNDEFINED",
    "UNSUPPORTED",
    "EvaluationError",
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
    return JsonataExpression(text, main, probe)


class JsonataExpression:
    """An immutable compiled JSONata expression; ``text`` is its source."""

    __slots__ = ("_main", "_probe", "text")

    text: str
    _main: Any
    _probe: Any

    def __init__(self, text: str, main: Any, probe: Any) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "_main", main)
        object.__setattr__(self, "_probe", probe)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"JsonataExpression({self.text!r})"

    def evaluate(self, bindings: Mapping[str, Any], *, data: Any = None) -> Any:
        """Evaluate with ``bindings`` (``{"states": {...}, name: value}``).

        ``data`` is the context value ``$``; ASL forbids a top-level ``$`` and gives the
        expression none (None is "no input"). Returns a JSON value, :data:`UNDEFINED` or
        :data:`UNSUPPORTED`; raises :class:`EvaluationError` when the engine fails.
        """
        env = bindings if type(bindings) is dict else dict(bindings)
        timeout = EVALUATION_TIMEOUT_SECONDS
        try:
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


def _evaluation_error(exc: Exception) -> EvaluationError:
    """Our error for an engine error or an exception raised inside an extra function."""
    code = getattr(exc, "code", "") or ""
    message = exc.message if isinstance(exc, FunctionError) else str(exc)
    position = getattr(exc, "position", None)
    return EvaluationError(code, message, position if isinstance(position, int) else None)
