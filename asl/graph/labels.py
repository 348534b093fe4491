"""Short human text for Choice rules, Catch and Retry entries, as drawn on a graph."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["catch_label", "resource_label", "retry_label", "rule_label"]

#: Longest label drawn; longer rules are cut with an ellipsis (the definition has the rest).
MAX_LABEL = 60

#: Comparison operator → symbol (SPEC §Choice Rules: the data-test expression operators).
_OPERATORS = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
    "Matches": "matches",
}
_TYPES = ("String", "Numeric", "Boolean", "Timestamp")
_TESTS = {
    "IsPresent": "present",
    "IsNull": "null",
    "IsString": "string",
    "IsNumeric": "numeric",
    "IsBoolean": "boolean",
    "IsTimestamp": "timestamp",
}


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f'"{value}"'


def _comparison(rule: Mapping[str, Any]) -> str | None:
    variable = str(rule.get("Variable", "?"))
    for key, value in rule.items():
        if key in _TESTS:
            negated = "" if value is True else "not "
            return f"{variable} is {negated}{_TESTS[key]}"
        for type_name in _TYPES:
            if not key.startswith(type_name):
                continue
            op = key[len(type_name) :]
            is_path = op.endswith("Path")
            symbol = _OPERATORS.get(op.removesuffix("Path"))
            if symbol is not None:
                shown = str(value) if is_path else _value(value)
                return f"{variable} {symbol} {shown}"
    return None


def _rule(rule: Any) -> str:
    if not isinstance(rule, Mapping):
        return "?"
    if "Condition" in rule:
        condition = str(rule["Condition"])
        if condition.startswith("{%") and condition.endswith("%}"):
            # The expression without its delimiters (shorter on an edge), when there is one.
            condition = condition[2:-2].strip() or condition
        return condition
    if "Not" in rule:
        return f"not ({_rule(rule['Not'])})"
    for key, joiner in (("And", " and "), ("Or", " or ")):
        if key in rule:
            parts = rule[key] if isinstance(rule[key], list) else []
            return "(" + joiner.join(_rule(part) for part in parts) + ")"
    return _comparison(rule) or "?"


def rule_label(rule: Any) -> str:
    """A Choice rule as one short line, e.g. ``$.n > 3`` or ``($.a == "x" and ...)``."""
    text = _rule(rule)
    if text.startswith("(") and text.endswith(")") and isinstance(rule, Mapping):
        text = text[1:-1] if ("And" in rule or "Or" in rule) else text
    return _short(text)


def _errors(entry: Mapping[str, Any]) -> str:
    names = entry.get("ErrorEquals")
    return ", ".join(str(n) for n in names) if isinstance(names, list) else "?"


def catch_label(catcher: Any) -> str:
    """A Catch entry as the list of errors it catches."""
    return _short(_errors(catcher)) if isinstance(catcher, Mapping) else "?"


def retry_label(retrier: Any) -> str:
    """A Retry entry, e.g. ``retry States.ALL ×3, 1s ×2.0`` (spec defaults filled in)."""
    if not isinstance(retrier, Mapping):
        return "retry ?"
    # SPEC §Retrying after an error: IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0.
    attempts = retrier.get("MaxAttempts", 3)
    interval = retrier.get("IntervalSeconds", 1)
    backoff = _number(retrier.get("BackoffRate", 2.0))
    text = f"retry {_errors(retrier)} ×{attempts}, {interval}s ×{backoff}"
    if "MaxDelaySeconds" in retrier:
        text += f" ≤{retrier['MaxDelaySeconds']}s"
    if retrier.get("JitterStrategy") == "FULL":
        text += " jitter"
    return _short(text)


def _number(value: Any) -> str:
    """A number the same way whether written ``2``, ``2.0`` or defaulted (``2``, ``1.5``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):g}"
    return str(value)


def resource_label(state: Mapping[str, Any]) -> str:
    """What a Task calls, shortly: ``lambda:invoke Fn``, ``lambda:Fn``, ``activity:Name``,
    ``aws-sdk:s3:getObject``; empty for a state without a string ``Resource``."""
    resource = state.get("Resource")
    if not isinstance(resource, str):
        return ""
    parts = resource.split(":")
    if resource.startswith("arn:") and len(parts) >= 7 and parts[2] == "lambda":
        return _short(f"lambda:{parts[6]}")
    if resource.startswith("arn:") and len(parts) >= 7 and parts[5] == "activity":
        return _short(f"activity:{parts[6]}")
    if resource.startswith("arn:aws:states:::") or resource.startswith("arn:aws-"):
        service = resource.split(":::", 1)[-1]
        function = _function_name(state) if service.startswith("lambda:invoke") else ""
        return _short(f"{service} {function}".strip())
    return _short(resource)


def _function_name(state: Mapping[str, Any]) -> str:
    """A literal ``FunctionName`` of a lambda:invoke, as the function's bare name."""
    for field in ("Parameters", "Arguments"):
        args = state.get(field)
        name = args.get("FunctionName") if isinstance(args, Mapping) else None
        if isinstance(name, str) and not name.startswith("{%"):
            parts = name.split(":")
            return parts[6] if name.startswith("arn:") and len(parts) >= 7 else name
    return ""
