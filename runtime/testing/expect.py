"""Check one execution against a case's ``expect``: one located line per broken expectation.

=================  ==========================================================================
``status``         SUCCEEDED, FAILED, TIMED_OUT or ABORTED
``output``         the output, exactly (JSON equality: ``1`` and ``1.0`` are equal)
``output_contains`` a JSON subset of the output: objects may have more keys, arrays must have
                   the same length and each item contains the expected item
``error``/``cause`` the execution's error and cause, exactly
``path``           the top-level states entered, in order (each visit: a loop repeats names)
``visited``        states (any depth) entered at least once
``not_visited``    states (any depth) never entered
``variables``      top-level variables at the end, by name (each a JSON subset)
``retries``        retries per state, summed over its visits (``0`` asserts none)
``events``         the history's event types, exactly and in order
``events_contain`` event types found in the history in this order, others allowed between
=================  ==========================================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from asl.source import escape_pointer
from runtime.testing.suite import Case
from runtime.testing.trail import Trail, trail_of

__all__ = ["check", "json_subset_mismatch"]

_SHOWN = 120


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _same(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(type(a) is type(b) or (_number(a) and _number(b))) and a == b


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_subset_mismatch(expected: Any, actual: Any, at: str = "") -> tuple[str, str] | None:
    """Where ``expected`` is not a JSON subset of ``actual``: (pointer, message), or None."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return at, f"expected an object, got {_show(actual)}"
        for key, value in expected.items():
            here = f"{at}/{escape_pointer(key)}"
            if key not in actual:
                return here, f"missing (expected {_show(value)})"
            found = json_subset_mismatch(value, actual[key], here)
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return at, f"expected {len(expected)} items, got {_show(actual)}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found = json_subset_mismatch(want, got, f"{at}/{index}")
            if found:
                return found
        return None
    if not _same(expected, actual):
        return at, f"expected {_show(expected)}, got {_show(actual)}"
    return None


def check(case: Case, result: Any) -> Iterator[str]:
    """Every expectation of ``case`` that ``result`` breaks, one located line each."""
    trail = trail_of(result)
    for key, value in case.expect.items():
        for pointer, message in _CHECKS[key](value, result, trail):
            yield f"{case.at('expect', key)}{pointer}: {message}"


Found = Iterator[tuple[str, str]]


def _status(want: str, result: Any, trail: Trail) -> Found:
    if result.status != want:
        why = ": ".join(str(p) for p in (result.error, result.cause) if p)
        yield "", f"expected {want}, got {result.status}" + (f" ({why})" if why else "")


def _output(want: Any, result: Any, trail: Trail) -> Found:
    if result.status != "SUCCEEDED":
        yield "", f"no output: the execution is {result.status}"
    elif not _same(want, result.output):
        found = json_subset_mismatch(want, result.output)
        where, what = found if found else ("", "")
        detail = f" (first difference at {where or '/'}: {what})" if found else ""
        yield "", f"expected {_show(want)}, got {_show(result.output)}{detail}"


def _output_contains(want: Any, result: Any, trail: Trail) -> Found:
    if result.status != "SUCCEEDED":
        yield "", f"no output: the execution is {result.status}"
        return
    found = json_subset_mismatch(want, result.output)
    if found:
        yield found


def _text(field: str) -> Callable[[Any, Any, Trail], Found]:
    def check_text(want: str, result: Any, trail: Trail) -> Found:
        got = getattr(result, field)
        if got != want:
            yield "", f"expected {_show(want)}, got {_show(got)}"

    return check_text


def _path(want: Sequence[str], result: Any, trail: Trail) -> Found:
    got = trail.path()
    if list(want) == got:
        return
    index = next(
        (i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
        min(len(want), len(got)),
    )
    if index < len(want) and index < len(got):
        what = f"expected {want[index]!r}, got {got[index]!r}"
    elif index < len(want):
        what = f"expected {want[index]!r}, but the execution entered no more top-level states"
    else:
        what = f"the execution went on to {got[index]!r}"
    yield f"/{index}", f"{what} (path taken: {' → '.join(got) or 'none'})"


def _visited(want: Sequence[str], result: Any, trail: Trail) -> Found:
    seen = trail.visited()
    for index, name in enumerate(want):
        if name not in seen:
            yield f"/{index}", f"{name!r} was never entered"


def _not_visited(want: Sequence[str], result: Any, trail: Trail) -> Found:
    seen = trail.visited()
    for index, name in enumerate(want):
        if name in seen:
            yield f"/{index}", f"{name!r} was entered"


def _variables(want: Mapping[str, Any], result: Any, trail: Trail) -> Found:
    got = trail.variables()
    for name, value in want.items():
        here = "/" + escape_pointer(name)
        if name not in got:
            known = ", ".join(sorted(got)) or "none"
            yield here, f"no top-level variable {name!r} was assigned (assigned: {known})"
            continue
        found = json_subset_mismatch(value, got[name])
        if found:
            yield here + found[0], found[1]


def _retries(want: Mapping[str, int], result: Any, trail: Trail) -> Found:
    got = trail.retries()
    for name, count in want.items():
        if got.get(name, 0) != count:
            yield "/" + escape_pointer(name), f"expected {count} retries, got {got.get(name, 0)}"


def _events(want: Sequence[str], result: Any, trail: Trail) -> Found:
    got = trail.event_types()
    for index, (a, b) in enumerate(zip(want, got, strict=False)):
        if a != b:
            yield f"/{index}", f"expected {a}, got {b} (event {index + 1} of {len(got)})"
            return
    if len(want) != len(got):
        more = got[len(want) :] if len(got) > len(want) else want[len(got) :]
        side = "the history goes on with" if len(got) > len(want) else "the history ends before"
        yield "", f"{side} {', '.join(more[:5])}{'…' if len(more) > 5 else ''}"


def _events_contain(want: Sequence[str], result: Any, trail: Trail) -> Found:
    got = iter(trail.event_types())
    for index, name in enumerate(want):
        if not any(event == name for event in got):
            yield f"/{index}", f"no {name} event after the ones matched before it"
            return


_CHECKS: dict[str, Callable[[Any, Any, Trail], Found]] = {
    "status": _status,
    "output": _output,
    "output_contains": _output_contains,
    "error": _text("error"),
    "cause": _text("cause"),
    "path": _path,
    "visited": _visited,
    "not_visited": _not_visited,
    "variables": _variables,
    "retries": _retries,
    "events": _events,
    "events_contain": _events_contain,
}
