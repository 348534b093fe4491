"""The functions Step Functions adds to JSONata, and the one it takes away.

AWS (DG "Transforming data with JSONata", "JSONata functions provided by Step Functions"):
"All built-in JSONata functions and operators in the 2.0.6 specification are supported, with
one exception: ``$eval`` is not available -- use ``$parse`` instead", plus ``$partition``,
``$range``, ``$hash``, ``$random`` (with an optional seed), ``$uuid`` and ``$parse``.

Each entry of :data:`EXTRA_FUNCTIONS` is registered on every compiled expression with a
JSONata signature, so the engine checks argument types exactly as it does for built-ins and
reports ``T0410: Argument 1 of function "range" does not match function signature``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["EXTRA_FUNCTIONS", "HASH_ALGORITHMS", "ExtraFunction", "FunctionError"]

#: Upper bound on ``$range`` results. Any JSON array of this many items is over the 256 KiB
#: payload quota once written (two bytes an item at least), so no state could output it;
#: an unbounded list would let one expression exhaust memory (9.9M items took 1.95 GB).
#: AWS publishes no bound of its own; JSONata's range operator stops at 1e7 (D2014).
MAX_RANGE_ITEMS: Final = 131_072

#: ``$hash`` algorithm names, spelled as AWS documents them (same set as ``States.Hash``).
HASH_ALGORITHMS: Final[dict[str, Callable[[bytes], Any]]] = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}


class FunctionError(Exception):
    """Raised by an extra function; the engine passes it through with its position.

    ``code`` follows the JSONata convention (``T1006``...) or is empty for AWS's own
    failures, whose code AWS does not publish.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ExtraFunction:
    """One function registered into every evaluation."""

    name: str
    """The name without ``$``."""
    implementation: Callable[..., Any]
    """Called with the already type-checked arguments."""
    signature: str | None
    """JSONata signature string checked by the engine before each call."""

    @property
    def pattern(self) -> re.Pattern[str]:
        """Matches a reference to ``$name`` in expression text."""
        return _reference(self.name)


def _reference(name: str) -> re.Pattern[str]:
    return re.compile(rf"\${name}(?![A-Za-z0-9_])")


def _integral(value: float, what: str) -> int:
    """Truncate ``value`` toward zero, as peers observed AWS's ``$range`` doing."""
    if not math.isfinite(value):
        raise FunctionError("", f"The {what} argument of $range must be a finite number")
    return int(value)


def partition(array: list[Any], size: float) -> list[list[Any]]:
    """``$partition(array, size)``: chunks of ``size``; the last one may be shorter.

    ``$partition([1,2,3,4,5], 2)`` is ``[[1,2],[3,4],[5]]`` and ``$partition([], 2)`` is
    ``[]`` (ASLS ``functions.ts``; conformance ``array_jsonata.array_partition.*``).
    """
    if isinstance(size, bool) or size != int(size) or size < 1:
        raise FunctionError("", "The size argument of $partition must be a positive integer")
    step = int(size)
    return [array[i : i + step] for i in range(0, len(array), step)]


def range_(start: float, end: float, step: float) -> Any:
    """``$range(start, end, step)``: ``start``, ``start+step``... up to ``end`` inclusive.

    The result is a JSONata sequence, so one item collapses to the item itself: AWS answers
    ``$range(1, 9, 9)`` with ``1`` (conformance ``array_jsonata.array_range.2``). A step of
    zero or pointing away from ``end`` gives no items; the engine cannot return undefined
    from a host function, so that is ``[]``, as the ASLS documentation shows.
    """
    first = _integral(start, "start")
    last = _integral(end, "end")
    delta = _integral(step, "step")
    if delta == 0 or (delta > 0 and first > last) or (delta < 0 and first < last):
        return []
    count = abs(last - first) // abs(delta) + 1
    if count > MAX_RANGE_ITEMS:
        raise FunctionError("", f"$range would allocate {count} items (limit {MAX_RANGE_ITEMS})")
    items = list(range(first, last + (1 if delta > 0 else -1), delta))
    return items[0] if len(items) == 1 else items


def hash_(data: str, algorithm: str) -> str:
    """``$hash(data, algorithm)``: the lower-case hex digest of ``data`` as UTF-8."""
    digest = HASH_ALGORITHMS.get(algorithm)
    if digest is None:
        names = ", ".join(HASH_ALGORITHMS)
        raise FunctionError(
            "", f"The hash algorithm '{algorithm}' is not supported. Use one of: {names}"
        )
    return str(digest(data.encode("utf-8", "surrogatepass")).hexdigest())


def random_(seed: Any = None) -> float:
    """``$random([seed])``: a number in [0, 1); the same seed always gives the same number.

    AWS does not publish its generator, so seeded values match AWS only in being
    deterministic; the seed is keyed by its JSON text so ``1`` and ``1.0`` agree.
    """
    if seed is None:
        return random.random()
    return random.Random(json.dumps(seed)).random()


def uuid_() -> str:
    """``$uuid()``: a random version 4 UUID."""
    return str(uuid.uuid4())


def parse(text: str) -> Any:
    """``$parse(jsonString)``: the JSON value ``text`` holds (AWS's stand-in for ``$eval``)."""
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except ValueError as exc:
        raise FunctionError("", f"The argument of $parse is not valid JSON: {exc}") from None
    except RecursionError:
        raise FunctionError("", "The argument of $parse is nested too deeply") from None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    """A JSON number as a double; ``1e999`` has none (and could never be written back)."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text} is too large")
    return value


def eval_removed(*_args: Any) -> Any:
    """``$eval`` is removed on AWS; calling it fails as calling any unknown function does.

    AWS answers an unknown function such as ``$randomSeeded(...)`` with
    "T1006: Attempted to invoke a non-function" (LocalStack snapshot
    ``test_math_operations_jsonata``), which is what a name without a function gives.
    """
    raise FunctionError("T1006", "Attempted to invoke a non-function")


def _checked(name: str, implementation: Callable[..., Any]) -> Callable[..., Any]:
    """``implementation``, failing as JSONata does on an argument of the wrong type.

    The engine checks a signature's types but passes an undefined argument through as
    None (``$range($states.input.missing, 1, 1)``); a Python error on it is JSONata's
    T0410, never a traceback.
    """

    @functools.wraps(implementation)
    def call(*args: Any) -> Any:
        try:
            return implementation(*args)
        except (TypeError, AttributeError):
            raise FunctionError(
                "T0410", f'An argument of function "{name}" does not match function signature'
            ) from None

    return call


#: Registered on every compiled expression. A binding of the same name (a workflow variable)
#: takes precedence, as a JSONata binding does over a built-in.
EXTRA_FUNCTIONS: Final[tuple[ExtraFunction, ...]] = tuple(
    ExtraFunction(name, _checked(name, implementation), signature)
    for name, implementation, signature in (
        ("partition", partition, "<an:a>"),
        ("range", range_, "<nnn:x>"),
        ("hash", hash_, "<ss:s>"),
        ("random", random_, "<(ns)?:n>"),
        ("uuid", uuid_, "<:s>"),
        ("parse", parse, "<s:x>"),
        ("eval", eval_removed, None),
    )
)
