"""Evaluate parsed steps with Jayway JsonPath's semantics and error texts.

This is the general (slower) evaluator: it handles wildcards, unions, slices, filters and
deep scans, and it is also re-run on a failed fast lookup so that the error detail is the one
Jayway would give. Jayway (``PathToken``, ``PropertyPathToken``, ``ArrayPathToken``) only
reports a failure when everything *upstream* of the failing step is definite; below a
wildcard, filter or slice a missing property or wrong type is silently skipped.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from asl.paths._steps import Filter, FromEnd, Index, Prop, Scan, Slice, Step, Wildcard, render

__all__ = ["Miss", "Plan", "evaluate", "is_definite_step", "java_text"]

_PROVIDER = "com.jayway.jsonpath.spi.json.JsonSmartJsonProvider"
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_NO_ROOT: Any = object()


class Miss(Exception):
    """Raised with a Jayway ``PathNotFoundException`` message when a path selects nothing."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def is_definite_step(step: Step, leaf: bool) -> bool:
    """Jayway's ``isTokenDefinite``: one property (or a merged leaf list), or one index."""
    if isinstance(step, Prop):
        return len(step.names) == 1 or leaf
    return isinstance(step, FromEnd) or (isinstance(step, Index) and len(step.indices) == 1)


@dataclass(frozen=True, slots=True)
class Plan:
    """Steps plus, per step, whether every step before it is definite (precomputed)."""

    steps: tuple[Step, ...]
    """The path's steps."""
    upstream: tuple[bool, ...]
    """``upstream[i]``: steps ``0..i-1`` are all definite (Jayway ``isUpstreamDefinite``)."""
    definite: bool
    """Whether the whole path is definite (returns one value, not a list)."""

    @classmethod
    def of(cls, steps: tuple[Step, ...]) -> Plan:
        """Build the plan for ``steps``."""
        last = len(steps) - 1
        flags = [is_definite_step(step, i == last) for i, step in enumerate(steps)]
        # A running "all so far" (linear: a 100,000-step path must not cost n² checks).
        upstream = tuple(itertools.accumulate([True, *flags[:-1]], operator.and_)) if flags else ()
        return cls(steps, upstream, all(flags))


def java_type(value: Any) -> str:
    """The Java class json-smart would have produced for ``value`` (quoted by Jayway)."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # bool first: isinstance(True, int) is True
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if _INT_MIN <= value <= _INT_MAX else "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    return "net.minidev.json.JSONArray" if isinstance(value, list) else type(value).__name__


def java_text(value: Any) -> str:
    """``toString()`` of a json-smart value: compact JSON for containers."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _rest(plan: Plan, i: int) -> str:
    """Jayway's ``PathToken.toString()``: this token's fragment and all that follow."""
    return render(plan.steps[i:])[1:]


class _Run:
    """One evaluation: the plan, what ``$`` means inside filters, and the matches so far."""

    __slots__ = ("out", "plan", "root")

    def __init__(self, plan: Plan, root: Any) -> None:
        self.plan = plan
        self.root = root
        self.out: list[Any] = []


Handler = Callable[[_Run, int, Any, Any, str, bool], None]


def _walk(run: _Run, i: int, node: Any, current: str) -> None:
    plan = run.plan
    if i == len(plan.steps):
        run.out.append(node)
        return
    step = plan.steps[i]
    _HANDLERS[type(step)](run, i, step, node, current, plan.upstream[i])


def _prop(run: _Run, i: int, step: Prop, node: Any, current: str, up: bool) -> None:
    if not isinstance(node, dict):
        if up:
            raise Miss(
                f"Expected to find an object with property {step.fragment()} in path {current} "
                f"but found '{java_type(node)}'. This is not a json object according to the "
                f"JsonProvider: '{_PROVIDER}'."
            )
        return
    leaf = i == len(run.plan.steps) - 1
    if leaf and len(step.names) > 1:  # Jayway merges a leaf multi-property into one object
        run.out.append({name: node[name] for name in step.names if name in node})
        return
    for name in step.names:
        here = f"{current}['{name}']"
        if name in node:
            _walk(run, i + 1, node[name], here)
        elif not leaf and up and len(step.names) == 1:
            raise Miss(f"Missing property in path {here}")


def _array(run: _Run, i: int, node: Any, current: str, up: bool) -> bool:
    """Jayway ``checkArrayModel``: may an index/slice step apply to ``node``?"""
    if isinstance(node, list):
        return True
    if up and node is None:
        raise Miss(f"The path {current} is null")
    if up:
        raise Miss(
            f"Filter: {_rest(run.plan, i)} can only be applied to arrays. "
            f"Current context is: {java_text(node)}"
        )
    return False


def _index(run: _Run, i: int, step: Index, node: Any, current: str, up: bool) -> None:
    if not _array(run, i, node, current, up):
        return
    size = len(node)
    for index in step.indices:
        actual = index + size if index < 0 else index
        if 0 <= actual < size:  # Jayway ignores an index out of bounds
            _walk(run, i + 1, node[actual], f"{current}[{index}]")


def _from_end(run: _Run, i: int, step: FromEnd, node: Any, current: str, up: bool) -> None:
    if not _array(run, i, node, current, up):
        return
    actual = len(node) - step.offset
    if 0 <= actual < len(node):
        _walk(run, i + 1, node[actual], f"{current}[{actual}]")


def _slice(run: _Run, i: int, step: Slice, node: Any, current: str, up: bool) -> None:
    if not _array(run, i, node, current, up):
        return
    for index in range(*slice(step.start, step.stop).indices(len(node))):
        _walk(run, i + 1, node[index], f"{current}[{index}]")


def _wildcard(run: _Run, i: int, step: Wildcard, node: Any, current: str, up: bool) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _walk(run, i + 1, value, f"{current}['{key}']")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _walk(run, i + 1, value, f"{current}[{index}]")


def _filter(run: _Run, i: int, step: Filter, node: Any, current: str, up: bool) -> None:
    test, root = step.predicate.test, run.root
    if isinstance(node, dict):  # Jayway applies a filter to an object itself
        if test(node, root):
            _walk(run, i + 1, node, current)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            # AWS (paths page): "The @ operator ... does not match scalar values. It only
            # matches objects."
            if isinstance(value, dict) and test(value, root):
                _walk(run, i + 1, value, f"{current}[{index}]")
    # On a primitive Jayway would throw "Filter: ... can not be applied to primitives", but a
    # filter makes the path indefinite, and AWS returns [] for those (see evaluate).


def _containers(node: Any, current: str) -> Iterator[tuple[Any, str]]:
    """Every object and array at or below ``node``, in document (pre-)order."""
    if isinstance(node, dict):
        yield node, current
        for key, value in node.items():
            yield from _containers(value, f"{current}['{key}']")
    elif isinstance(node, list):
        yield node, current
        for index, value in enumerate(node):
            yield from _containers(value, f"{current}[{index}]")


def _scan(run: _Run, i: int, step: Scan, node: Any, current: str, up: bool) -> None:
    inner = step.inner
    handler = _HANDLERS[type(inner)]
    for container, where in list(_containers(node, current)):
        if isinstance(inner, Prop) and not any(name in container for name in inner.names):
            continue
        if isinstance(inner, Prop | Index | FromEnd | Slice) and isinstance(
            container, dict
        ) != isinstance(inner, Prop):
            continue
        # Jayway's scan tests a predicate on each object it walks, not again on each array
        # element (which is an object it walks too): no duplicates.
        if isinstance(inner, Filter) and not isinstance(container, dict):
            continue
        # Below a deep scan nothing is definite, so the handler never raises.
        handler(run, i, inner, container, where, False)


_HANDLERS: dict[type, Any] = {
    Prop: _prop,
    Index: _index,
    FromEnd: _from_end,
    Slice: _slice,
    Wildcard: _wildcard,
    Filter: _filter,
    Scan: _scan,
}


def evaluate(plan: Plan, start: Any, root: Any = _NO_ROOT) -> Any:
    """Evaluate ``plan`` on ``start``: a value for a definite path, else a list of matches.

    ``root`` is what ``$`` means inside a filter (``start`` unless given: a filter's ``@...``
    sub-path starts at the item but still sees the whole document as ``$``). Raises
    :class:`Miss` with Jayway's message when a definite path selects nothing.
    """
    run = _Run(plan, start if root is _NO_ROOT else root)
    if not plan.definite:
        # AWS returns [] for an indefinite path that fails anywhere, even upstream of its
        # wildcard (recorded: "$.item.items[:1]" on {} gives []); Jayway itself would throw
        # "Missing property in path $['item']". A failure can only happen before the first
        # branching step, so no partial results are lost.
        try:
            _walk(run, 0, start, "$")
        except Miss:
            return []
        return run.out
    _walk(run, 0, start, "$")
    if not run.out:
        raise Miss(f"No results for path: {render(plan.steps)}")
    return run.out[0]
