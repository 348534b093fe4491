"""A fast "certainly valid" test for the packaged schema, so jsonschema runs only on doubt.

``jsonschema`` walks a subschema generically for every state (descend, evolve, ``$ref``
lookups through ``referencing``), which was most of the cost of validating a well-formed
definition. This module compiles each ``$defs`` entry once into a plain predicate
``(instance) -> bool`` that answers True only when every keyword of the subschema is met.

The predicate is conservative by construction: it understands the few keywords the schema
uses, with jsonschema's Draft 2020-12 meaning, and says False for anything it is unsure of
(an unknown keyword, a number that is a float, a non-JSON Python type). False costs nothing
but time: :mod:`asl.validate.schema` then runs jsonschema as before, so every diagnostic
still comes from jsonschema and reads exactly as it did. True means jsonschema would report
no error, which ``tests/test_validate_quickschema.py`` checks against jsonschema itself.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Predicate", "compile_definitions"]

Predicate = Callable[[Any], bool]

#: Keywords that never make an instance invalid (annotations and identifiers).
_ANNOTATIONS = frozenset({"x-expected", "$comment", "title", "description", "$schema", "$id"})
#: Keywords :func:`_compile` understands; any other makes the subschema "unsure" (False).
_KNOWN = frozenset(
    {
        "type",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "enum",
        "anyOf",
        "minimum",
        "maximum",
        "minItems",
        "minProperties",
        "pattern",
        "$ref",
        "$defs",
    }
)
_PLAIN = frozenset({dict, list, str, int, float, bool, type(None)})


def _never(_: Any) -> bool:
    return False


def _always(_: Any) -> bool:
    return True


class _Definitions:
    """The compiled predicates of one schema's ``$defs``, built on first use."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._defs: Mapping[str, Any] = schema.get("$defs", {})
        self._compiled: dict[str, Predicate] = {}
        self._compiling: set[str] = set()

    def get(self, name: str) -> Predicate:
        found = self._compiled.get(name)
        if found is None:
            if name not in self._defs:
                return _never
            self._compiling.add(name)
            try:
                found = self._compiled[name] = self._compile(self._defs[name])
            finally:
                self._compiling.discard(name)
        return found

    def _ref(self, ref: Any) -> Predicate:
        prefix = "#/$defs/"
        if not isinstance(ref, str) or not ref.startswith(prefix) or "/" in ref[len(prefix) :]:
            return _never
        name = ref[len(prefix) :]
        if name in self._compiling:  # recursive: look it up when used
            return lambda value: self.get(name)(value)
        return self.get(name)

    def _compile(self, schema: Any) -> Predicate:
        if schema is True:
            return _always
        if not isinstance(schema, Mapping):
            return _never
        keys = set(schema) - _ANNOTATIONS
        if not keys <= _KNOWN:
            return _never
        checks: list[Predicate] = []
        if "$ref" in schema:
            checks.append(self._ref(schema["$ref"]))
        if "type" in schema:
            checks.append(_type_check(schema["type"]))
        if "enum" in schema:
            checks.append(_enum_check(schema["enum"]))
        if "pattern" in schema:
            pattern = re.compile(schema["pattern"])
            checks.append(lambda v: type(v) is not str or pattern.search(v) is not None)
        for keyword, test in (("minimum", operator.ge), ("maximum", operator.le)):
            if keyword in schema:
                checks.append(_bound_check(schema[keyword], test))
        if "anyOf" in schema:
            options = [self._compile(sub) for sub in schema["anyOf"]]
            checks.append(lambda v: any(option(v) for option in options))
        if "items" in schema:
            item = self._compile(schema["items"])
            checks.append(lambda v: _shape(v, list) is False or all(map(item, v)))
        if "minItems" in schema:
            least = schema["minItems"]
            checks.append(lambda v: _shape(v, list) is False or len(v) >= least)
        object_check = self._object_check(schema)
        if object_check is not None:
            checks.append(object_check)
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks
            return lambda v: first(v) and second(v)
        return lambda v: all(check(v) for check in checks)

    def _object_check(self, schema: Mapping[str, Any]) -> Predicate | None:
        keys = ("properties", "additionalProperties", "required", "minProperties")
        if not any(key in schema for key in keys):
            return None
        properties = {
            name: self._compile(sub) for name, sub in schema.get("properties", {}).items()
        }
        extra_schema = schema.get("additionalProperties", True)
        extra: Predicate | None = None if extra_schema is True else self._compile(extra_schema)
        required = tuple(schema.get("required", ()))
        least = schema.get("minProperties", 0)

        def check(value: Any) -> bool:
            shape = _shape(value, dict)
            if shape is not True:
                return shape is False  # not an object: these keywords do not apply
            if len(value) < least:
                return False
            for name in required:
                if name not in value:
                    return False
            for key, item in value.items():
                test = properties.get(key, extra)
                if test is not None and not test(item):
                    return False
            return True

        return check


def _shape(value: Any, kind: type) -> bool | None:
    """True: ``value`` is exactly ``kind``; False: another plain JSON type; None: unsure
    (a subclass or a non-JSON type, which jsonschema may see differently)."""
    actual = type(value)
    if actual is kind:
        return True
    if actual in _PLAIN:
        return False
    return None


#: Draft 2020-12's type test as the exact Python types of each JSON type, narrowed where
#: jsonschema is more lenient (a float is never an integer here; a bool is no number).
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "null": (type(None),),
}


def _type_check(types: Any) -> Predicate:
    names = types if isinstance(types, list) else [types]
    kinds = frozenset(kind for name in names for kind in _TYPES.get(str(name), ()))
    return lambda v: type(v) in kinds


def _enum_check(options: Any) -> Predicate:
    # Only strings are decided here (jsonschema's equality has subtleties for numbers).
    strings = frozenset(item for item in options if isinstance(item, str))
    return lambda v: type(v) is str and v in strings


def _bound_check(bound: Any, test: Callable[[Any, Any], Any]) -> Predicate:
    if type(bound) not in (int, float):
        return _never

    def check(value: Any) -> bool:
        kind = type(value)
        if kind is bool or kind is str or kind is dict or kind is list or value is None:
            return True  # not a number: the keyword does not apply
        if kind is int or kind is float:
            return bool(test(value, bound))
        return False

    return check


def compile_definitions(schema: Mapping[str, Any]) -> Callable[[str], Predicate]:
    """Return ``lookup(name)``: the predicate of ``schema["$defs"][name]``."""
    return _Definitions(schema).get
