"""The last word: the compiler's own routines, run on every field they compile.

The rules before these explain problems field by field with AWS's codes; these make sure
nothing they missed can be refused later, when ``asl.compile_definition`` builds the model
to run. Each check calls the very routine the compiler calls on that field (payload
templates through :func:`asl.template.compile_template`, JSONPath Choice rules through
:func:`asl.choice.compile_choice_rule`) and turns its refusal into a diagnostic. The driver
keeps such a diagnostic only where no other rule has already reported an error at or below
its location, so a problem is said once, in the more specific words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from asl.errors import ExpressionSyntaxError
from asl.validate.diagnostics import Diagnostic, error
from asl.validate.rules.expressions import payload_templates, refusal
from asl.validate.rules.walk import Machine

__all__ = ["COMPILE_CHECKS", "check_choice_rules_compile", "check_templates_compile"]

_SCHEMA = "SCHEMA_VALIDATION_FAILED"


def _refused(
    where: str, build: Callable[..., object], *args: Any, **kwargs: Any
) -> Iterator[Diagnostic]:
    try:
        build(*args, **kwargs)
    except ExpressionSyntaxError as exc:
        yield error(_SCHEMA, refusal(exc), where)


def check_templates_compile(machine: Machine) -> Iterator[Diagnostic]:
    """Every JSONPath-mode payload template compiles."""
    build: Callable[..., object] | None = None
    for state in machine.states:
        if state.language != "JSONPath":
            continue
        for field, where, value in payload_templates(state):
            if build is None:
                build = _template_compiler()
            try:
                build(value, field=field)
            except ExpressionSyntaxError as exc:
                yield error(_SCHEMA, refusal(exc), where)


def _template_compiler() -> Callable[..., object]:
    from asl.template import compile_template  # only once a template is found

    return compile_template


def check_choice_rules_compile(machine: Machine) -> Iterator[Diagnostic]:
    """Every top-level rule of a JSONPath Choice state compiles."""
    for state in machine.states:
        rules = state.body.get("Choices") if state.type == "Choice" else None
        if state.language != "JSONPath" or not isinstance(rules, list):
            continue
        from asl.choice import compile_choice_rule  # only once a Choice state is found

        for index, rule in enumerate(rules):
            if isinstance(rule, Mapping):
                yield from _refused(state.at("Choices", index), compile_choice_rule, rule)


#: Run after every other rule; see the module docstring.
COMPILE_CHECKS = (check_templates_compile, check_choice_rules_compile)
