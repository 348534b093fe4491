"""The steps a compiled path is made of, and how Jayway renders them in error texts.

AWS evaluates ASL paths with Jayway JsonPath and quotes Jayway's exception messages in
``Cause`` strings, so every step knows its Jayway "path fragment" (``['name']``, ``[0]``,
``[*]``...): the normalised path ``$['a'][0]`` is what Jayway prints, whatever the source
spelling was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Filter", "Index", "Prop", "Scan", "Slice", "Step", "Wildcard", "render"]


def _quote(name: str) -> str:
    return f"'{name}'"


@dataclass(frozen=True, slots=True)
class Prop:
    """``.name``, ``['name']`` or the multi-property form ``['a','b']``."""

    names: tuple[str, ...]
    """The property names; one for the ordinary case."""

    def fragment(self) -> str:
        """Jayway's rendering, e.g. ``['a']`` or ``['a','b']``."""
        return "[" + ",".join(_quote(name) for name in self.names) + "]"


@dataclass(frozen=True, slots=True)
class Index:
    """``[0]``, ``[-1]`` or the union ``[0,2]``."""

    indices: tuple[int, ...]
    """The array indices; negative ones count from the end (Jayway)."""

    def fragment(self) -> str:
        """Jayway's rendering, e.g. ``[0]`` or ``[0,2]``."""
        return "[" + ",".join(str(index) for index in self.indices) + "]"


@dataclass(frozen=True, slots=True)
class Slice:
    """``[start:stop]``, either bound optional (Jayway has no step)."""

    start: int | None
    """First index (inclusive), ``None`` for the beginning."""
    stop: int | None
    """Last index (exclusive), ``None`` for the end."""

    def fragment(self) -> str:
        """Jayway's rendering, e.g. ``[1:3]``."""
        start = "" if self.start is None else str(self.start)
        stop = "" if self.stop is None else str(self.stop)
        return f"[{start}:{stop}]"


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``.*`` or ``[*]``: every member of an object or element of an array."""

    def fragment(self) -> str:
        """Jayway's rendering."""
        return "[*]"


@dataclass(frozen=True, slots=True)
class Filter:
    """``[?(<predicate>)]``, evaluated with ``jsonpath_ng.ext`` expressions."""

    text: str
    """The predicate text between ``?(`` and ``)``."""
    expressions: tuple[Any, ...]
    """The compiled jsonpath-ng filter expressions; all must match (a conjunction)."""

    def fragment(self) -> str:
        """Jayway's rendering of a filter token."""
        return "[?]"


@dataclass(frozen=True, slots=True)
class Scan:
    """``..`` (deep scan) followed by the step applied at every depth."""

    inner: Prop | Index | Slice | Wildcard | Filter
    """The step applied to the node and all of its descendants."""

    def fragment(self) -> str:
        """Jayway's rendering, e.g. ``..['a']``."""
        return ".." + self.inner.fragment()


Step = Prop | Index | Slice | Wildcard | Filter | Scan


def render(steps: tuple[Step, ...]) -> str:
    """Return Jayway's normalised text of ``$`` followed by ``steps``."""
    return "$" + "".join(step.fragment() for step in steps)
