"""``ResultPath``: put a value into a document at a reference path (SPEC §ResultPath).

The document is copied only along the path being written; everything else is shared (the
runtime never mutates values). Missing intermediate objects are created.
"""

from __future__ import annotations

import json
from typing import Any

from asl.errors import StatesError

__all__ = ["assign"]

_MISSING: Any = object()


def _failure(text: str, data: Any) -> StatesError:
    # The exact AWS cause is not recorded anywhere we could find; this wording is ours.
    shown = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return StatesError(
        "States.ResultPathMatchFailure",
        f"Unable to apply ResultPath '{text}' to input '{shown}'",
    )


def assign(text: str, data: Any, keys: tuple[str | int, ...], value: Any) -> Any:
    """Return ``data`` with ``value`` at ``keys``; raise ``States.ResultPathMatchFailure``."""
    if len(keys) == 1 and type(data) is dict and type(keys[0]) is str:
        copy = dict(data)  # ``$.name``, the most common ResultPath: _put's first step
        copy[keys[0]] = value
        return copy
    return _put(text, data, data, keys, 0, value)


def _put(text: str, data: Any, node: Any, keys: tuple[str | int, ...], i: int, value: Any) -> Any:
    if i == len(keys):
        return value
    key = keys[i]
    if isinstance(key, str):
        if node is _MISSING:
            node = {}
        if not isinstance(node, dict):
            raise _failure(text, data)
        copy = dict(node)
        copy[key] = _put(text, data, node.get(key, _MISSING), keys, i + 1, value)
        return copy
    if not isinstance(node, list) or not -len(node) <= key < len(node):
        raise _failure(text, data)
    items = list(node)
    items[key] = _put(text, data, node[key], keys, i + 1, value)
    return items
