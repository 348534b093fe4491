"""The steps a compiled path is made of, and how Jayway renders them in error texts.

AWS evaluates ASL paths with Jayway JsonPath and quotes Jayway's exception messages in
``Cause`` strings, so every step knows its Jayway "path fragment" (``['name']``, ``[0]``,
``[*]``...): the normalised path ``$['a'][0]`` is what Jayway prints, whatever the source
spelling was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "Filter",
    "FromEnd",
    "Index",
    "Predicate",
    "Prop",
    "Scan",
    "Slice",
    "Step",
    "Wildcard",
    "lookup_keys",
    "render",
]


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
class FromEnd:
    """``[(@.length-N)]``: the element ``N`` places before the end of an array.

    The only script expression we accept: it is in Jayway's README ("the last book") and AWS
    accepts it. ``N`` of 0 (``@.length`` itself) is past the end and selects nothing.
    """

    offset: int
    """``N``: how far before the end; the element is ``array[len(array) - N]``."""

    def fragment(self) -> str:
        """Our rendering: Jayway 2.x has no such token, so the source form is kept."""
        return f"[(@.length-{self.offset})]"


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


class Predicate(Protocol):
    """A compiled filter predicate (see :mod:`asl.paths._predicate`)."""

    def test(self, item: Any, root: Any) -> bool:
        """Whether ``item`` passes; ``root`` is what ``$`` means inside the filter."""
        ...


@dataclass(frozen=True, slots=True)
class Filter:
    """``[?(<predicate>)]``: keep the objects for which the predicate holds."""

    text: str
    """The predicate text between ``?(`` and ``)``."""
    predicate: Predicate
    """The compiled predicate."""

    def fragment(self) -> str:
        """Jayway's rendering of a filter token."""
        return "[?]"


@dataclass(frozen=True, slots=True)
class Scan:
    """``..`` (deep scan) followed by the step applied at every depth."""

    inner: Prop | Index | FromEnd | Slice | Wildcard | Filter
    """The step applied to the node and all of its descendants."""

    def fragment(self) -> str:
        """Jayway's rendering, e.g. ``..['a']``."""
        return ".." + self.inner.fragment()


Step = Prop | Index | FromEnd | Slice | Wildcard | Filter | Scan


def render(steps: tuple[Step, ...]) -> str:
    """Return Jayway's normalised text of ``$`` followed by ``steps``."""
    return "$" + "".join(step.fragment() for step in steps)


def lookup_keys(steps: tuple[Step, ...]) -> tuple[str | int, ...] | None:
    """The lookup keys of a single-node path, or ``None`` if it has any other step."""
    keys: list[str | int] = []
    for step in steps:
        if isinstance(step, Prop) and len(step.names) == 1:
            keys.append(step.names[0])
        elif isinstance(step, Index) and len(step.indices) == 1:
            keys.append(step.indices[0])
        else:
            return None
    return tuple(keys)
