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
    """Validate ``definition`` and compile it; raise DefinitionError listing every error."""
    from asl.compiler import compile_machine
    from asl.template import shared_templates
    from asl.validate import validate

    with shared_templates():  # each template is compiled once, for both steps
        errors = [d for d in validate(definition) if d.severity == "ERROR"]
        if errors:
            raise DefinitionError(errors)
        return compile_machine(definition)


def __getattr__(name: str) -> Any:
    """Import :mod:`asl.model` on first use of ``StateMachine``.

    Every ``asl.*`` import runs this package first; ``asl validate`` never needs the
    compiled model, and building its dataclasses is a visible share of a cold start.
    """
    if name == "StateMachine":
        from asl.model import StateMachine

        return StateMachine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
