"""Rules on expression text: paths, payload templates, intrinsic calls and JSONata.

Syntax is checked by compiling with the same compilers the runtime uses
(``asl.paths``, ``asl.intrinsics``, ``asl.jsonata``), so ``asl validate`` and ``asl exec``
can never disagree on what parses. The compilers are imported lazily: validating a
definition without paths must not pay for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from asl.errors import ExpressionSyntaxError
from asl.validate.diagnostics import Diagnostic, error, warning
from asl.validate.rules.walk import Machine, StateRef, pointer_join

__all__ = [
    "check_jsonata",
    "check_jsonpath_fields",
    "check_templates",
    "compile_check",
    "payload_templates",
    "refusal",
]

Compiler = Callable[[str], object]

#: JSONPath-mode fields holding a Path (SPEC §Input and Output Processing; null allowed).
_PATHS = ("InputPath", "OutputPath")
#: JSONPath-mode fields holding a Reference Path (SPEC §Reference Paths).
_REFERENCE_PATHS = (
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
)
#: Payload templates, as (sub-object or "", field) (SPEC §Payload Template).
_TEMPLATES = (
    ("", "Parameters"),
    ("", "ResultSelector"),
    ("", "ItemSelector"),
    ("", "Credentials"),
    ("", "Assign"),
    ("ItemReader", "Parameters"),
    ("ResultWriter", "Parameters"),
    ("ItemBatcher", "BatchInput"),
)
_LOOKS_LIKE_PATH = re.compile(r"^\$\$?(\.|\[)|^\$$")
_LOOKS_LIKE_INTRINSIC = re.compile(r"^States\.[A-Za-z0-9_.]+\(")
#: SPEC §State Machine Variables: Unicode identifiers of at most 80 characters, not "states".
_VARIABLE_MAX = 80


def _compiler(module: str, name: str) -> Compiler | None:
    """Import ``module.name`` if it exists yet (None when the compiler is unavailable)."""
    key = (module, name)
    if key in _COMPILERS:
        return _COMPILERS[key]
    try:
        imported = __import__(module, fromlist=[name])
    except ImportError:
        return None
    found: Compiler | None = getattr(imported, name, None)
    _COMPILERS[key] = found
    return found


#: Compilers found by :func:`_compiler` (a module that failed to import is tried again).
_COMPILERS: dict[tuple[str, str], Compiler | None] = {}


def compile_check(kind: str, compiler: Compiler | None, text: str) -> str | None:
    """Compile ``text``; return a message when it does not parse, else None."""
    if compiler is None:
        return None
    try:
        compiler(text)
    except ExpressionSyntaxError as exc:
        detail = re.sub(r"^Invalid [\w ]+: ", "", exc.message).rstrip(".")
        return f"Cannot parse {text!r} as {kind} (at character {exc.position + 1}): {detail}."
    return None


def refusal(exc: ExpressionSyntaxError) -> str:
    """A compiler's refusal as a diagnostic message: what it said, then the text."""
    message = exc.message.rstrip(".")
    return f"{message}: {exc.text!r}." if exc.text else f"{message}."


def _path_check(text: str, where: str, *, reference: bool) -> Iterator[Diagnostic]:
    name = "compile_reference_path" if reference else "compile_path"
    kind = "a reference path" if reference else "a JSONPath"
    problem = compile_check(kind, _compiler("asl.paths", name), text)
    if problem:
        yield error("INVALID_JSON_PATH", problem, where)


#: (field, holds a reference path) for every path field of a JSONPath state.
_PATH_FIELDS = tuple((field, field not in _PATHS) for field in (*_PATHS, *_REFERENCE_PATHS))


def check_jsonpath_fields(machine: Machine) -> Iterator[Diagnostic]:
    """Paths and reference paths of JSONPath states parse; ResultPath only writes to ``$``."""
    for state in machine.states:
        if state.language != "JSONPath":
            continue
        body = state.body
        if not _PATH_FIELD_NAMES.isdisjoint(body):
            for field, reference in _PATH_FIELDS:
                text = body.get(field)
                if isinstance(text, str):
                    yield from _path_check(text, state.at(field), reference=reference)
        if isinstance(body.get("ResultPath"), str):
            yield from _result_path(body["ResultPath"], state.at("ResultPath"))
        if "Catch" in body:
            for index, catcher in _items(body["Catch"]):
                if isinstance(catcher.get("ResultPath"), str):
                    where = state.at("Catch", index, "ResultPath")
                    yield from _result_path(catcher["ResultPath"], where)
        if state.type == "Fail":
            yield from _fail_paths(state)
        elif state.type == "Choice":
            yield from _choice_paths(state)


_PATH_FIELD_NAMES = frozenset(field for field, _ in _PATH_FIELDS)
#: A ResultPath naming a variable (``$name``) rather than the state's input.
_VARIABLE_TARGET = re.compile(r"^\$[^.\[]")


def _items(value: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                yield index, item


def _result_path(text: Any, where: str) -> Iterator[Diagnostic]:
    if not isinstance(text, str):
        return
    if text.startswith("$$"):
        yield error(
            "INVALID_JSON_PATH", "'ResultPath' cannot write to the Context Object ($$).", where
        )
    elif _VARIABLE_TARGET.match(text):
        yield error(
            "INVALID_JSON_PATH",
            "'ResultPath' cannot write to a variable; use 'Assign' to set variables.",
            where,
        )
    else:
        yield from _path_check(text, where, reference=True)


def _fail_paths(state: StateRef) -> Iterator[Diagnostic]:
    if state.type != "Fail":
        return
    for field in ("ErrorPath", "CausePath"):
        text = state.body.get(field)
        if isinstance(text, str):
            yield from _path_or_intrinsic(text, state.at(field), reference=True)


def _path_or_intrinsic(text: str, where: str, *, reference: bool) -> Iterator[Diagnostic]:
    found = _expression_problem(text, reference=reference)
    if found is not None:
        yield error(found[0], found[1], where)


def _expression_problem(text: str, *, reference: bool) -> tuple[str, str] | None:
    """(code, message) when ``text``, a path or an intrinsic call, does not compile."""
    key = (text, reference)
    if key in _PROBLEMS:
        return _PROBLEMS[key]
    found = _compile_problem(text, reference=reference)
    if len(_PROBLEMS) >= _PROBLEMS_KEPT:
        _PROBLEMS.clear()
    _PROBLEMS[key] = found
    return found


#: What :func:`_expression_problem` said of each (text, reference) lately: the compilers'
#: verdicts never change, and a definition repeats its paths (the compilers cache too, but
#: the way to them costs more than the answer).
_PROBLEMS: dict[tuple[str, bool], tuple[str, str] | None] = {}
_PROBLEMS_KEPT = 4096


def _compile_problem(text: str, *, reference: bool) -> tuple[str, str] | None:
    if text.startswith("$"):
        name = "compile_reference_path" if reference else "compile_path"
        kind = "a reference path" if reference else "a JSONPath"
        problem = compile_check(kind, _compiler("asl.paths", name), text)
        return ("INVALID_JSON_PATH", problem) if problem else None
    compiler = _compiler("asl.intrinsics", "compile_intrinsic")
    problem = compile_check("an intrinsic function call", compiler, text)
    return ("INVALID_INTRINSIC", problem) if problem else None


def _choice_paths(state: StateRef) -> Iterator[Diagnostic]:
    if state.type != "Choice":
        return
    pending = [(state.at("Choices", i), rule) for i, rule in _items(state.body.get("Choices"))]
    while pending:
        where, rule = pending.pop()
        for key, value in rule.items():
            if (key == "Variable" or key.endswith("Path")) and isinstance(value, str):
                yield from _path_check(value, pointer_join(where, key), reference=False)
        pending.extend(
            (pointer_join(where, key, i), r)
            for key in ("And", "Or")
            for i, r in _items(rule.get(key))
        )
        if isinstance(rule.get("Not"), Mapping):
            pending.append((pointer_join(where, "Not"), rule["Not"]))


# --- Payload templates ---------------------------------------------------------------------


def payload_templates(state: StateRef) -> tuple[tuple[str, str, Any], ...]:
    """(field, pointer, value) for every payload template and Assign of a state."""
    found: tuple[tuple[str, str, Any], ...] | None = state.shared.get("templates")
    if found is None:
        found = state.shared["templates"] = tuple(_payload_templates(state))
    return found


#: :data:`_TEMPLATES` in the state object itself, and in a sub-object of it.
_OWN_TEMPLATES = tuple(field for sub, field in _TEMPLATES if not sub)
_SUB_TEMPLATES = tuple((sub, field) for sub, field in _TEMPLATES if sub)


def _payload_templates(state: StateRef) -> Iterator[tuple[str, str, Any]]:
    body = state.body
    for field in _OWN_TEMPLATES:
        if field in body:
            yield field, state.at(field), body[field]
    for sub, field in _SUB_TEMPLATES:
        holder = body.get(sub)
        if holder is not None and isinstance(holder, Mapping) and field in holder:
            yield field, state.at(sub, field), holder[field]
    if "Catch" in body:
        for index, catcher in _items(body["Catch"]):
            if "Assign" in catcher:
                yield "Assign", state.at("Catch", index, "Assign"), catcher["Assign"]
    if "Choices" in body:
        for index, rule in _items(body["Choices"]):
            if "Assign" in rule:
                yield "Assign", state.at("Choices", index, "Assign"), rule["Assign"]


def check_templates(machine: Machine) -> Iterator[Diagnostic]:
    """Payload templates: ``.$`` values parse, keys stay unique once ``.$`` is dropped,
    plain values that look like paths get NO_DOLLAR; variable names are valid; Pass
    ``Result`` uses no paths (PASS_RESULT_IS_STATIC)."""
    for state in machine.states:
        if state.language == "JSONPath":
            for field, where, value in payload_templates(state):
                yield from _template(value, where)
                if field == "Assign" and isinstance(value, Mapping):
                    yield from _variable_names(value, where)
            if state.type == "Pass" and "Result" in state.body:
                yield from _static_result(state.body["Result"], state.at("Result"))
        else:
            for index, rule in [
                (-1, state.body),
                *_items(state.body.get("Catch")),
                *_items(state.body.get("Choices")),
            ]:
                assign = rule.get("Assign")
                if isinstance(assign, Mapping):
                    where = state.at("Assign") if index < 0 else _assign_at(state, rule, index)
                    yield from _variable_names(assign, where)


def _assign_at(state: StateRef, holder: Mapping[str, Any], index: int) -> str:
    field = "Catch" if "ErrorEquals" in holder else "Choices"
    return state.at(field, index, "Assign")


def _template(value: Any, where: str) -> Iterator[Diagnostic]:
    if type(value) is not dict and isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, list | Mapping):
                yield from _template(item, pointer_join(where, index))
        return
    if not isinstance(value, Mapping):
        return
    seen: dict[str, str] = {}
    for key, item in value.items():
        # The pointer of ``key`` is built only for a diagnostic or a nested template.
        name = key.removesuffix(".$")
        if name in seen:
            yield error(
                "DUPLICATE_FIELD_NAME",
                f"The keys '{seen[name]}' and '{key}' both produce the field '{name}'.",
                pointer_join(where, key),
            )
        seen.setdefault(name, key)
        if key.endswith(".$"):
            problem = _dynamic_value(key, item, where)
            if problem is not None:
                yield problem
        elif isinstance(item, str):
            if _looks_dynamic(item):
                yield warning(
                    "NO_DOLLAR",
                    f"The value {item!r} looks like a JSONPath or an "
                    f"intrinsic function but the key '{key}' does not end in '.$', "
                    "so it is used as literal text.",
                    pointer_join(where, key),
                )
        elif type(item) is dict or (
            type(item) not in _SCALARS and isinstance(item, list | Mapping)
        ):
            yield from _template(item, pointer_join(where, key))


#: Exact types that are neither arrays nor objects (spares the Mapping ABC's slow check).
_SCALARS = frozenset({int, float, bool, type(None)})


def _looks_dynamic(text: str) -> bool:
    return bool(_LOOKS_LIKE_PATH.match(text) or _LOOKS_LIKE_INTRINSIC.match(text))


def _dynamic_value(key: str, value: Any, holder: str) -> Diagnostic | None:
    """The problem with the value of ``key`` (a ``.$`` key of the object at ``holder``)."""
    if not isinstance(value, str):
        return error(
            "SCHEMA_VALIDATION_FAILED",
            f"The value of '{key}' must be a string "
            "holding a JSONPath or an intrinsic function call.",
            pointer_join(holder, key),
        )
    found = _expression_problem(value, reference=False)
    if found is not None:
        return error(found[0], found[1], pointer_join(holder, key))
    return None


def _variable_names(assign: Mapping[str, Any], where: str) -> Iterator[Diagnostic]:
    for key in assign:
        name = key.removesuffix(".$")
        if not name.isidentifier() or len(name) > _VARIABLE_MAX or name == "states":
            yield error(
                "INVALID_VARIABLE_NAME",
                f"'{name}' is not a valid variable name: use a letter or '_' followed by "
                f"letters, digits or '_' (at most {_VARIABLE_MAX} characters; 'states' is "
                "reserved). Assign sets whole variables, not paths inside them.",
                pointer_join(where, key),
            )


def _static_result(value: Any, where: str) -> Iterator[Diagnostic]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = pointer_join(where, key)
            if key.endswith(".$"):
                yield warning(
                    "PASS_RESULT_IS_STATIC",
                    f"'{key}' in a Pass state's 'Result' "
                    "is not evaluated: Result is static. Use 'Parameters' to "
                    "compute values.",
                    here,
                )
            yield from _static_result(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _static_result(item, pointer_join(where, index))


# --- JSONata -------------------------------------------------------------------------------

#: Fields of a JSONata state whose values are never expressions (nested states are visited
#: on their own; Catch and Choices rule by rule).
NOT_EXPRESSIONS = frozenset(
    {
        "Type",
        "Comment",
        "QueryLanguage",
        "Resource",
        "Next",
        "End",
        "Default",
        "Label",
        "Branches",
        "ItemProcessor",
        "Iterator",
        "Retry",
        "Choices",
        "Catch",
    }
)


def _jsonata_values(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Yield (pointer, text) for every ``{% %}`` string nested in ``value``."""
    if isinstance(value, str):
        if value.startswith("{%") and value.endswith("%}") and len(value) >= 4:
            yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _jsonata_values(item, pointer_join(where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _jsonata_values(item, pointer_join(where, index))


def _jsonata_fields(state: StateRef) -> Iterator[tuple[str, Any]]:
    for key, value in state.body.items():
        if key not in NOT_EXPRESSIONS:
            yield state.at(key), value
    for field, keys in (
        ("Catch", ("Output", "Assign")),
        ("Choices", ("Condition", "Output", "Assign")),
    ):
        for index, item in _items(state.body.get(field)):
            for key in keys:
                if key in item:
                    yield state.at(field, index, key), item[key]


def _inner(text: str) -> str:
    """The expression between ``{%`` and ``%}``."""
    return text[2:-2] if text.startswith("{%") and text.endswith("%}") else text


def check_jsonata(machine: Machine) -> Iterator[Diagnostic]:
    """Every ``{% %}`` expression of a JSONata state parses."""
    if not any(state.language == "JSONata" for state in machine.states):
        return  # spares loading the JSONata engine for JSONPath-only machines
    compiler = _compiler("asl.jsonata", "compile_expression")
    if compiler is None:
        return
    for state in machine.states:
        if state.language != "JSONata":
            continue
        for where, value in _jsonata_fields(state):
            for here, text in _jsonata_values(value, where):
                problem = compile_check("a JSONata expression", compiler, _inner(text))
                if problem:
                    yield error("INVALID_JSONATA", problem, here)
