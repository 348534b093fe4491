"""Validate state machine definitions the way AWS does, with better messages.

:func:`validate` returns every problem at once, as :class:`Diagnostic` objects ordered by
where they occur in the definition. A definition AWS accepts yields no ERROR (warnings
mirror AWS's NO_DOLLAR / NO_PATH / PASS_RESULT_IS_STATIC).

The checks are a JSON Schema of the whole language (``asl/schema/asl.schema.json``, applied
per state by :mod:`asl.validate.schema`) plus the semantic rules of
:mod:`asl.validate.rules`, and last the compiler's own routines
(:mod:`asl.validate.rules.compiled`): whatever ``asl.compile_definition`` would refuse is
reported here, with its JSON Pointer, so ``asl validate`` and ``asl exec`` agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asl.source import Document, escape_pointer
from asl.validate.diagnostics import CODES, Diagnostic

__all__ = ["CODES", "Diagnostic", "validate", "validate_document"]


def validate(definition: Mapping[str, Any], *, text: str | None = None) -> list[Diagnostic]:
    """Return every problem in ``definition`` (empty when valid), in document order.

    ``text``, when the caller has it, is ``json.dumps(definition, ensure_ascii=False)``
    (spares dumping it again).
    """
    from asl.validate.rules import RULES
    from asl.validate.rules.compiled import COMPILE_CHECKS
    from asl.validate.rules.walk import build_machine
    from asl.validate.schema import check_schema

    machine = build_machine(definition)
    if text is not None:
        machine.shared["json"] = text
    found: dict[Diagnostic, None] = dict.fromkeys(check_schema(machine))
    for rule in RULES:
        found.update(dict.fromkeys(rule(machine)))
    reported = [diag.location for diag in found if diag.severity == "ERROR"]
    for check in COMPILE_CHECKS:
        for diag in check(machine):
            if not any(_within(where, diag.location) for where in reported):
                found[diag] = None
    if len(found) < 2:
        return list(found)
    order = _document_order(definition)
    return sorted(found, key=lambda diag: (_rank(order, diag.location), diag.location))


def validate_document(document: Document) -> list[Diagnostic]:
    """Validate a loaded :class:`~asl.source.Document` (positions come from the document)."""
    return validate(document.value)


def _within(pointer: str, ancestor: str) -> bool:
    """Is ``pointer`` ``ancestor`` itself or somewhere below it?"""
    return pointer == ancestor or pointer.startswith(ancestor + "/")


def _document_order(definition: Mapping[str, Any]) -> dict[str, int]:
    """Number every JSON Pointer of ``definition`` in document (pre-)order."""
    order: dict[str, int] = {}

    pending: list[tuple[str, Any]] = [("", definition)]
    while pending:
        pointer, value = pending.pop()
        order[pointer] = len(order)
        if isinstance(value, Mapping):
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        children = [(f"{pointer}/{escape_pointer(str(key))}", item) for key, item in items]
        pending.extend(reversed(children))
    return order


def _rank(order: Mapping[str, int], pointer: str) -> int:
    """The order of ``pointer``, or of its nearest ancestor present in the definition."""
    while pointer not in order and pointer:
        pointer = pointer.rpartition("/")[0]
    return order.get(pointer, 0)
