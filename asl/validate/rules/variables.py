"""Rules on workflow variables (SPEC A.5) and on what JSONata expressions reference (A.6).

* ``INVALID_VARIABLE_NAME``: a name whose first character is not ID_Start (UAX #31), such
  as ``_x``, which Python's ``str.isidentifier`` (used by
  :func:`asl.validate.rules.expressions.check_templates`) lets through.
* ``UNDEFINED_VARIABLE`` (WARNING): a read that no path from ``StartAt`` can have assigned
  before the reading state is entered; for a Distributed Map processor, also a read of an
  outer variable (TK: "Distributed Map states cannot reference variables in outer scopes").
  AWS accepts such definitions: the recorded cases
  ``assign_reference_variables.undefined_reference.*`` were created and ran, failing only at
  run time with ``States.QueryEvaluationError``; its console merely warns
  (awslabs/statelint#67).
* ``SHADOWED_VARIABLE``: a Parallel branch or Map processor assigns a name that an
  enclosing scope assigns (TK: "Inner scopes CANNOT ASSIGN to variables that exist in an
  outer scope ... no shadowing").
* ``INVALID_JSONATA``: ``$states.result`` outside the top-level ``Output``/``Assign`` of a
  Task, Map or Parallel state; ``$states.errorOutput`` outside a Catcher's
  ``Output``/``Assign``; a top-level ``$``, ``$$`` or bare field name, which has no value in
  ASL (SPEC A.6).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asl.errors import ExpressionSyntaxError
from asl.validate.diagnostics import CODES as _ALL_CODES
from asl.validate.diagnostics import Diagnostic, error, warning
from asl.validate.rules.references import JsonataSite, jsonata_sites, reads
from asl.validate.rules.walk import Machine, Scope, StateRef, child_scopes, pointer_join

if TYPE_CHECKING:
    from asl.jsonata import ExpressionReads

__all__ = [
    "CODES",
    "check_jsonata_references",
    "check_scopes",
    "check_variable_names",
    "check_variable_reads",
    "is_variable_name",
]

#: The codes these rules add to :data:`asl.validate.diagnostics.CODES`.
#: This module's diagnostic codes (described in :data:`asl.validate.diagnostics.CODES`).
CODES: dict[str, str] = {
    code: _ALL_CODES[code] for code in ("UNDEFINED_VARIABLE", "SHADOWED_VARIABLE")
}

#: UAX #31 ID_Start: letters and letter numbers, plus Other_ID_Start, less Pattern_Syntax.
_START_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl"})
_OTHER_START = frozenset("\u1885\u1886\u2118\u212e\u309b\u309c")
_PATTERN_SYNTAX_LETTERS = frozenset("\u2e2f")
#: UAX #31 ID_Continue: ID_Start plus marks, digits and connector punctuation.
_CONTINUE_CATEGORIES = _START_CATEGORIES | {"Mn", "Mc", "Nd", "Pc"}
_OTHER_CONTINUE = frozenset(
    "\u00b7\u0387\u1369\u136a\u136b\u136c\u136d\u136e\u136f\u1370\u1371\u19da"
)
#: SPEC §State Machine Variables: at most 80 characters.
_MAX_NAME = 80


def _id_start(char: str) -> bool:
    if char in _PATTERN_SYNTAX_LETTERS:
        return False
    return char in _OTHER_START or unicodedata.category(char) in _START_CATEGORIES


def _id_continue(char: str) -> bool:
    if _id_start(char) or char in _OTHER_CONTINUE:
        return True
    return unicodedata.category(char) in _CONTINUE_CATEGORIES


def is_variable_name(name: str) -> bool:
    """True for a valid variable name: ID_Start, then ID_Continue, ≤ 80, not ``states``."""
    return (
        0 < len(name) <= _MAX_NAME
        and name != "states"
        and _id_start(name[0])
        and all(_id_continue(char) for char in name[1:])
    )


# --- Assign blocks ---------------------------------------------------------------------------


def _items(value: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                yield index, item


def _assign_blocks(state: StateRef) -> list[tuple[str, Mapping[str, Any]]]:
    """(pointer, object) for the state's, each Choice rule's and each Catcher's Assign."""
    body = state.body
    found: list[tuple[str, Mapping[str, Any]]] = []
    assign = body.get("Assign")
    if assign is not None and isinstance(assign, Mapping):
        found.append((state.at("Assign"), assign))
    for field in ("Choices", "Catch"):
        if field in body:
            for index, holder in _items(body[field]):
                assign = holder.get("Assign")
                if isinstance(assign, Mapping):
                    found.append((state.at(field, index, "Assign"), assign))
    return found


def _names(assign: Any) -> frozenset[str]:
    if not isinstance(assign, Mapping):
        return frozenset()
    return frozenset(key.removesuffix(".$") for key in assign)


def _all_assigned(states: tuple[StateRef, ...]) -> frozenset[str]:
    found: set[str] = set()
    for state in states:
        for _, assign in _assign_blocks(state):
            found |= _names(assign)
    return frozenset(found)


def check_variable_names(machine: Machine) -> Iterator[Diagnostic]:
    """Assign keys are UAX #31 identifiers (those ``str.isidentifier`` misjudges)."""
    for state in machine.states:
        for where, assign in _assign_blocks(state):
            for key in assign:
                name = key.removesuffix(".$")
                if _python_valid(name) and not is_variable_name(name):
                    yield error(
                        "INVALID_VARIABLE_NAME",
                        f"'{name}' is not a valid variable name: it must start with a "
                        "Unicode letter (ID_Start) and go on with letters, digits or '_' "
                        "(ID_Continue, Unicode Standard Annex #31).",
                        pointer_join(where, key),
                    )


def _python_valid(name: str) -> bool:
    """What the name check of ``check_templates`` accepts (reported there otherwise)."""
    return name.isidentifier() and len(name) <= _MAX_NAME and name != "states"


# --- Scopes and flow ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ScopeInfo:
    """A scope and what surrounds it."""

    scope: Scope
    states: tuple[StateRef, ...]
    #: Names some path may have assigned when the scope starts; None when it never runs.
    entry: frozenset[str] | None
    #: Names assigned by enclosing scopes that this scope can see.
    outer: frozenset[str]
    #: Names assigned by enclosing scopes beyond a Distributed Map boundary.
    hidden: frozenset[str]
    distributed: bool


def _edges(body: Mapping[str, Any]) -> Iterator[tuple[Any, frozenset[str]]]:
    """(target, names assigned on the way) for every transition out of a state.

    A matching Choice rule's Assign replaces the state's; a Catcher's replaces it on the
    error path (SPEC A.5).
    """
    own = _names(body.get("Assign"))
    yield body.get("Next"), own
    yield body.get("Default"), own
    for _, rule in _items(body.get("Choices")):
        yield rule.get("Next"), _names(rule["Assign"]) if "Assign" in rule else own
    for _, catcher in _items(body.get("Catch")):
        yield catcher.get("Next"), _names(catcher.get("Assign"))


def _flow(scope: Scope, entry: frozenset[str]) -> dict[str, frozenset[str]]:
    """For each state reachable from StartAt: the names some path may have assigned on entry."""
    seen: dict[str, frozenset[str]] = {}
    if not isinstance(scope.start_at, str) or scope.start_at not in scope.states:
        return seen
    pending = [(scope.start_at, entry)]
    while pending:
        name, names = pending.pop()
        old = seen.get(name)
        if old is not None and names <= old:
            continue
        merged = names if old is None else old | names
        seen[name] = merged
        body = scope.states.get(name)
        if isinstance(body, Mapping):
            for target, assigned in _edges(body):
                if isinstance(target, str) and target in scope.states:
                    pending.append((target, merged | assigned))
    return seen


def _is_distributed(processor: Mapping[str, Any]) -> bool:
    config = processor.get("ProcessorConfig")
    return isinstance(config, Mapping) and config.get("Mode") == "DISTRIBUTED"


Analysis = tuple[list[_ScopeInfo], dict[str, dict[str, frozenset[str]]]]


def _analyse(machine: Machine) -> Analysis:
    """Every scope with its surroundings, and the flow (state name -> names) of each."""
    found: Analysis | None = machine.shared.get("variables")
    if found is None:
        found = machine.shared["variables"] = _analysis(machine)
    return found


def _analysis(machine: Machine) -> Analysis:
    scopes = {scope.pointer: scope for scope in machine.scopes}
    by_scope: dict[str, list[StateRef]] = {pointer: [] for pointer in scopes}
    for state in machine.states:
        by_scope[state.scope.pointer].append(state)
    infos: dict[str, _ScopeInfo] = {}
    flows: dict[str, dict[str, frozenset[str]]] = {}
    top = machine.scopes[0]
    infos[top.pointer] = _ScopeInfo(
        top, tuple(by_scope[top.pointer]), frozenset(), frozenset(), frozenset(), False
    )
    # Scopes come parent first (build_machine walks depth first, in document order).
    for scope in machine.scopes:
        info = infos[scope.pointer]
        flows[scope.pointer] = _flow(scope, info.entry) if info.entry is not None else {}
        mine = _all_assigned(info.states)
        for state in info.states:
            for pointer, _ in child_scopes(state):
                infos[pointer] = _child_info(
                    scopes[pointer],
                    tuple(by_scope[pointer]),
                    info,
                    mine,
                    flows[scope.pointer],
                    state,
                )
    return list(infos.values()), flows


def _child_info(
    child: Scope,
    states: tuple[StateRef, ...],
    parent: _ScopeInfo,
    parent_names: frozenset[str],
    parent_flow: Mapping[str, frozenset[str]],
    owner: StateRef,
) -> _ScopeInfo:
    processor = owner.body.get("ItemProcessor", owner.body.get("Iterator"))
    distributed = (
        owner.type == "Map" and isinstance(processor, Mapping) and _is_distributed(processor)
    )
    visible = parent.outer | parent_names
    if distributed:
        # A Distributed Map child is its own execution: it sees no outer variable.
        return _ScopeInfo(child, states, frozenset(), frozenset(), parent.hidden | visible, True)
    entry = parent_flow.get(owner.name)
    return _ScopeInfo(child, states, entry, visible, parent.hidden, False)


# --- Rules ----------------------------------------------------------------------------------


def check_variable_reads(machine: Machine) -> Iterator[Diagnostic]:
    """Reads of variables that no path from StartAt can have assigned (WARNING)."""
    if not machine.scopes or not _may_read_variables(machine):
        return
    infos, flows = _analyse(machine)
    for info in infos:
        flow = flows[info.scope.pointer]
        for state in info.states:
            assigned = flow.get(state.name)
            if assigned is None:
                continue  # unreachable: reported as MISSING_TRANSITION_TARGET
            for read in reads(state):
                if read.name not in assigned:
                    yield warning("UNDEFINED_VARIABLE", _undefined(read.name, info), read.location)


#: Where a JSONPath path or intrinsic argument may name a variable: ``$`` followed by
#: anything but ``.``, ``[``, ``$`` or the string's end (``$name`` needs an identifier).
_MAY_NAME_VARIABLE = re.compile(r'\$(?![.\[$"])')


def _may_read_variables(machine: Machine) -> bool:
    """False only when no state can read a variable (so no read needs checking)."""
    if any(state.language != "JSONPath" for state in machine.states):
        return True
    text: str | None = machine.shared.get("json")
    if text is None:
        try:
            text = json.dumps(machine.definition, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):
            return True
    return _MAY_NAME_VARIABLE.search(text) is not None


def _undefined(name: str, info: _ScopeInfo) -> str:
    if name in info.hidden:
        return (
            f"The variable '${name}' belongs to a scope outside this Distributed Map, whose "
            "iterations cannot read outer variables; the read will fail at run time."
        )
    return (
        f"No path from StartAt assigns the variable '${name}' before this state reads it; "
        "the read will fail at run time."
    )


def check_scopes(machine: Machine) -> Iterator[Diagnostic]:
    """A branch or processor assigns no name that an enclosing scope assigns."""
    if len(machine.scopes) < 2:
        return  # the machine's own scope has nothing around it
    if not any(True for state in machine.states for _ in _assign_blocks(state)):
        return  # nothing is assigned anywhere, so no scope sees an outer name
    infos, _ = _analyse(machine)
    for info in infos:
        if not info.outer:
            continue
        for state in info.states:
            for where, assign in _assign_blocks(state):
                for key in assign:
                    name = key.removesuffix(".$")
                    if name in info.outer:
                        yield error(
                            "SHADOWED_VARIABLE",
                            f"The variable '{name}' is assigned in an enclosing scope; a "
                            "Parallel branch or Map iteration can read it but not assign it "
                            "(no shadowing).",
                            pointer_join(where, key),
                        )


def check_jsonata_references(machine: Machine) -> Iterator[Diagnostic]:
    """``$states.result``/``errorOutput`` only where defined; no top-level ``$``/``$$``."""
    if not any(state.language == "JSONata" for state in machine.states):
        return  # spares loading the JSONata engine for JSONPath-only machines
    from asl.jsonata import compile_expression

    for state in machine.states:
        if state.language != "JSONata":
            continue
        for site in jsonata_sites(state):
            try:
                found = compile_expression(site.text).reads()
            except ExpressionSyntaxError:
                continue  # reported by check_jsonata
            for problem in _placement(found, site):
                yield error("INVALID_JSONATA", problem, site.location)


def _placement(found: ExpressionReads, site: JsonataSite) -> Iterator[str]:
    fields, field = found.states, site.field
    if fields is not None and "result" in fields and not site.result_allowed:
        yield (
            f"'$states.result' is not defined in '{field}': only the top-level 'Output' and "
            "'Assign' of a Task, Map or Parallel state can read the result."
        )
    if fields is not None and "errorOutput" in fields and not site.error_allowed:
        yield (
            f"'$states.errorOutput' is not defined in '{field}': only a Catcher's 'Output' "
            "and 'Assign' can read the error output."
        )
    if found.reads_input:
        yield (
            f"The expression in '{field}' reads '$', '$$' or a bare field name at the top "
            "level, which has no value in Step Functions; use '$states.input'."
        )
