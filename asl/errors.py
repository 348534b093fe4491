"""The project's exceptions.

Everything the package raises on purpose derives from :class:`ASLError`::

    ASLError
    ├── SourceError            the definition text cannot be read as a JSON/YAML document
    ├── ExpressionSyntaxError  a path, intrinsic call or JSONata expression does not parse
    ├── DefinitionError        the definition is invalid; carries every diagnostic found
    └── StatesError            a run-time failure with an ASL error name and cause

``StatesError`` is what crosses the boundary between the language core and the runtime:
its ``error`` is the ASL error name (``States.Runtime``, ``States.IntrinsicFailure``, a
Lambda's ``errorType``...) and its ``cause`` the AWS-style text. The runtime adds the
"An error occurred while executing the state ..." prefix where AWS does, since only it
knows the state and the event id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asl.validate.diagnostics import Diagnostic

__all__ = [
    "TERMINAL_ERRORS",
    "ASLError",
    "DefinitionError",
    "ExpressionSyntaxError",
    "SourceError",
    "StatesError",
]

#: Errors that no Retry or Catch handles, not even ``States.ALL`` (AWS behaviour).
TERMINAL_ERRORS = frozenset({"States.Runtime", "States.DataLimitExceeded"})


class ASLError(Exception):
    """Raised for every failure the project reports on purpose."""


class SourceError(ASLError):
    """Raised when definition text is not a well-formed JSON or YAML object."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        source: str = "<definition>",
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.source = source
        where = source if line is None else f"{source}:{line}:{column or 1}"
        super().__init__(f"{where}: {message}")


class ExpressionSyntaxError(ASLError):
    """Raised when a JSONPath, intrinsic function call or JSONata text does not parse."""

    def __init__(self, message: str, text: str, position: int = 0) -> None:
        self.message = message
        self.text = text
        self.position = max(0, min(position, len(text)))
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message}\n  {self.text}\n  {' ' * self.position}^"


class DefinitionError(ASLError):
    """Raised when a definition fails validation; ``diagnostics`` lists every problem."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        summary = f"{first.location}: {first.message}" if first else "invalid definition"
        more = len(self.diagnostics) - 1
        super().__init__(summary + (f" (and {more} more)" if more > 0 else ""))


class StatesError(ASLError):
    """Raised when running a state fails with an ASL error name (``error``) and ``cause``."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        self.error = error
        self.cause = cause
        super().__init__(f"{error}: {cause}" if cause else error)

    @property
    def terminal(self) -> bool:
        """True for errors no Retry or Catch may handle (``States.Runtime``...)."""
        return self.error in TERMINAL_ERRORS
