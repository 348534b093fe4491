"""Where a mocked answer must change for a later state to see a value (``asl mock init``).

Two questions, answered from the definition's own fields:

* which value makes a Choice rule match, or fail to match (:func:`witness`): ``StringEquals
  "x"`` wants ``"x"``, ``NumericGreaterThan 5`` wants 6, ``Not``/``And``/``Or`` combine;
* where in an earlier Task's answer a value must be put for it to appear at a path of a
  later state's input (:func:`result_location`): back through the Task's OutputPath,
  ResultPath and ResultSelector (JSONPath), or its ``Output`` (JSONata).

Both are guesses that a run confirms: the generator keeps only what the engine, run on the
mocks, shows to work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "ABSENT",
    "Keys",
    "assignment_source",
    "get",
    "has",
    "input_keys",
    "jsonata_result_paths",
    "nested_names",
    "path_keys",
    "placeholder_for",
    "put",
    "reference",
    "result_location",
    "selector_paths",
]

Keys = tuple[str | int, ...]


def path_keys(text: Any) -> Keys | None:
    """The keys of a single-node input path (``$.a.b[0]``), else None (``$$``, variables,
    filters, wildcards, intrinsics)."""
    if not isinstance(text, str) or not text.startswith("$") or text.startswith("$$"):
        return None
    from asl.errors import ASLError
    from asl.paths import compile_path

    try:
        path = compile_path(text)
    except ASLError:
        return None
    if path.root != "input" or not path.is_reference:
        return None
    keys = path._keys  # a reference path's names and indexes, as compiled
    return tuple(keys) if keys is not None else None


def reference(text: Any) -> tuple[str | None, Keys] | None:
    """``(None, keys)`` for a single-node input path, ``(variable, keys)`` for a
    single-node path into a variable (``$best.auc``), else None."""
    if not isinstance(text, str) or not text.startswith("$") or text.startswith("$$"):
        return None
    from asl.errors import ASLError
    from asl.paths import compile_path

    try:
        path = compile_path(text)
    except ASLError:
        return None
    keys = path._keys  # a reference path's names and indexes, as compiled
    if not path.is_reference or keys is None or path.root == "context":
        return None
    return (path.variable if path.root == "variable" else None), tuple(keys)


# -- from a later state's input back to an earlier Task's answer -----------------------------

_RESULT_EXPR = re.compile(r"^\{%\s*\$states\.result((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*%\}$")


def result_location(task: Mapping[str, Any], keys: Keys, jsonata: bool) -> Keys | None:
    """Where in ``task``'s answer a value must be for it to be at ``keys`` of the Task's
    output (so, of the next states' input while nothing replaces it); None if it cannot."""
    if jsonata:
        output = task.get("Output")
        if output is None:
            return keys
        matched = _RESULT_EXPR.match(output) if isinstance(output, str) else None
        if matched is None:
            return None
        return tuple(part for part in matched.group(1).split(".") if part) + keys
    output_path = task.get("OutputPath", "$")
    prefix = () if output_path is None else path_keys(output_path)
    if prefix is None:
        return None
    full = prefix + keys
    result_path = task.get("ResultPath", "$")
    if result_path is None:
        return None
    at = path_keys(result_path)
    if at is None or full[: len(at)] != at:
        return None
    rest = full[len(at) :]
    selector = task.get("ResultSelector")
    if selector is None:
        return rest
    return _through_selector(selector, rest)


def _through_selector(selector: Any, rest: Keys) -> Keys | None:
    if not rest or not isinstance(selector, Mapping):
        return None
    head, tail = rest[0], rest[1:]
    if isinstance(head, str) and f"{head}.$" in selector:
        source = path_keys(selector[f"{head}.$"])
        return None if source is None else source + tail
    if head in selector:
        return _through_selector(selector[head], tail)
    return None


def selector_paths(selector: Any) -> Iterator[tuple[str, str]]:
    """(field, path) of every ``.$`` field of a ResultSelector, intrinsic arguments too."""
    if isinstance(selector, Mapping):
        for key, value in selector.items():
            if key.endswith(".$") and isinstance(value, str):
                for path in re.findall(r"(?<![\w$])\$(?:\.[A-Za-z_][\w]*|\[\d+\])+", value):
                    yield key, path
            else:
                yield from selector_paths(value)
    elif isinstance(selector, list):
        for item in selector:
            yield from selector_paths(item)


_RESULT_REF = re.compile(r"\$states\.result((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def jsonata_result_paths(state: Mapping[str, Any]) -> Iterator[Keys]:
    """The members of ``$states.result`` that a JSONata state's Output and Assign read."""
    for field in ("Output", "Assign"):
        for text in _strings(state.get(field)):
            for matched in _RESULT_REF.finditer(text):
                yield tuple(part for part in matched.group(1).split(".") if part)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# -- values ----------------------------------------------------------------------


_ABSENT = object()


def has(value: Any, keys: Keys) -> bool:
    """Whether ``value`` has something at ``keys``."""
    return get(value, keys, _ABSENT) is not _ABSENT


def get(value: Any, keys: Keys, default: Any) -> Any:
    """What ``value`` holds at ``keys``, else ``default``."""
    for key in keys:
        if not _holds(value, key):
            return default
        value = value[key]
    return value


def _holds(value: Any, key: str | int) -> bool:
    if isinstance(key, int):
        return isinstance(value, list) and 0 <= key < len(value)
    return isinstance(value, dict) and key in value


#: The value :func:`put` takes as "remove what is at these keys" (IsPresent false).
class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"

    def __deepcopy__(self, memo: Any) -> _Absent:
        return self


ABSENT: Any = _Absent()


def put(root: Any, keys: Keys, value: Any) -> Any:
    """``root`` with ``value`` at ``keys``, containers made on the way (``ABSENT``: with
    the member at ``keys`` removed)."""
    if not keys:
        return value
    key, rest = keys[0], keys[1:]
    if value is ABSENT and len(keys) == 1:
        if isinstance(root, dict):
            return {k: v for k, v in root.items() if k != key}
        return root
    if isinstance(key, int):
        items = list(root) if isinstance(root, list) else []
        while len(items) <= key:
            items.append({})
        items[key] = put(items[key], rest, value)
        return items
    mapping = dict(root) if isinstance(root, dict) else {}
    mapping[key] = put(mapping.get(key), rest, value)
    return mapping


def placeholder_for(keys: Keys) -> Any:
    from runtime.testing.mockinit.responses import placeholder

    last = next((k for k in reversed(keys) if isinstance(k, str)), "value")
    return placeholder(str(last))


def nested_names(scope: Mapping[str, Any]) -> set[str]:
    """Every state name nested in a state or processor (Parallel branches, Map processors)."""
    found: set[str] = set()
    for branch in [
        *(scope.get("Branches") or []),
        scope.get("ItemProcessor"),
        scope.get("Iterator"),
    ]:
        if isinstance(branch, Mapping):
            for name, state in (branch.get("States") or {}).items():
                found.add(name)
                found |= nested_names(state)
    states = scope.get("States")
    if isinstance(states, Mapping) and not found:
        for name, state in states.items():
            found.add(name)
            found |= nested_names(state)
    return found


_INPUT_EXPR = re.compile(r"^\{%\s*\$states\.input((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*%\}$")


def input_keys(expression: Any) -> Keys | None:
    """The keys of ``{% $states.input.a.b %}`` (a JSONata Items), else None."""
    matched = _INPUT_EXPR.match(str(expression))
    return path_keys("$" + matched.group(1)) if matched else None


_ASSIGN_RESULT = re.compile(
    r"^\{%\s*\$states\.(?P<source>result|input)(?P<path>(?:\.[A-Za-z_]\w*)*)"
    r"(?:\.\{(?P<object>[^{}]*)\})?\s*%\}$"
)
_OBJECT_ENTRY = re.compile(
    r"^\s*['\"](?P<key>[^'\"]+)['\"]\s*:\s*(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*$"
)


def assignment_source(expression: str, keys: Keys) -> tuple[str, Keys | None]:
    """Where ``keys`` of a variable assigned by ``expression`` come from: ``("result",
    loc)`` or ``("input", loc)``; loc None when the expression is not a plain path or
    a path followed by an object of paths."""
    matched = _ASSIGN_RESULT.match(expression)
    if matched is None:
        return "", None
    base = tuple(part for part in matched["path"].split(".") if part)
    if matched["object"] is None:
        return matched["source"], base + keys
    if not keys:
        return "", None
    for entry in matched["object"].split(","):
        found = _OBJECT_ENTRY.match(entry)
        if found is not None and found["key"] == keys[0]:
            return matched["source"], base + tuple(found["path"].split(".")) + keys[1:]
    return "", None
