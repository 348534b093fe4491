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
    caller's dicts afterwards cannot change the machine). Each definition text's verdict is
    remembered, and so is the machine compiled from it: compiling an equal definition again
    returns the same machine, and a refused one is refused with the same errors. A shared
    machine is read-only all the way down (see :mod:`asl.model`): a change in place raises
    TypeError naming it, so no caller can change what another runs.
    """
    from asl.compiler import compile_machine
    from asl.template import shared_templates

    text, key = _text_key(definition)
    remembered = _reuse(key, definition) if key is not None else None
    if remembered is not None:
        return remembered
    owned, text, key = _private_copy(definition, text, key)
    errors = _VERDICTS.get(key) if key is not None else None
    machine: StateMachine | None = None
    if errors is None:
        from asl.validate import validate

        with shared_templates():  # each template is compiled once, for both steps
            found = validate(owned, text=text)
            errors = tuple(d for d in found if d.severity == "ERROR")
            if not errors:
                machine = compile_machine(owned, text)
        _remember(key, errors)
    if errors:
        raise DefinitionError(errors)
    if machine is None:
        machine = compile_machine(owned, text)
    _keep(key, machine)
    return machine


#: Definition text (its SHA-256) -> the ERROR diagnostics it was refused with (or none).
_VERDICTS: dict[bytes, tuple[Diagnostic, ...]] = {}
_VERDICTS_KEPT = 256
#: Definition text (its SHA-256) -> the machine compiled from it, least recently used first.
#: Bounded by count and by the states the machines hold together (their memory).
_MACHINES: dict[bytes, StateMachine] = {}
_MACHINES_KEPT = 128
_MACHINE_STATES_KEPT = 50_000


def _reuse(key: bytes, definition: Mapping[str, Any]) -> StateMachine | None:
    """The machine remembered for ``key``, if it was compiled from a definition equal to
    ``definition`` (equal text is not enough: a tuple and a list dump alike)."""
    machine = _MACHINES.get(key)
    # Its plain source: reading ``definition`` would make the read-only copy.
    if machine is None or machine._source != definition:
        return None
    # Most recently used last (another thread may have evicted it meanwhile: still good).
    if _MACHINES.pop(key, None) is not None:
        _MACHINES[key] = machine
    return machine


def _keep(key: bytes | None, machine: StateMachine) -> None:
    if key is None:
        return
    _MACHINES[key] = machine
    held = sum(len(kept.all_states) for kept in list(_MACHINES.values()))
    while len(_MACHINES) > 1 and (len(_MACHINES) > _MACHINES_KEPT or held > _MACHINE_STATES_KEPT):
        try:
            oldest = next(iter(_MACHINES))
            held -= len(_MACHINES.pop(oldest).all_states)
        except (KeyError, RuntimeError, StopIteration):  # another thread got there first
            break


def _text_key(definition: Mapping[str, Any]) -> tuple[str | None, bytes | None]:
    """The JSON text of ``definition`` and its digest (None, None if JSON cannot say it)."""
    import json

    try:
        text = json.dumps(definition, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return None, None
    import hashlib

    return text, hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _private_copy(
    definition: Mapping[str, Any], text: str | None, key: bytes | None
) -> tuple[Mapping[str, Any], str | None, bytes | None]:
    """``definition`` copied through its JSON ``text``, that text, and the text's ``key``.

    Only a definition that JSON represents exactly (dicts with string keys, lists, strings,
    numbers, booleans, null) is copied and keeps its key; any other (a tuple for a list, a
    non-string key, a NaN) is used as it is, validated and compiled every time.
    """
    if text is None:
        return definition, None, None
    import json

    copy = json.loads(text)
    if copy != definition:
        return definition, None, None
    return copy, text, key


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
