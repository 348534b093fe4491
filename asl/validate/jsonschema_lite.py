"""A small interpreter for the JSON Schema (Draft 2020-12) keywords the ASL schema uses.

Why not ``jsonschema``: importing it (with ``referencing``, ``attrs``, ``rpds`` and the
format checkers) takes longer than the whole budget of a cold ``asl validate``. The ASL
schema needs a dozen keywords; this module implements exactly those, with 2020-12
semantics (``integer`` accepts 1.0, booleans are not numbers), and refuses any other
keyword when the schema is loaded, so the two cannot silently drift apart. The tests run
``jsonschema.Draft202012Validator`` over the same inputs and compare verdicts.

Errors are reported the way the diagnostics need them: a failed ``type`` stops the other
checks of that subschema (one message per real problem), and a failed ``anyOf`` is one
error rather than one per alternative.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SUPPORTED_KEYWORDS", "SchemaChecker", "SchemaError"]

#: Keywords that only annotate (never fail) and are skipped.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "x-expected"})
SUPPORTED_KEYWORDS = (
    frozenset(
        {
            "$ref",
            "type",
            "enum",
            "minimum",
            "maximum",
            "minItems",
            "minProperties",
            "pattern",
            "required",
            "properties",
            "additionalProperties",
            "items",
            "anyOf",
            "$defs",
        }
    )
    | _ANNOTATIONS
)


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One failed keyword."""

    #: The keyword that failed, e.g. ``"required"``.
    keyword: str
    #: Where, relative to the validated instance (keys and array indexes).
    path: tuple[str | int, ...]
    #: The subschema holding the keyword.
    schema: Mapping[str, Any]
    #: The value that failed.
    instance: Any
    #: The keyword's value in the schema.
    value: Any


def _is_type(instance: Any, name: str) -> bool:
    # bool is a subclass of int in Python but not a number in JSON.
    if isinstance(instance, bool):
        return name == "boolean"
    checks: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) or (isinstance(v, float) and v.is_integer()),
        "number": lambda v: isinstance(v, int | float),
        "object": lambda v: isinstance(v, Mapping),
        "array": lambda v: isinstance(v, list),
        "null": lambda v: v is None,
        "boolean": lambda v: False,
    }
    return checks[name](instance)


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


class SchemaChecker:
    """Validates instances against named ``$defs`` of one schema."""

    def __init__(self, defs: Mapping[str, Any]) -> None:
        self._defs = defs
        self._patterns: dict[str, re.Pattern[str]] = {}
        for schema in defs.values():
            self._audit(schema)

    def _audit(self, schema: Any) -> None:
        """Refuse keywords this interpreter does not implement."""
        if not isinstance(schema, Mapping):
            return
        unknown = set(schema) - SUPPORTED_KEYWORDS
        if unknown:
            raise ValueError(f"unsupported JSON Schema keywords: {sorted(unknown)}")
        for key in ("items", "additionalProperties"):
            self._audit(schema.get(key))
        for sub in (*schema.get("properties", {}).values(), *schema.get("anyOf", ())):
            self._audit(sub)

    def errors(self, definition: str, instance: Any) -> Iterator[SchemaError]:
        """Yield the errors of ``instance`` against ``$defs/<definition>``."""
        return self._check(self._defs[definition], instance, ())

    def _check(
        self, schema: Mapping[str, Any], instance: Any, path: tuple[str | int, ...]
    ) -> Iterator[SchemaError]:
        if "$ref" in schema:
            yield from self._check(self._resolve(schema["$ref"]), instance, path)
        kinds = schema.get("type")
        if kinds is not None:
            listed = kinds if isinstance(kinds, list) else [kinds]
            if not any(_is_type(instance, kind) for kind in listed):
                yield SchemaError("type", path, schema, instance, kinds)
                return
        for keyword in (
            "enum",
            "minimum",
            "maximum",
            "minItems",
            "minProperties",
            "pattern",
            "anyOf",
        ):
            if keyword in schema and not self._holds(keyword, schema[keyword], instance):
                yield SchemaError(keyword, path, schema, instance, schema[keyword])
        if isinstance(instance, Mapping):
            yield from self._object(schema, instance, path)
        elif isinstance(instance, list) and "items" in schema:
            for index, item in enumerate(instance):
                yield from self._check(schema["items"], item, (*path, index))

    def _holds(self, keyword: str, value: Any, instance: Any) -> bool:
        number = isinstance(instance, int | float) and not isinstance(instance, bool)
        if keyword == "enum":
            return any(_equal(instance, option) for option in value)
        if keyword == "minimum":
            return not number or instance >= value
        if keyword == "maximum":
            return not number or instance <= value
        if keyword == "minItems":
            return not isinstance(instance, list) or len(instance) >= value
        if keyword == "minProperties":
            return not isinstance(instance, Mapping) or len(instance) >= value
        if keyword == "pattern":
            text_ok = isinstance(instance, str) and self._pattern(value).search(instance)
            return not isinstance(instance, str) or text_ok is not None
        # anyOf
        return any(next(self._check(sub, instance, ()), None) is None for sub in value)

    def _object(
        self, schema: Mapping[str, Any], instance: Mapping[str, Any], path: tuple[str | int, ...]
    ) -> Iterator[SchemaError]:
        required = schema.get("required", ())
        if any(key not in instance for key in required):
            yield SchemaError("required", path, schema, instance, required)
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        if extra is False and any(key not in properties for key in instance):
            yield SchemaError("additionalProperties", path, schema, instance, False)
        for key, sub in properties.items():
            if key in instance:
                yield from self._check(sub, instance[key], (*path, key))

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        prefix = "#/$defs/"
        if not ref.startswith(prefix):
            raise ValueError(f"unsupported $ref {ref!r}")
        resolved: Mapping[str, Any] = self._defs[ref[len(prefix) :]]
        return resolved

    def _pattern(self, text: str) -> re.Pattern[str]:
        if text not in self._patterns:
            self._patterns[text] = re.compile(text)
        return self._patterns[text]
