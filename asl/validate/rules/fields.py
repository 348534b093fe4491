"""Rules on field combinations and values a JSON Schema cannot state readably.

Mutually exclusive pairs (SPEC §Task/§Wait/§Fail/§Map; STATELINT "MAY have only one of"),
the query-language restriction, Resource ARNs and Map labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from asl.validate.diagnostics import Diagnostic, error
from asl.validate.rules.walk import Machine, StateRef

__all__ = [
    "check_exclusive_fields",
    "check_heartbeat",
    "check_labels",
    "check_query_language",
    "check_resources",
    "check_wait_timestamp",
]

_SCHEMA = "SCHEMA_VALIDATION_FAILED"

#: (state type, sub-object or "", fields, how many may be present: "one" | "at most one").
_GROUPS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("Wait", "", ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"), "one"),
    ("Task", "", ("TimeoutSeconds", "TimeoutSecondsPath"), "at most one"),
    ("Task", "", ("HeartbeatSeconds", "HeartbeatSecondsPath"), "at most one"),
    ("Fail", "", ("Error", "ErrorPath"), "at most one"),
    ("Fail", "", ("Cause", "CausePath"), "at most one"),
    ("Map", "", ("ItemProcessor", "Iterator"), "one"),
    ("Map", "", ("ItemSelector", "Parameters"), "at most one"),
    ("Map", "", ("Items", "ItemsPath"), "at most one"),
    ("Map", "", ("MaxConcurrency", "MaxConcurrencyPath"), "at most one"),
    ("Map", "", ("ToleratedFailureCount", "ToleratedFailureCountPath"), "at most one"),
    ("Map", "", ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"), "at most one"),
    ("Map", "ItemBatcher", ("MaxItemsPerBatch", "MaxItemsPerBatchPath"), "at most one"),
    ("Map", "ItemBatcher", ("MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"), "at most one"),
)

#: arn:partition:service:region:account:resource (region and account may be empty).
_ARN = re.compile(r"^arn:[a-z0-9-]+:[a-zA-Z0-9-]+:[a-z0-9-]*:[0-9]*:\S+$")
#: A Lambda function ARN used as a Task Resource: the name and the optional version or
#: alias use the characters of Lambda's own ARN shape (botocore lambda 2015-03-31
#: ``NameSpacedFunctionArn``: ``function:[a-zA-Z0-9-_\.]+(:(\$LATEST|[a-zA-Z0-9-_]+))?``).
#: AWS refuses anything else when the machine is created ("Value is not a valid resource
#: ARN", AWS Step Functions Local, aws/aws-sam-cli-app-templates#185), so
#: ``...:function:FN:`` (an empty qualifier) is an error here, not at run time.
_LAMBDA_PREFIX = re.compile(r"^arn:[^:]+:lambda:")
_LAMBDA_ARN = re.compile(
    r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:[a-zA-Z0-9_.-]+(:(\$LATEST|[a-zA-Z0-9_-]+))?$"
)
_LABEL_MAX = 40
# LS state_map/label.py and DG: no whitespace, these characters or control characters.
_LABEL_FORBIDDEN = re.compile(r"[\s?*<>{}\[\]:;,\\|^~$#%&\"`\x00-\x1f\x7f-\x9f]")


#: :data:`_GROUPS` by state type, in their order.
_GROUPS_BY_TYPE: dict[str | None, list[tuple[str, str, tuple[str, ...], str]]] = {}
for _group in _GROUPS:
    _GROUPS_BY_TYPE.setdefault(_group[0], []).append(_group)


def _sub(state: StateRef, key: str) -> tuple[Mapping[str, Any], str]:
    if not key:
        return state.body, state.pointer
    value = state.body.get(key)
    return (value if isinstance(value, Mapping) else {}), state.at(key)


def check_exclusive_fields(machine: Machine) -> Iterator[Diagnostic]:
    """Fields that exclude each other, and groups where exactly one is required."""
    for state in machine.states:
        for kind, key, fields, rule in _GROUPS_BY_TYPE.get(state.type, ()):
            holder, where = _sub(state, key)
            present = [field for field in fields if field in holder]
            if len(present) > 1:
                listed = " and ".join(f"'{field}'" for field in present)
                yield error(
                    _SCHEMA,
                    f"You cannot set both {listed} at the same time.",
                    f"{where}/{present[1]}",
                )
            elif not present and rule == "one" and (key == "" or key in state.body):
                options = ", ".join(f"'{field}'" for field in fields)
                yield error(_SCHEMA, f"A {kind} state needs exactly one of {options}.", where)
        if state.type == "Map":
            yield from _batcher_limit(state)
            yield from _reader_max_items(state)


def _batcher_limit(state: StateRef) -> Iterator[Diagnostic]:
    batcher = state.body.get("ItemBatcher") if state.type == "Map" else None
    if isinstance(batcher, Mapping) and not any(
        key.startswith(("MaxItemsPerBatch", "MaxInputBytesPerBatch")) for key in batcher
    ):
        yield error(
            _SCHEMA,
            "An ItemBatcher needs at least one of 'MaxItemsPerBatch' and "
            "'MaxInputBytesPerBatch' (or their 'Path' forms).",
            state.at("ItemBatcher"),
        )


def _reader_max_items(state: StateRef) -> Iterator[Diagnostic]:
    reader = state.body.get("ItemReader") if state.type == "Map" else None
    config = reader.get("ReaderConfig") if isinstance(reader, Mapping) else None
    if isinstance(config, Mapping) and "MaxItems" in config and "MaxItemsPath" in config:
        yield error(
            _SCHEMA,
            "You cannot set both 'MaxItems' and 'MaxItemsPath' at the same time.",
            state.at("ItemReader", "ReaderConfig", "MaxItemsPath"),
        )


def check_heartbeat(machine: Machine) -> Iterator[Diagnostic]:
    """HeartbeatSeconds must be smaller than TimeoutSeconds (SPEC §Task State)."""
    for state in machine.states:
        heartbeat, timeout = state.body.get("HeartbeatSeconds"), state.body.get("TimeoutSeconds")
        if state.type != "Task" or not isinstance(heartbeat, int) or not isinstance(timeout, int):
            continue
        if _is_int(heartbeat) and _is_int(timeout) and heartbeat >= timeout:
            yield error(
                _SCHEMA,
                f"'HeartbeatSeconds' ({heartbeat}) must be smaller than 'TimeoutSeconds' "
                f"({timeout}).",
                state.at("HeartbeatSeconds"),
            )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_query_language(machine: Machine) -> Iterator[Diagnostic]:
    """A JSONata state machine cannot contain JSONPath states (DG:statemachine-structure:
    "You cannot revert a top-level JSONata-based state machine to a mix")."""
    if machine.language != "JSONata":
        return
    for state in machine.states:
        if state.body.get("QueryLanguage") == "JSONPath":
            yield error(
                _SCHEMA,
                "This state cannot use JSONPath: the state machine's QueryLanguage is JSONata. "
                "Set the top-level QueryLanguage to JSONPath (the default) and opt single "
                "states into JSONata instead.",
                state.at("QueryLanguage"),
            )


def check_resources(machine: Machine) -> Iterator[Diagnostic]:
    """Task, ItemReader and ResultWriter Resources are constant ARNs (TK: "Type and
    Resource must be constants", even in JSONata)."""
    for state in machine.states:
        if state.type == "Task":
            yield from _resource(state.body.get("Resource"), state.at("Resource"))
        elif state.type == "Map":
            for key in ("ItemReader", "ResultWriter"):
                holder = state.body.get(key)
                if isinstance(holder, Mapping):
                    yield from _resource(holder.get("Resource"), state.at(key, "Resource"))


def _resource(value: Any, where: str) -> Iterator[Diagnostic]:
    if not isinstance(value, str):
        return  # missing or wrong type: the schema says so
    if value.startswith("{%"):
        yield error(
            "INVALID_RESOURCE",
            "'Resource' must be a constant ARN; JSONata expressions are not allowed here.",
            where,
        )
    elif "${" in value:
        yield error(
            "INVALID_RESOURCE",
            f"'Resource' {value!r} holds an unsubstituted placeholder; replace it with the "
            "real ARN (SAM/CloudFormation DefinitionSubstitutions do this at deploy time).",
            where,
        )
    elif _LAMBDA_PREFIX.match(value) and not _LAMBDA_ARN.match(value):
        yield error(
            "INVALID_RESOURCE",
            f"'Resource' {value!r} is not a valid Lambda function ARN: expected "
            "'arn:aws:lambda:REGION:ACCOUNT:function:NAME' with an optional ':VERSION' or "
            "':ALIAS'.",
            where,
        )
    elif not _ARN.match(value):
        yield error(
            "INVALID_RESOURCE",
            f"'Resource' must be an ARN such as 'arn:aws:states:::lambda:invoke' or "
            f"'arn:aws:lambda:us-east-1:123456789012:function:my-function'; got {value!r}.",
            where,
        )


def check_wait_timestamp(machine: Machine) -> Iterator[Diagnostic]:
    """A literal Wait ``Timestamp`` is an RFC 3339 timestamp (SPEC §Wait State, §Timestamps:
    "an uppercase T ... and an uppercase Z ... or an offset"). The check is the routine the
    compiler turns the literal into an instant with, so the two cannot disagree."""
    for state in machine.states:
        value = state.body.get("Timestamp") if state.type == "Wait" else None
        if not isinstance(value, str) or (value.startswith("{%") and value.endswith("%}")):
            continue
        from asl.timestamps import parse_timestamp

        if parse_timestamp(value) is None:
            yield error(
                _SCHEMA,
                f"'Timestamp' must be an RFC 3339 timestamp such as "
                f"'2016-03-14T01:59:00Z' (uppercase T, and Z or an offset); got {value!r}.",
                state.at("Timestamp"),
            )


def check_labels(machine: Machine) -> Iterator[Diagnostic]:
    """Map Labels: at most 40 characters, no forbidden characters, unique in the machine."""
    seen: dict[str, str] = {}
    for state in machine.states:
        label = state.body.get("Label") if state.type == "Map" else None
        if not isinstance(label, str):
            continue
        where = state.at("Label")
        bad = _LABEL_FORBIDDEN.search(label)
        if not label or len(label) > _LABEL_MAX or bad:
            reason = f"contains {bad.group()!r}" if bad else f"has {len(label)} characters"
            yield error(
                "INVALID_LABEL_NAME",
                f"A Label must be 1 to {_LABEL_MAX} characters without whitespace, control "
                f'characters or any of ? * < > {{ }} [ ] : ; , \\ | ^ ~ $ # % & " `; this one '
                f"{reason}.",
                where,
            )
        if label in seen:
            yield error(
                "DUPLICATE_LABEL_NAME",
                f"The Label '{label}' is already used at {seen[label]}.",
                where,
            )
        else:
            seen[label] = where
