"""Evaluate parsed steps with Jayway JsonPath's semantics and error texts.

This is the general (slower) evaluator: it handles wildcards, unions, slices, filters and
deep scans, and it is also re-run on a failed fast lookup so that the error detail is the one
Jayway would give. Jayway (``PathToken``, ``PropertyPathToken``, ``ArrayPathToken``) only
reports a failure when everything *upstream* of the failing step is definite; below a
wildcard, filter or slice a missing property or wrong type is silently skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from asl.paths._steps import Filter, Index, Prop, Scan, Slice, Step, Wildcard, render

__all__ = ["Miss", "Plan", "evaluate", "is_definite_step", "java_text"]

_PROVIDER = "com.jayway.jsonpath.spi.json.JsonSmartJsonProvider"
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class Miss(Exception):
    """Raised with a Jayway ``PathNotFoundException`` message when a path selects nothing."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def is_definite_step(step: Step, leaf: bool) -> bool:
    """Jayway's ``isTokenDefinite``: one property (or a merged leaf list), or one index."""
    if isinstance(step, Prop):
        return len(step.names) == 1 or leaf
    return isinstance(step, Index) and len(step.indices) == 1


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
        upstream = tuple(all(flags[:i]) for i in range(len(steps)))
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


Out = list[Any]
Handler = Callable[[Plan, int, Any, Any, str, bool, Out], None]


def _walk(plan: Plan, i: int, node: Any, current: str, out: Out) -> None:
    if i == len(plan.steps):
        out.append(node)
        return
    step = plan.steps[i]
    _HANDLERS[type(step)](plan, i, step, node, current, plan.upstream[i], out)


def _prop(plan: Plan, i: int, step: Prop, node: Any, current: str, up: bool, out: Out) -> None:
    if not isinstance(node, dict):
        if up:
            raise Miss(
                f"Expected to find an object with property {step.fragment()} in path {current} "
                f"but found '{java_type(node)}'. This is not a json object according to the "
                f"JsonProvider: '{_PROVIDER}'."
            )
        return
    leaf = i == len(plan.steps) - 1
    if leaf and len(step.names) > 1:  # Jayway merges a leaf multi-property into one object
        out.append({name: node[name] for name in step.names if name in node})
        return
    for name in step.names:
        here = f"{current}['{name}']"
        if name in node:
            _walk(plan, i + 1, node[name], here, out)
        elif not leaf and up and len(step.names) == 1:
            raise Miss(f"Missing property in path {here}")


def _array(plan: Plan, i: int, node: Any, current: str, up: bool) -> bool:
    """Jayway ``checkArrayModel``: may an index/slice step apply to ``node``?"""
    if isinstance(node, list):
        return True
    if up and node is None:
        raise Miss(f"The path {current} is null")
    if up:
        raise Miss(
            f"Filter: {_rest(plan, i)} can only be applied to arrays. "
            f"Current context is: {java_text(node)}"
        )
    return False


def _index(plan: Plan, i: int, step: Index, node: Any, current: str, up: bool, out: Out) -> None:
    if not _array(plan, i, node, current, up):
        return
    size = len(node)
    for index in step.indices:
        actual = index + size if index < 0 else index
        if 0 <= actual < size:  # Jayway ignores an index out of bounds
            _walk(plan, i + 1, node[actual], f"{current}[{index}]", out)


def _slice(plan: Plan, i: int, step: Slice, node: Any, current: str, up: bool, out: Out) -> None:
    if not _array(plan, i, node, current, up):
        return
    for index in range(*slice(step.start, step.stop).indices(len(node))):
        _walk(plan, i + 1, node[index], f"{current}[{index}]", out)


def _wildcard(
    plan: Plan, i: int, step: Wildcard, node: Any, current: str, up: bool, out: Out
) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _walk(plan, i + 1, value, f"{current}['{key}']", out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _walk(plan, i + 1, value, f"{current}[{index}]", out)


def _accepts(step: Filter, value: Any) -> bool:
    try:
        return all(expression.find(value) for expression in step.expressions)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError):
        # Jayway evaluates a comparison of mismatched types to false rather than failing.
        return False


def _filter(plan: Plan, i: int, step: Filter, node: Any, current: str, up: bool, out: Out) -> None:
    if isinstance(node, dict):  # Jayway applies a filter to an object itself
        if _accepts(step, node):
            _walk(plan, i + 1, node, current, out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if _accepts(step, value):
                _walk(plan, i + 1, value, f"{current}[{index}]", out)
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


def _scan(plan: Plan, i: int, step: Scan, node: Any, current: str, up: bool, out: Out) -> None:
    inner = step.inner
    handler = _HANDLERS[type(inner)]
    for container, where in list(_containers(node, current)):
        if isinstance(inner, Prop) and not any(name in container for name in inner.names):
            continue
        if isinstance(inner, Prop | Index | Slice) and isinstance(container, dict) != isinstance(
            inner, Prop
        ):
            continue
        # Below a deep scan nothing is definite, so the handler never raises.
        handler(plan, i, inner, container, where, False, out)


_HANDLERS: dict[type, Any] = {
    Prop: _prop,
    Index: _index,
    Slice: _slice,
    Wildcard: _wildcard,
    Filter: _filter,
    Scan: _scan,
}


def evaluate(plan: Plan, root: Any) -> Any:
    """Evaluate ``plan`` on ``root``: a value for a definite path, else a list of matches.

    Raises :class:`Miss` with Jayway's message when a definite path selects nothing.
    """
    out: Out = []
    if not plan.definite:
        # AWS returns [] for an indefinite path that fails anywhere, even upstream of its
        # wildcard (recorded: "$.item.items[:1]" on {} gives []); Jayway itself would throw
        # "Missing property in path $['item']". A failure can only happen before the first
        # branching step, so no partial results are lost.
        try:
            _walk(plan, 0, root, "$", out)
        except Miss:
            return []
        return out
    _walk(plan, 0, root, "$", out)
    if not out:
        raise Miss(f"No results for path: {render(plan.steps)}")
    return out[0]
