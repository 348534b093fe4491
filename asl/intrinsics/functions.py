"""The 18 ``States.*`` intrinsic functions, one table keyed by ASL name.

Each entry declares its signature (how many arguments) and a body that takes the evaluated
argument values. A body reports bad arguments by raising :class:`InvalidArguments`; the call
node that runs it adds the AWS cause prefix naming the call. Behaviour follows AWS as
recorded in the conformance cases, the developer guide (DG:intrinsic-functions) and
observations of AWS quoted next to each rule.

Randomness (``States.MathRandom`` without a seed, ``States.UUID``) comes from one
module-level ``random.Random``; :func:`use_random` swaps it. A hook rather than a parameter
because ``Intrinsic.evaluate`` keeps the package-wide ``(data, context, variables)``
signature and compiled objects are shared by every execution; a test that needs
reproducible values installs a seeded ``random.Random`` and restores the old one after.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from asl.intrinsics._text import Template, TemplateError, compact_json, parse_template, render_value

__all__ = ["FUNCTIONS", "Function", "InvalidArguments", "use_random"]

#: AWS limits (DG:intrinsic-functions): ArrayRange output, Base64/Hash input length.
MAX_RANGE_ITEMS = 1000
MAX_TEXT_CHARS = 10_000
#: MathAdd works on Java ints; operands or sums outside this range fail (AWS observation).
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}

_random: random.Random = random.SystemRandom()


class InvalidArguments(Exception):
    """Raised by a function body when its arguments are unusable."""

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail
        super().__init__(detail or "Invalid arguments")


Body = Callable[[Sequence[Any]], Any]


@dataclass(frozen=True, slots=True)
class Function:
    """One intrinsic function: its ASL ``name``, argument counts and ``body``."""

    #: The full ASL name, e.g. ``States.Format``.
    name: str
    #: Fewest arguments accepted.
    min_args: int
    #: Most arguments accepted; ``None`` for no limit.
    max_args: int | None
    #: Computes the result from the evaluated arguments; raises InvalidArguments.
    body: Body

    def accepts(self, count: int) -> bool:
        """True when ``count`` arguments fit the signature."""
        return self.min_args <= count and (self.max_args is None or count <= self.max_args)


def use_random(rng: random.Random | None) -> random.Random:
    """Install ``rng`` as the source for MathRandom/UUID; return the previous one.

    ``None`` restores the default, an OS-entropy ``random.SystemRandom``.
    """
    global _random
    previous = _random
    _random = rng if rng is not None else random.SystemRandom()
    return previous


# -- argument checks -----------------------------------------------------------------------


def _number(value: Any) -> int | float:
    kind = type(value)
    if kind is int or kind is float:
        return value  # type: ignore[no-any-return]
    # bool is an int subclass in Python; AWS rejects true/false where numbers are expected.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArguments
    return value


def _truncated(value: Any) -> int:
    """AWS casts fractional ArrayRange/ArrayPartition/ArrayGetItem/MathRandom values like
    Java's ``(int)``: toward zero (AWS observations: ArrayPartition(…, 2.6) uses 2,
    MathRandom(1.6, 5.4) may return 1)."""
    if type(value) is int:
        return value
    number = _number(value)
    if isinstance(number, int):
        return number
    if not math.isfinite(number):
        raise InvalidArguments
    return int(number)


def _rounded(value: Any) -> int:
    """MathAdd rounds half up like Java's ``Math.round`` (conformance ``math_add``:
    2.5 → 3, -2.5 → -2, -1.51 → -2)."""
    if type(value) is int:
        return value
    number = _number(value)
    return number if isinstance(number, int) else math.floor(number + 0.5)


def _array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidArguments
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidArguments
    return value


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidArguments
    return value


def _json_key(value: Any) -> str:
    """A canonical text for JSON equality: key order ignored, ``true`` distinct from ``1``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# -- generic -------------------------------------------------------------------------------


def _format(args: Sequence[Any]) -> str:
    template = args[0]
    if isinstance(template, TemplateError):  # a literal template that failed to parse
        raise InvalidArguments(f"Invalid template in States.Format: {template}")
    if not isinstance(template, Template):
        try:
            template = parse_template(_string(template))
        except TemplateError as error:
            raise InvalidArguments(f"Invalid template in States.Format: {error}") from None
    values = args[1:]
    if template.placeholders != len(values):
        raise InvalidArguments(
            "Invalid arguments in States.Format: "
            "number of arguments do not match the occurrences of {}."
        )
    return template.fill([render_value(value) for value in values])


def _string_to_json(args: Sequence[Any]) -> Any:
    text = _string(args[0])
    if not text.strip():  # conformance json_manipulation.string_to_json.0/.1: "" and " " → null
        return None
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError):
        # Not JSON, nested deeper than Python's stack, or a number no double holds.
        raise InvalidArguments from None


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN / Infinity are not JSON


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: no JSON output could hold it
        raise ValueError(text)
    return value


#: Built once: ``json.loads`` with keyword arguments builds a new decoder per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def _json_to_string(args: Sequence[Any]) -> str:
    return compact_json(args[0])


# -- arrays --------------------------------------------------------------------------------


def _array_of(args: Sequence[Any]) -> list[Any]:
    return list(args)


def _array_partition(args: Sequence[Any]) -> list[list[Any]]:
    items, size = _array(args[0]), _truncated(args[1])
    if size <= 0:
        raise InvalidArguments
    return [items[i : i + size] for i in range(0, len(items), size)]


def _array_contains(args: Sequence[Any]) -> bool:
    items, wanted = _array(args[0]), _json_key(args[1])
    return any(_json_key(item) == wanted for item in items)


def _array_range(args: Sequence[Any]) -> list[int]:
    first, last, step = (_truncated(arg) for arg in args)
    if step == 0:
        raise InvalidArguments
    # The end is inclusive (DG: ArrayRange(1, 9, 2) → [1,3,5,7,9]). The count is
    # worked out in integers first: len(range) overflows for bounds like 1e308.
    count = (last - first) // step + 1
    if count > MAX_RANGE_ITEMS:
        raise InvalidArguments
    return list(range(first, last + (1 if step > 0 else -1), step))


def _array_get_item(args: Sequence[Any]) -> Any:
    items, index = _array(args[0]), _truncated(args[1])
    if not items:
        return None  # AWS observation: any index into an empty array yields null
    if not 0 <= index < len(items):
        raise InvalidArguments
    return items[index]


def _array_length(args: Sequence[Any]) -> int:
    return len(_array(args[0]))


def _array_unique(args: Sequence[Any]) -> list[Any]:
    seen: set[str] = set()
    unique: list[Any] = []
    for item in _array(args[0]):
        key = _json_key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


# -- encoding, hashing ---------------------------------------------------------------------


def _limited(text: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidArguments
    return text


def _base64_encode(args: Sequence[Any]) -> str:
    return base64.b64encode(_limited(_string(args[0])).encode()).decode("ascii")


def _base64_decode(args: Sequence[Any]) -> str:
    """Decode leniently like Java's MIME decoder: characters outside the alphabet are
    skipped and decoding stops at ``=`` (AWS observation: ``'abc'`` and ``' YWJjZA== '``
    decode)."""
    text = _limited(_string(args[0])).split("=", 1)[0]
    alphabet = "".join(c for c in text if c.isascii() and (c.isalnum() or c in "+/"))
    if len(alphabet) % 4 == 1:
        raise InvalidArguments
    try:
        raw = base64.b64decode(alphabet + "=" * (-len(alphabet) % 4))
    except binascii.Error:
        raise InvalidArguments from None
    return raw.decode("utf-8", errors="replace")


def _hash(args: Sequence[Any]) -> str:
    data, algorithm = args[0], _string(args[1])
    if algorithm not in HASH_ALGORITHMS:
        raise InvalidArguments
    # AWS hashes non-string data by its JSON text (AWS observation: Hash(123, …) succeeds).
    text = _limited(data if isinstance(data, str) else compact_json(data))
    return hashlib.new(HASH_ALGORITHMS[algorithm], text.encode()).hexdigest()


# -- JSON, math, strings, ids --------------------------------------------------------------


def _json_merge(args: Sequence[Any]) -> dict[str, Any]:
    left, right = _object(args[0]), _object(args[1])
    if args[2] is True:  # AWS supports shallow merges only (DG; LS json_merge.py)
        raise InvalidArguments
    return {**left, **right}


def _math_random(args: Sequence[Any]) -> int:
    start, end = _truncated(args[0]), _truncated(args[1])
    if start >= end:  # the end is exclusive (AWS observation: MathRandom(1, 1) fails)
        raise InvalidArguments
    if len(args) == 3:
        return random.Random(_truncated(args[2])).randrange(start, end)
    return _random.randrange(start, end)


def _math_add(args: Sequence[Any]) -> int:
    total = 0
    for value in args:
        operand = _rounded(value)
        if not INT32_MIN <= operand <= INT32_MAX:
            raise InvalidArguments
        total += operand
    if not INT32_MIN <= total <= INT32_MAX:
        raise InvalidArguments
    return total


def _string_split(args: Sequence[Any]) -> list[str]:
    """Every character of the delimiter string splits; empty parts are dropped
    (conformance ``string_operations.string_split.2/3``)."""
    text, delimiters = _string(args[0]), _string(args[1])
    parts = [text]
    for delimiter in delimiters:
        parts = [piece for part in parts for piece in part.split(delimiter)]
    return [part for part in parts if part]


def _uuid(args: Sequence[Any]) -> str:
    return str(uuid.UUID(int=_random.getrandbits(128), version=4))


def _table(*entries: tuple[str, int, int | None, Body]) -> dict[str, Function]:
    return {f"States.{n}": Function(f"States.{n}", lo, hi, body) for n, lo, hi, body in entries}


#: Every intrinsic function by its ASL name.
FUNCTIONS: dict[str, Function] = _table(
    ("Format", 1, None, _format),
    ("StringToJson", 1, 1, _string_to_json),
    ("JsonToString", 1, 1, _json_to_string),
    ("Array", 0, None, _array_of),
    ("ArrayPartition", 2, 2, _array_partition),
    ("ArrayContains", 2, 2, _array_contains),
    ("ArrayRange", 3, 3, _array_range),
    ("ArrayGetItem", 2, 2, _array_get_item),
    ("ArrayLength", 1, 1, _array_length),
    ("ArrayUnique", 1, 1, _array_unique),
    ("Base64Encode", 1, 1, _base64_encode),
    ("Base64Decode", 1, 1, _base64_decode),
    ("Hash", 2, 2, _hash),
    ("JsonMerge", 3, 3, _json_merge),
    ("MathRandom", 2, 3, _math_random),
    ("MathAdd", 2, 2, _math_add),
    ("StringSplit", 2, 2, _string_split),
    ("UUID", 0, 0, _uuid),
)
