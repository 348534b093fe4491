"""State machine operations: Create, Describe, Update, Delete, List, and
ValidateStateMachineDefinition.

CreateStateMachine validates the definition as AWS does (``InvalidDefinition`` with the
diagnostics' codes, messages and locations) and refuses, the same way, what asl-runtime
could not run (``UNSUPPORTED_FEATURE``), so no execution is started that cannot run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from asl.errors import DefinitionError
from asl.validate import Diagnostic, validate
from runtime.durable.store.machines import StateMachineExists, StateMachineRecord
from runtime.engine.clock import RealClock
from runtime.server.api.backend import Backend, check_arn, compiled
from runtime.server.api.errors import (
    InvalidArn,
    InvalidDefinition,
    MissingRequiredParameter,
    StateMachineAlreadyExists,
)
from runtime.server.api.protocol import max_results, one_of, optional, page, required
from runtime.server.api.protocol import valid_name as _valid_name
from runtime.server.api.tags import add_tags, tag_list
from runtime.server.api.versions import publish, resolve

__all__ = ["OPERATIONS"]

_TYPES = ("STANDARD", "EXPRESS")
_LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
#: What DescribeStateMachine shows when no configuration was given (AWS's defaults).
_NO_LOGGING: dict[str, Any] = {"level": "OFF", "includeExecutionData": False}
_NO_TRACING: dict[str, Any] = {"enabled": False}


def _diagnostics_text(found: Sequence[Diagnostic]) -> str:
    return ", ".join(f"{d.code}: {d.message.rstrip('.')} at {d.location or '/'}" for d in found)


def _check_definition(text: str) -> Any:
    """The parsed definition, or InvalidDefinition listing every error."""
    try:
        definition = json.loads(text)
    except ValueError as exc:
        raise InvalidDefinition(
            f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {exc}'"
        ) from None
    if not isinstance(definition, dict):
        raise InvalidDefinition(
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
            "The definition must be a JSON object at /'"
        )
    errors = [d for d in validate(definition) if d.severity == "ERROR"]
    if not errors:
        outcome = compiled(text)  # what validation accepts but this runtime cannot run
        if isinstance(outcome, DefinitionError):
            errors = list(outcome.diagnostics)
    if errors:
        raise InvalidDefinition(f"Invalid State Machine Definition: '{_diagnostics_text(errors)}'")
    return definition


def _role(body: dict[str, Any], name: str = "roleArn") -> str | None:
    role = optional(body, name)
    if role is not None and (not role.startswith("arn:") or len(role.split(":")) < 6):
        raise InvalidArn(f"Invalid Arn: '{role}'")
    return role


def _logging(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("loggingConfiguration")
    if value is None:
        return None
    one_of(value, "level", _LOG_LEVELS)
    return dict(value)


def _tracing(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("tracingConfiguration")
    return None if value is None else dict(value)


async def create_state_machine(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """CreateStateMachine: idempotent for the same name, definition, type and configuration
    (role and tags of a repeat are ignored, as on AWS)."""
    name = _valid_name(required(body, "name"))
    text = required(body, "definition")
    role = _role(body) or required(body, "roleArn")
    kind = one_of(body, "type", _TYPES) or "STANDARD"
    logging, tracing = _logging(body), _tracing(body)
    _check_definition(text)
    now = RealClock().now()
    record = StateMachineRecord(
        b.machine_arn(name),
        name,
        kind,
        text,
        role,
        optional(body, "description") or "",
        logging,
        tracing,
        str(uuid.uuid4()),
        now,
        now,
    )
    try:
        b.machines.create(record)
    except StateMachineExists:
        old = b.machines.get(record.arn)
        same = old is not None and (old.definition, old.type, old.logging, old.tracing) == (
            text,
            kind,
            logging,
            tracing,
        )
        if not same or old is None:
            raise StateMachineAlreadyExists(
                f"State Machine Already Exists: '{record.arn}'"
            ) from None
        return {"stateMachineArn": old.arn, "creationDate": old.creation_date}
    add_tags(b, record.arn, tag_list(body))
    out: dict[str, Any] = {"stateMachineArn": record.arn, "creationDate": now}
    if body.get("publish"):
        version = publish(b, record, optional(body, "versionDescription"))
        out["stateMachineVersionArn"] = version.arn
    return out


def describe(record: StateMachineRecord) -> dict[str, Any]:
    """A stored state machine as DescribeStateMachine returns it."""
    out: dict[str, Any] = {
        "stateMachineArn": record.arn,
        "name": record.name,
        "status": "ACTIVE",
        "definition": record.definition,
        "roleArn": record.role_arn,
        "type": record.type,
        "creationDate": record.creation_date,
        "loggingConfiguration": dict(record.logging or _NO_LOGGING),
        "tracingConfiguration": dict(record.tracing or _NO_TRACING),
        "revisionId": record.revision_id,
    }
    if record.description:
        out["description"] = record.description
    return out


async def describe_state_machine(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeStateMachine, of a state machine or of one of its versions."""
    arn = required(body, "stateMachineArn")
    target = resolve(b, arn, aliases=False)
    out = describe(target.machine)
    if target.version_arn is not None:
        from runtime.durable.store.machines import Versions

        number = int(target.version_arn.rpartition(":")[2])
        version = Versions(b.store).version(target.machine.arn, number)
        assert version is not None
        out.update(
            stateMachineArn=version.arn,
            definition=version.definition,
            roleArn=version.role_arn,
            revisionId=version.revision_id,
            creationDate=version.creation_date,
        )
        out.pop("description", None)
        if version.description:
            out["description"] = version.description
    return out


async def update_state_machine(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """UpdateStateMachine: new definition, role or configuration; a new revision."""
    record = b.machine(required(body, "stateMachineArn"))
    text = optional(body, "definition")
    role = _role(body)
    logging, tracing = _logging(body), _tracing(body)
    if text is None and role is None and logging is None and tracing is None:
        raise MissingRequiredParameter(
            "Either the definition, the role ARN, the LoggingConfiguration, or the "
            "TracingConfiguration must be specified"
        )
    if text is not None:
        _check_definition(text)
    now = RealClock().now()
    updated = StateMachineRecord(
        record.arn,
        record.name,
        record.type,
        record.definition if text is None else text,
        record.role_arn if role is None else role,
        record.description,
        record.logging if logging is None else logging,
        record.tracing if tracing is None else tracing,
        str(uuid.uuid4()),
        record.creation_date,
        now,
    )
    b.machines.replace(updated)
    out: dict[str, Any] = {"updateDate": now, "revisionId": updated.revision_id}
    if body.get("publish"):
        version = publish(b, updated, optional(body, "versionDescription"))
        out["stateMachineVersionArn"] = version.arn
    return out


async def delete_state_machine(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteStateMachine: succeeds for a state machine that does not exist, as on AWS.

    Its executions are kept (and running ones go on), so their history stays readable.
    """
    from runtime.durable.store.machines import Versions

    arn = required(body, "stateMachineArn")
    check_arn(arn, "stateMachine")
    b.machines.delete(arn)
    Versions(b.store).delete_all(arn)
    return {}


async def list_state_machines(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListStateMachines, oldest first, paged."""
    items = [
        {
            "stateMachineArn": r.arn,
            "name": r.name,
            "type": r.type,
            "creationDate": r.creation_date,
        }
        for r in b.machines.all()
    ]
    return page(items, body, "ListStateMachines", "stateMachines")


async def validate_state_machine_definition(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ValidateStateMachineDefinition: diagnostics, never an exception for a bad definition."""
    text = required(body, "definition")
    one_of(body, "type", _TYPES)
    severity = one_of(body, "severity", ("ERROR", "WARNING")) or "ERROR"
    limit = max_results(body)
    try:
        definition = json.loads(text)
    except ValueError as exc:
        found = [Diagnostic("ERROR", "INVALID_JSON_DESCRIPTION", str(exc), "")]
    else:
        found = (
            validate(definition)
            if isinstance(definition, dict)
            else [Diagnostic("ERROR", "SCHEMA_VALIDATION_FAILED", "Expected an object.", "")]
        )
    shown = [d for d in found if severity == "WARNING" or d.severity == "ERROR"]
    failed = any(d.severity == "ERROR" for d in found)
    return {
        "result": "FAIL" if failed else "OK",
        "diagnostics": [_diagnostic(d) for d in shown[:limit]],
        "truncated": len(shown) > limit,
    }


def _diagnostic(d: Diagnostic) -> dict[str, str]:
    out = d.to_json()
    if not out["location"]:
        del out["location"]
    return out


OPERATIONS = {
    "CreateStateMachine": create_state_machine,
    "DescribeStateMachine": describe_state_machine,
    "UpdateStateMachine": update_state_machine,
    "DeleteStateMachine": delete_state_machine,
    "ListStateMachines": list_state_machines,
    "ValidateStateMachineDefinition": validate_state_machine_definition,
}
