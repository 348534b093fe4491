"""The Amazon States Language core: load, validate and compile state machines.

Nothing here runs a machine (that is :mod:`runtime`); everything here is usable on its own,
e.g. to lint definitions in CI::

    >>> from asl import compile_definition
    >>> machine = compile_definition({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    >>> machine.start_at
    'A'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asl.errors import (
    ASLError,
    DefinitionError,
    ExpressionSyntaxError,
    SourceError,
    StatesError,
)

if TYPE_CHECKING:
    from asl.model import StateMachine
    from asl.validate.diagnostics import Diagnostic

__all__ = [
    "ASLError",
    "DefinitionError",
    "ExpressionSyntaxError",
    "SourceError",
    "StateMachine",
    "StatesError",
    "compile_definition",
]


def compile_definition(definition: Mapping[str, Any]) -> StateMachine:
    """Validate ``definition`` and compile it; raise DefinitionError listing every error.

    The model is built from a private copy of a plain-JSON ``definition`` (so changing the
    caller's dicts afterwards cannot change the machine), and the validation verdict of each
    definition text is remembered: compiling the same definition again only compiles.
    """
    from asl.compiler import compile_machine
    from asl.template import shared_templates

    owned, text, key = _private_copy(definition)
    errors = _VERDICTS.get(key) if key is not None else None
    if errors is None:
        from asl.validate import validate

        with shared_templates():  # each template is compiled once, for both steps
            errors = tuple(d for d in validate(owned) if d.severity == "ERROR")
            if not errors:
                machine = compile_machine(owned, text)
        _remember(key, errors)
        if not errors:
            return machine
    if errors:
        raise DefinitionError(errors)
    return compile_machine(owned, text)


#: Definition text (its SHA-256) -> the ERROR diagnostics it was refused with (or none).
_VERDICTS: dict[bytes, tuple[Diagnostic, ...]] = {}
_VERDICTS_KEPT = 256


def _private_copy(
    definition: Mapping[str, Any],
) -> tuple[Mapping[str, Any], str | None, bytes | None]:
    """``definition`` copied through its JSON text, that text, and the text's digest.

    Only a definition that JSON represents exactly (dicts with string keys, lists, strings,
    numbers, booleans, null) is copied and gets a key; any other (a tuple for a list, a
    non-string key, a NaN) is used as it is, validated and compiled every time.
    """
    import json

    try:
        text = json.dumps(definition, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return definition, None, None
    copy = json.loads(text)
    if copy != definition:
        return definition, None, None
    import hashlib

    return copy, text, hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _remember(key: bytes | None, errors: tuple[Diagnostic, ...]) -> None:
    if key is None:
        return
    while len(_VERDICTS) >= _VERDICTS_KEPT:
        try:
            del _VERDICTS[next(iter(_VERDICTS))]
        except (KeyError, RuntimeError, StopIteration):  # another thread got there first
            break
    _VERDICTS[key] = errors


def __getattr__(name: str) -> Any:
    """Import :mod:`asl.model` on first use of ``StateMachine``.

    Every ``asl.*`` import runs this package first; ``asl validate`` never needs the
    compiled model, and building its dataclasses is a visible share of a cold start.
    """
    if name == "StateMachine":
        from asl.model import StateMachine

        return StateMachine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
