"""Compiled ASL paths: :class:`Path`, :func:`compile_path`, :func:`compile_reference_path`.

A path whose steps are all single property names or single indices (a Reference Path, SPEC
§Reference Paths) is turned into a tuple of keys at compile time, and :meth:`Path.get` is
a tight ``node = node[key]`` loop: this is the interpreter's hot path. Every other form is
evaluated by :mod:`asl.paths._evaluate`, which also re-runs a failed fast lookup to produce
Jayway's exact error text (AWS quotes it in ``Cause``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from asl.errors import ASLError, ExpressionSyntaxError
from asl.paths._evaluate import Miss, Plan, evaluate
from asl.paths._steps import lookup_keys
from asl.paths._syntax import parse
from asl.paths._update import assign

__all__ = ["Path", "PathNotFound", "compile_path", "compile_reference_path"]

#: Characters a Reference Path must not contain (SPEC §Reference Paths: "no operators ...").
_REFERENCE_FORBIDDEN = frozenset("@,:?*")


class PathNotFound(ASLError):
    """Raised when a syntactically valid path selects nothing."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        """The path text as written in the definition."""
        self.detail = detail
        """Jayway's message, e.g. ``No results for path: $['x']``."""
        super().__init__(f"Invalid path '{path}' : {detail}")


@dataclass(frozen=True, slots=True)
class Path:
    """A compiled ASL path; evaluate it with :meth:`get`, :meth:`exists` or :meth:`set`."""

    text: str
    """The path as written."""
    root: Literal["input", "context", "variable"]
    """``$...`` reads the input, ``$$...`` the Context Object, ``$name...`` a variable."""
    variable: str | None
    """The variable name when ``root == "variable"``."""
    is_reference: bool
    """Whether the path selects a single node (only names and indices)."""
    _plan: Plan = field(repr=False, compare=False)
    _keys: tuple[str | int, ...] | None = field(repr=False, compare=False)
    # An int key would index into a string (``"abc"[0]``); such paths take a checked loop.
    _has_index: bool = field(repr=False, compare=False)

    @property
    def property_keys(self) -> tuple[str, ...] | None:
        """The names of a path on ``$`` made of property names only (``$.a.b``: ``("a",
        "b")``; ``$``: ``()``), else None: ``get`` on such a path is ``data[k1][k2]...``
        when every key is there."""
        if self.root != "input" or self._keys is None or self._has_index:
            return None
        return self._keys  # type: ignore[return-value]  # no int key: no index

    def _start(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        if self.root == "input":
            return data
        if self.root == "context":
            return context
        name = self.variable
        assert name is not None
        try:
            return variables[name]
        except KeyError:
            # Not recorded from AWS (its static analysis rejects undefined variables); we
            # report it like any other path that selects nothing.
            raise PathNotFound(self.text, f"Variable not found: {name}") from None

    def get(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        """Return the selected value (a list of matches for an indefinite path).

        Raises :class:`PathNotFound` when a definite path selects nothing.
        """
        node = start = data if self.root == "input" else self._start(data, context, variables)
        keys = self._keys
        if keys is None:
            return self._slow(start)
        try:
            if self._has_index:
                for key in keys:
                    if isinstance(node, str):
                        return self._slow(start)
                    node = node[key]
            else:
                for key in keys:
                    node = node[key]
        except (KeyError, IndexError, TypeError):
            return self._slow(start)
        return node

    def _slow(self, start: Any) -> Any:
        try:
            return evaluate(self._plan, start)
        except Miss as miss:
            raise PathNotFound(self.text, miss.detail) from None

    def exists(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        """Whether the path selects something (Choice ``IsPresent``).

        An indefinite path "exists" when it matches at least one node.
        """
        try:
            value = self.get(data, context, variables)
        except PathNotFound:
            return False
        return self._plan.definite or bool(value)

    def set(self, data: Any, value: Any) -> Any:
        """Return a copy of ``data`` with ``value`` placed at this path (``ResultPath``).

        Only the objects along the path are copied; ``data`` is never mutated. Missing
        intermediate objects are created. Raises ``StatesError("States.ResultPathMatchFailure")``
        when the path cannot be applied (e.g. ``data`` is a string).
        """
        if self.root != "input" or self._keys is None:
            raise ValueError(f"ResultPath must be a reference path on '$': {self.text}")
        return assign(self.text, data, self._keys, value)


def compile_path(text: str) -> Path:
    """Compile any ASL path (InputPath, OutputPath, ItemsPath, Choice ``Variable``, ``.$``).

    Raises :class:`ExpressionSyntaxError` when ``text`` is not a valid path. Compiled paths
    are immutable and cached, so compiling the same text twice is cheap.
    """
    if not isinstance(text, str):
        raise ExpressionSyntaxError("Invalid JSONPath: a path must be a string", repr(text), 0)
    return _compile(text)


@lru_cache(maxsize=4096)
def _compile(text: str) -> Path:
    parsed = parse(text)
    keys = lookup_keys(parsed.steps)
    return Path(
        text=text,
        root=parsed.root,
        variable=parsed.variable,
        is_reference=keys is not None,
        _plan=Plan.of(parsed.steps),
        _keys=keys,
        _has_index=keys is not None and any(isinstance(key, int) for key in keys),
    )


def compile_reference_path(text: str) -> Path:
    """Compile a Reference Path (single node: no ``@ , : ? *``, filters, slices or unions).

    Raises :class:`ExpressionSyntaxError` for any other path.
    """
    if not isinstance(text, str):
        return _reference(text)
    return _cached_reference(text)


@lru_cache(maxsize=4096)
def _cached_reference(text: str) -> Path:
    return _reference(text)


def _reference(text: str) -> Path:
    path = compile_path(text)
    bad = _operator_at(text)
    if not path.is_reference or bad >= 0:
        raise ExpressionSyntaxError(
            "Invalid JSONPath: a reference path must select a single node "
            "(no '@', ',', ':', '?', '*' or '..')",
            text,
            max(bad, 0),
        )
    return path


def _operator_at(text: str) -> int:
    """Position of the first operator outside a quoted name that makes ``text`` not a
    Reference Path (SPEC §Reference Paths), or -1."""
    quote, position = "", 0
    while position < len(text):
        char = text[position]
        if quote:
            if char == "\\":
                position += 1  # skip the escaped character
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in _REFERENCE_FORBIDDEN or text.startswith("..", position):
            return position
        position += 1
    return -1
