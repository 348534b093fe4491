"""Versions and aliases: PublishStateMachineVersion, ListStateMachineVersions,
DeleteStateMachineVersion, and Create/Describe/Update/Delete/ListStateMachineAliases.

A version is an immutable copy of a state machine's revision
(``<stateMachineArn>:<n>``); an alias (``<stateMachineArn>:<name>``) routes executions to
one or two versions by weight. StartExecution and DescribeStateMachine accept version
ARNs, and StartExecution alias ARNs (:func:`resolve`).
"""

from __future__ import annotations

import random
import re
from typing import Any

from runtime.durable.store.machines import AliasRecord, StateMachineRecord, VersionRecord, Versions
from runtime.engine.clock import RealClock
from runtime.server.api.backend import Backend, check_arn
from runtime.server.api.errors import (
    ConflictException,
    ResourceNotFound,
    StateMachineDoesNotExist,
    ValidationException,
)
from runtime.server.api.protocol import optional, page, required, valid_name

__all__ = ["OPERATIONS", "Target", "publish", "resolve"]

# API reference, CreateStateMachineAlias "name": letters, digits, - _ . and at least one
# that is not a digit (a name of digits only would read as a version number).
_ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_\-.])[a-zA-Z0-9_\-.]{1,80}$")


class Target:
    """What a state machine, version or alias ARN runs: a definition, and which version
    and alias it came through."""

    __slots__ = ("alias_arn", "definition", "machine", "version_arn")

    def __init__(
        self,
        machine: StateMachineRecord,
        definition: str,
        version_arn: str | None = None,
        alias_arn: str | None = None,
    ) -> None:
        self.machine = machine
        self.definition = definition
        self.version_arn = version_arn
        self.alias_arn = alias_arn


def _versions(b: Backend) -> Versions:
    return Versions(b.store)


def _base(arn: str) -> tuple[str, str | None]:
    """(state machine ARN, qualifier) of a state machine, version or alias ARN."""
    parts = check_arn(arn, "stateMachine")
    if len(parts) > 8:
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
    return ":".join(parts[:7]), parts[7] if len(parts) == 8 else None


def _version(b: Backend, arn: str) -> VersionRecord:
    base, qualifier = _base(arn)
    found = None
    if qualifier is not None and qualifier.isdigit():
        found = _versions(b).version(base, int(qualifier))
    if found is None:
        raise ResourceNotFound(f"Resource not found: '{arn}'")
    return found


def _alias(b: Backend, arn: str) -> AliasRecord:
    _base(arn)
    found = _versions(b).alias(arn)
    if found is None:
        raise ResourceNotFound(f"Resource not found: '{arn}'")
    return found


def resolve(b: Backend, arn: str, *, aliases: bool = True) -> Target:
    """The state machine, version or (with ``aliases``) alias ``arn`` names."""
    base, qualifier = _base(arn)
    machine = b.machine(base)
    if qualifier is None:
        return Target(machine, machine.definition)
    if qualifier.isdigit():
        version = _versions(b).version(base, int(qualifier))
        if version is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        return Target(machine, version.definition, version.arn)
    alias = _versions(b).alias(arn) if aliases else None
    if alias is None:
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
    chosen = _route(alias)
    version = _versions(b).version(base, int(chosen.rpartition(":")[2]))
    if version is None:
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{chosen}'")
    return Target(machine, version.definition, version.arn, alias.arn)


def _route(alias: AliasRecord) -> str:
    """A version of the alias's routing, drawn by weight."""
    routes = list(alias.routing)
    weights = [int(route.get("weight", 0)) for route in routes]
    picked = random.choices(routes, weights=weights)[0] if sum(weights) else routes[0]
    return str(picked["stateMachineVersionArn"])


def publish(b: Backend, machine: StateMachineRecord, description: str | None) -> VersionRecord:
    """Publish the machine's current revision (once per revision)."""
    return _versions(b).publish(machine, description or "", RealClock().now())


async def publish_state_machine_version(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """PublishStateMachineVersion; ConflictException when ``revisionId`` is not current."""
    machine = b.machine(required(body, "stateMachineArn"))
    revision = optional(body, "revisionId")
    if revision is not None and revision != machine.revision_id:
        raise ConflictException(
            f"Failed to publish the State Machine version for revision {revision}. "
            f"The current State Machine revision is {machine.revision_id}."
        )
    version = publish(b, machine, optional(body, "description"))
    return {"creationDate": version.creation_date, "stateMachineVersionArn": version.arn}


async def list_state_machine_versions(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListStateMachineVersions, newest first, paged."""
    machine = b.machine(required(body, "stateMachineArn"))
    items = [
        {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date}
        for v in _versions(b).versions(machine.arn)
    ]
    return page(items, body, f"ListStateMachineVersions|{machine.arn}", "stateMachineVersions")


async def delete_state_machine_version(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteStateMachineVersion; refused while an alias routes to the version."""
    arn = required(body, "stateMachineVersionArn")
    base, qualifier = _base(arn)
    if qualifier is None or not qualifier.isdigit():
        raise ValidationException(f"Invalid version ARN: '{arn}'")
    users = [a.arn for a in _versions(b).aliases(base) if _routes_to(a, arn)]
    if users:
        raise ConflictException(
            "Version to be deleted must not be referenced by an alias. Current list of "
            f"aliases referencing this version: [{', '.join(users)}]"
        )
    _versions(b).delete_version(base, int(qualifier))
    return {}


def _routes_to(alias: AliasRecord, version_arn: str) -> bool:
    return any(route.get("stateMachineVersionArn") == version_arn for route in alias.routing)


def _routing(b: Backend, body: dict[str, Any]) -> tuple[str, tuple[dict[str, Any], ...]]:
    """(state machine ARN, routing) after AWS's checks: one or two versions of one state
    machine, weights adding up to 100."""
    routes = body.get("routingConfiguration")
    if not isinstance(routes, list) or not 1 <= len(routes) <= 2:
        raise ValidationException(
            "1 validation error detected: Value at 'routingConfiguration' failed to satisfy "
            "constraint: Member must have length between 1 and 2"
        )
    versions = [_version(b, str(route.get("stateMachineVersionArn"))) for route in routes]
    if len({v.machine_arn for v in versions}) != 1 or len({v.arn for v in versions}) != len(
        versions
    ):
        raise ValidationException(
            "Routing configuration must contain distinct versions of the same state machine"
        )
    if sum(int(route.get("weight", 0)) for route in routes) != 100:
        raise ValidationException("Sum of routing configuration weights must be equal to 100.")
    clean = tuple(
        {"stateMachineVersionArn": v.arn, "weight": int(route["weight"])}
        for v, route in zip(versions, routes, strict=True)
    )
    return versions[0].machine_arn, clean


async def create_state_machine_alias(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """CreateStateMachineAlias: idempotent for the same description and routing."""
    name = valid_name(required(body, "name"))
    if not _ALIAS_NAME.match(name):
        raise ValidationException(f"Invalid alias name: '{name}'")
    machine_arn, routes = _routing(b, body)
    arn = f"{machine_arn}:{name}"
    description = optional(body, "description") or ""
    existing = _versions(b).alias(arn)
    if existing is not None:
        if (existing.description, existing.routing) != (description, routes):
            raise ConflictException(
                "Failed to create alias because an alias with the same "
                "name and a different routing configuration already exists."
            )
        return {"stateMachineAliasArn": arn, "creationDate": existing.creation_date}
    now = RealClock().now()
    _versions(b).save_alias(AliasRecord(arn, machine_arn, name, description, routes, now, now))
    return {"stateMachineAliasArn": arn, "creationDate": now}


async def describe_state_machine_alias(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeStateMachineAlias."""
    alias = _alias(b, required(body, "stateMachineAliasArn"))
    out: dict[str, Any] = {
        "stateMachineAliasArn": alias.arn,
        "name": alias.name,
        "routingConfiguration": [dict(route) for route in alias.routing],
        "creationDate": alias.creation_date,
        "updateDate": alias.update_date,
    }
    if alias.description:
        out["description"] = alias.description
    return out


async def update_state_machine_alias(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """UpdateStateMachineAlias: a new description and/or routing."""
    alias = _alias(b, required(body, "stateMachineAliasArn"))
    routes = alias.routing
    if body.get("routingConfiguration") is not None:
        machine_arn, routes = _routing(b, body)
        if machine_arn != alias.machine_arn:
            raise ValidationException("Routing must use versions of the alias's state machine")
    description = optional(body, "description")
    now = RealClock().now()
    _versions(b).save_alias(
        AliasRecord(
            alias.arn,
            alias.machine_arn,
            alias.name,
            alias.description if description is None else description,
            routes,
            alias.creation_date,
            now,
        )
    )
    return {"updateDate": now}


async def delete_state_machine_alias(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteStateMachineAlias."""
    _versions(b).delete_alias(_alias(b, required(body, "stateMachineAliasArn")).arn)
    return {}


async def list_state_machine_aliases(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListStateMachineAliases, by name, paged."""
    machine = b.machine(required(body, "stateMachineArn"))
    items = [
        {"stateMachineAliasArn": a.arn, "creationDate": a.creation_date}
        for a in _versions(b).aliases(machine.arn)
    ]
    return page(items, body, f"ListStateMachineAliases|{machine.arn}", "stateMachineAliases")


OPERATIONS = {
    "PublishStateMachineVersion": publish_state_machine_version,
    "ListStateMachineVersions": list_state_machine_versions,
    "DeleteStateMachineVersion": delete_state_machine_version,
    "CreateStateMachineAlias": create_state_machine_alias,
    "DescribeStateMachineAlias": describe_state_machine_alias,
    "UpdateStateMachineAlias": update_state_machine_alias,
    "DeleteStateMachineAlias": delete_state_machine_alias,
    "ListStateMachineAliases": list_state_machine_aliases,
}
