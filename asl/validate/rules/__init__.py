"""Semantic rules: small generator functions ``(Machine) -> Iterator[Diagnostic]``.

Adding a rule means writing one function and listing it in :data:`RULES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from asl.validate.diagnostics import Diagnostic
from asl.validate.rules import choice, expressions, fields, handlers, structure, variables
from asl.validate.rules.walk import Machine

__all__ = ["RULES", "Rule"]

Rule = Callable[[Machine], Iterator[Diagnostic]]

RULES: tuple[Rule, ...] = (
    structure.check_state_objects,
    structure.check_names,
    structure.check_transitions,
    structure.check_terminal,
    structure.check_next_or_end,
    fields.check_query_language,
    fields.check_exclusive_fields,
    fields.check_heartbeat,
    fields.check_resources,
    fields.check_labels,
    fields.check_wait_timestamp,
    handlers.check_states_all,
    handlers.check_error_names,
    choice.check_choice_rules,
    expressions.check_jsonpath_fields,
    expressions.check_templates,
    expressions.check_jsonata,
    variables.check_variable_names,
    variables.check_variable_reads,
    variables.check_scopes,
    variables.check_jsonata_references,
)
