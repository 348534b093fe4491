"""The JSON Schema driver: validate each part of a definition against its own subschema.

One giant ``oneOf`` over eight state types turns a typo into a wall of "is not valid under
any of the given schemas". Instead the machine, every state (against ``$defs/<Type>.<Lang>``)
and every Choice rule are validated separately, so each schema error concerns one object
whose kind is known, and becomes one readable sentence.

The schema (``asl/schema/asl.schema.json``, Draft 2020-12) is applied by
``jsonschema.Draft202012Validator``: one validator over the whole schema is built per
process, and one evolved from it per ``$defs`` entry (so ``$ref`` still resolves against
the root). A well-formed part is recognised first by the plain predicates of
:mod:`asl.validate.quickschema`, and jsonschema runs only on the rest. Its errors are
reduced to one per real problem (:func:`_one_per_problem`) before they become diagnostics.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from asl.source import json_type
from asl.validate.diagnostics import Diagnostic, error
from asl.validate.rules.walk import Machine, StateRef, pointer_join

if TYPE_CHECKING:
    # jsonschema is imported on first doubt only: a definition the predicates of
    # asl.validate.quickschema prove valid never needs it (a large share of a cold start).
    from jsonschema.exceptions import ValidationError

__all__ = ["STATE_TYPES", "check_schema", "load_schema"]

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_CODE = "SCHEMA_VALIDATION_FAILED"

#: What a JSONPath-only field becomes in JSONata (SPEC §Table of State Types and Fields).
_JSONATA_INSTEAD = {
    "InputPath": "Arguments or $states.input",
    "Parameters": "Arguments",
    "ResultSelector": "Output",
    "ResultPath": "Output",
    "OutputPath": "Output",
    "Result": "Output",
    "ItemsPath": "Items",
}


@functools.cache
def load_schema() -> dict[str, Any]:
    """Return the packaged Draft 2020-12 schema of the language (read once)."""
    # os.path rather than importlib.resources: the package ships as plain files and the
    # import would cost a noticeable share of a cold `asl validate`.
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(here, "schema", "asl.schema.json"), encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@functools.cache
def _root_validator() -> Any:
    """The validator of the whole packaged schema (built once per process).

    The schema is not re-checked against the metaschema here (that costs more than a
    whole small validation); the test suite checks it once.
    """
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema())


@functools.cache
def _validator(definition: str) -> Any:
    """A validator of ``$defs/<definition>`` sharing the root's ``$ref`` resolver."""
    return _root_validator().evolve(schema=load_schema()["$defs"][definition])


@functools.cache
def _certainly_valid() -> Callable[[str], Callable[[Any], bool]]:
    """The fast predicates of :mod:`asl.validate.quickschema` (built once per process)."""
    from asl.validate.quickschema import compile_definitions

    return compile_definitions(load_schema())


def _properties(definition: str) -> frozenset[str]:
    return frozenset(load_schema()["$defs"][definition].get("properties", ()))


def check_schema(machine: Machine) -> Iterator[Diagnostic]:
    """Yield one diagnostic per schema violation anywhere in the machine."""
    yield from _validate("StateMachine", machine.definition, "", None)
    for state in machine.states:
        yield from _check_state(state)


def _check_state(state: StateRef) -> Iterator[Diagnostic]:
    kind = state.type
    if kind not in STATE_TYPES:
        yield from _validate("State", state.body, state.pointer, state)
        return
    yield from _validate(f"{kind}.{state.language}", state.body, state.pointer, state)
    if kind == "Choice" and isinstance(state.body.get("Choices"), list):
        for index, rule in enumerate(state.body["Choices"]):
            yield from _check_rule(state, rule, state.at("Choices", index))


def _check_rule(state: StateRef, rule: Any, pointer: str) -> Iterator[Diagnostic]:
    if not isinstance(rule, Mapping):
        return  # the state schema already says "must be an object"
    yield from _validate(f"ChoiceRule.{state.language}", rule, pointer, None)
    if state.language != "JSONPath":
        return
    for key in ("And", "Or"):
        if isinstance(rule.get(key), list):
            for index, nested in enumerate(rule[key]):
                yield from _check_rule(state, nested, pointer_join(pointer, key, index))
    if isinstance(rule.get("Not"), Mapping):
        yield from _check_rule(state, rule["Not"], pointer_join(pointer, "Not"))


def _validate(
    definition: str, instance: Any, pointer: str, state: StateRef | None
) -> Iterator[Diagnostic]:
    if _certainly_valid()(definition)(instance):
        return  # jsonschema would find nothing: spare its generic walk
    for err in _one_per_problem(_validator(definition).iter_errors(instance)):
        yield from _convert(err, pointer, state)


def _one_per_problem(errors: Iterable[ValidationError]) -> list[ValidationError]:
    """Keep one error per real problem, most relevant first.

    Where a value has the wrong type, the other keywords failing at the same place (an
    ``enum``, a ``const``) are the same mistake said twice: only the ``type`` error stays.
    jsonschema reports ``required`` once per missing key; the first report stands for the
    whole object, and :func:`_convert` names every missing key.
    """
    by_place: dict[tuple[str | int, ...], list[ValidationError]] = {}
    for err in errors:
        by_place.setdefault(tuple(err.path), []).append(err)
    kept: list[ValidationError] = []
    for group in by_place.values():
        wrong_type = [err for err in group if err.validator == "type"]
        seen: set[tuple[str, int]] = set()
        for err in wrong_type or group:
            mark = (str(err.validator), id(err.schema))
            if mark not in seen:
                seen.add(mark)
                kept.append(err)
    from jsonschema.exceptions import relevance

    return sorted(kept, key=relevance, reverse=True)


def _convert(err: ValidationError, base: str, state: StateRef | None) -> Iterator[Diagnostic]:
    path = list(err.path)
    where = pointer_join(base, *path)
    field = _display(path)
    keyword = err.validator
    if keyword == "additionalProperties" and isinstance(err.instance, Mapping):
        known = err.schema.get("properties", {})
        for key in err.instance:
            if key not in known:
                message = _unknown_field(str(key), known, state if not path else None)
                yield error(_CODE, message, pointer_join(where, str(key)))
    elif keyword == "required" and isinstance(err.instance, Mapping):
        missing = [key for key in err.validator_value if key not in err.instance]
        owner = f" in {field}" if field else ""
        for key in missing:
            yield error(_CODE, f"Missing required field '{key}'{owner}.", where)
    else:
        yield error(_CODE, _describe(err, field or "The definition"), where)


def _display(path: list[str | int]) -> str:
    """Render a path relative to the validated object: ``Retry[0].IntervalSeconds``."""
    text = ""
    for token in path:
        text += f"[{token}]" if isinstance(token, int) else f".{token}" if text else str(token)
    return f"'{text}'" if text else ""


def _describe(err: ValidationError, field: str) -> str:
    expected = err.schema.get("x-expected") if isinstance(err.schema, Mapping) else None
    got = _show(err.instance)
    if expected:
        return f"{field} must be {expected}, got {got}."
    if err.context:
        # An anyOf without its own wording: say what the most relevant alternative wanted.
        from jsonschema.exceptions import best_match

        best = best_match([err])
        if best is not err:
            return _describe(best, _display(list(best.absolute_path)) or field)
    value = err.validator_value
    describe = {
        "type": lambda: f"{field} must be {_type_phrase(value)}, got {json_type(err.instance)}.",
        "minimum": lambda: f"{field} must be at least {value}, got {got}.",
        "maximum": lambda: f"{field} must be at most {value}, got {got}.",
        "enum": lambda: f"{field} must be one of {', '.join(map(str, value))}; got {got}.",
        "minItems": lambda: f"{field} must not be empty.",
        "minProperties": lambda: f"{field} must not be empty.",
        "const": lambda: f"{field} must be {value!r}, got {got}.",
        "pattern": lambda: f"{field} must match {value}, got {got}.",
    }.get(str(err.validator))
    return describe() if describe else f"{field} is not valid ({err.validator})."


def _type_phrase(types: Any) -> str:
    names = {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "a boolean",
        "object": "an object",
        "array": "an array",
        "null": "null",
    }
    listed = types if isinstance(types, list) else [types]
    return " or ".join(names.get(str(name), str(name)) for name in listed)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown_field(key: str, known: Mapping[str, Any], state: StateRef | None) -> str:
    """Explain an unsupported field: wrong language, wrong state type, or a typo."""
    if state is not None and state.type in STATE_TYPES:
        kind, language = state.type, state.language
        other = "JSONata" if language == "JSONPath" else "JSONPath"
        if key in _properties(f"{kind}.{other}"):
            if language == "JSONata":
                hint = _JSONATA_INSTEAD.get(key) or (
                    f"{key.removesuffix('Path')} with a {{% %}} expression"
                    if key.endswith("Path")
                    else "the JSONata fields"
                )
                return (
                    f"Field '{key}' is a JSONPath field and this {kind} state uses "
                    f"JSONata; use {hint} instead."
                )
            return f"Field '{key}' is only supported when the state's QueryLanguage is JSONata."
        owners = [t for t in STATE_TYPES if key in _properties(f"{t}.{language}")]
        if owners:
            return (
                f"Field '{key}' is not supported in a {kind} state (only in {', '.join(owners)})."
            )
        where = f" in a {kind} state"
    else:
        where = ""
    if key.endswith(".$") and f"{key[:-2]}Path" in known:
        # Choice comparisons take a path in their own field, not with '.$'.
        return (
            f"Field '{key}' is not supported{where}; to compare with a value read from a "
            f"path, use '{key[:-2]}Path'."
        )
    import difflib  # lazily: only needed when something is wrong

    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    suggestion = f"; did you mean '{close[0]}'?" if close else "."
    return f"Field '{key}' is not supported{where}{suggestion}"
