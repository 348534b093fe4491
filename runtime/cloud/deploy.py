"""Create or update a state machine on AWS Step Functions, saying what changes.

The order is that of a careful person at the console: validate locally (every problem, with
its JSON Pointer), then with ``ValidateStateMachineDefinition`` (the service's own checks),
then compare with what is deployed (a unified diff of the definition and the settings that
differ), then, unless it is a dry run, ``CreateStateMachine`` or ``UpdateStateMachine``,
publishing a version and moving an alias when asked.

The client is any boto3 ``stepfunctions`` client: AWS, or a stand-in at an endpoint URL.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DeployError", "DeployRequest", "Deployed", "Plan", "apply", "plan", "validate"]


class DeployError(Exception):
    """A deployment that cannot go on; the message is one line per problem."""


@dataclass(frozen=True, slots=True)
class DeployRequest:
    """What to deploy, with CreateStateMachine's names."""

    name: str
    definition: Mapping[str, Any]
    role_arn: str
    type: str = "STANDARD"
    logging: Mapping[str, Any] | None = None
    tracing: Mapping[str, Any] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    publish: bool = False
    version_description: str | None = None
    alias: str | None = None

    def definition_text(self) -> str:
        """The definition as it is sent (and shown in diffs): indented JSON."""
        return json.dumps(self.definition, indent=2, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a deployment would do."""

    #: The deployed state machine's ARN, or None when it is to be created.
    arn: str | None
    #: Unified diff lines of the definition (deployed → new); empty when they are equal.
    diff: list[str]
    #: Other settings that change, one line each (``roleArn: A → B``).
    changes: list[str]

    @property
    def unchanged(self) -> bool:
        return self.arn is not None and not self.diff and not self.changes


@dataclass(frozen=True, slots=True)
class Deployed:
    """What a deployment did."""

    arn: str
    created: bool
    updated: bool
    version_arn: str | None = None
    alias_arn: str | None = None


def validate(client: Any, request: DeployRequest) -> list[str]:
    """Check the definition here and with ValidateStateMachineDefinition.

    Raises :class:`DeployError` listing the problems; returns warnings (the service's
    warnings, or that the endpoint could not validate, as moto cannot).
    """
    from asl import compile_definition
    from asl.errors import DefinitionError

    try:
        compile_definition(request.definition)
    except DefinitionError as exc:
        lines = [f"{d.location}: {d.message} [{d.code}]" for d in exc.diagnostics]
        raise DeployError("\n".join(lines) or str(exc)) from None
    from botocore.exceptions import ClientError

    try:
        answer = client.validate_state_machine_definition(
            definition=request.definition_text(), type=request.type
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("UnknownOperationException", "InvalidAction") or status >= 500:
            return [
                "the endpoint does not answer ValidateStateMachineDefinition: "
                "the definition was validated locally only"
            ]
        raise DeployError(f"ValidateStateMachineDefinition: {exc}") from None
    problems = [
        f"{d.get('severity', 'ERROR')} {d.get('code', '')} at {d.get('location', '/')}: "
        f"{d.get('message', '')}"
        for d in answer.get("diagnostics", [])
    ]
    if answer.get("result") == "FAIL":
        raise DeployError("\n".join(problems) or "ValidateStateMachineDefinition: FAIL")
    return problems


def _find(client: Any, name: str) -> str | None:
    for page in client.get_paginator("list_state_machines").paginate():
        for machine in page.get("stateMachines", []):
            if machine.get("name") == name:
                return str(machine["stateMachineArn"])
    return None


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def plan(client: Any, request: DeployRequest) -> Plan:
    """Compare the request with what is deployed under its name."""
    arn = _find(client, request.name)
    new = request.definition_text().splitlines()
    if arn is None:
        diff = list(difflib.unified_diff([], new, "(none)", request.name, lineterm=""))
        return Plan(None, diff, [])
    current = client.describe_state_machine(stateMachineArn=arn)
    old = _pretty(str(current.get("definition", ""))).splitlines()
    diff = list(difflib.unified_diff(old, new, f"{request.name} (deployed)", "new", lineterm=""))
    changes = []
    if current.get("type", "STANDARD") != request.type:
        raise DeployError(
            f"{request.name} is a {current.get('type')} state machine: its type cannot "
            f"change to {request.type} (delete it, or deploy under another name)"
        )
    if current.get("roleArn") != request.role_arn:
        changes.append(f"roleArn: {current.get('roleArn')} → {request.role_arn}")
    for key, wanted in (
        ("loggingConfiguration", request.logging),
        ("tracingConfiguration", request.tracing),
    ):
        if wanted is not None and _normal(current.get(key)) != _normal(wanted):
            changes.append(f"{key}: {_compact(current.get(key))} → {_compact(wanted)}")
    if request.tags:
        tags = client.list_tags_for_resource(resourceArn=arn).get("tags", [])
        have = {t["key"]: t["value"] for t in tags}
        for key, value in sorted(request.tags.items()):
            if have.get(key) != value:
                changes.append(f"tag {key}: {have.get(key)} → {value}")
    return Plan(arn, diff, changes)


def _normal(value: Any) -> Any:
    """A configuration without the members AWS fills in with their defaults."""
    if not isinstance(value, Mapping):
        return value
    out = {k: v for k, v in value.items() if v not in (None, [], False)}
    if out.get("level") == "OFF" and not out.get("destinations"):
        out.pop("level")
    return out


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def apply(client: Any, request: DeployRequest, planned: Plan) -> Deployed:
    """Create or update the state machine as ``planned``; publish and move the alias."""
    if request.alias and not request.publish:
        raise DeployError("--alias points at a version: add --publish to publish one")
    settings: dict[str, Any] = {}
    if request.logging is not None:
        settings["loggingConfiguration"] = dict(request.logging)
    if request.tracing is not None:
        settings["tracingConfiguration"] = dict(request.tracing)
    publish: dict[str, Any] = {}
    if request.publish:
        publish["publish"] = True
        if request.version_description:
            publish["versionDescription"] = request.version_description
    version_arn: str | None = None
    if planned.arn is None:
        created = client.create_state_machine(
            name=request.name,
            definition=request.definition_text(),
            roleArn=request.role_arn,
            type=request.type,
            tags=[{"key": k, "value": v} for k, v in sorted(request.tags.items())],
            **settings,
            **publish,
        )
        arn, version_arn = str(created["stateMachineArn"]), created.get("stateMachineVersionArn")
        outcome = Deployed(arn, created=True, updated=False)
    else:
        arn = planned.arn
        if not planned.unchanged:
            updated = client.update_state_machine(
                stateMachineArn=arn,
                definition=request.definition_text(),
                roleArn=request.role_arn,
                **settings,
                **publish,
            )
            version_arn = updated.get("stateMachineVersionArn")
            if request.tags:
                tags = [{"key": k, "value": v} for k, v in sorted(request.tags.items())]
                client.tag_resource(resourceArn=arn, tags=tags)
        elif request.publish:
            described = (
                {"description": request.version_description} if request.version_description else {}
            )
            published = client.publish_state_machine_version(stateMachineArn=arn, **described)
            version_arn = published.get("stateMachineVersionArn")
        outcome = Deployed(arn, created=False, updated=not planned.unchanged)
    alias_arn = _move_alias(client, arn, request.alias, version_arn) if request.alias else None
    return Deployed(
        outcome.arn, outcome.created, outcome.updated, version_arn and str(version_arn), alias_arn
    )


def _move_alias(client: Any, arn: str, alias: str, version_arn: str | None) -> str:
    """Point ``alias`` at ``version_arn`` (all of the traffic), creating it if needed."""
    if version_arn is None:
        raise DeployError(f"--alias {alias}: the endpoint published no version to point it at")
    routing = [{"stateMachineVersionArn": version_arn, "weight": 100}]
    for item in _pages(client.list_state_machine_aliases, "stateMachineAliases", arn):
        alias_arn = str(item["stateMachineAliasArn"])
        if alias_arn.rsplit(":", 1)[-1] == alias:
            client.update_state_machine_alias(
                stateMachineAliasArn=alias_arn, routingConfiguration=routing
            )
            return alias_arn
    created = client.create_state_machine_alias(name=alias, routingConfiguration=routing)
    return str(created["stateMachineAliasArn"])


def _pages(call: Any, key: str, arn: str) -> Any:
    """Every item of a ``nextToken``-paginated list operation (botocore has no paginator
    for the alias and version lists)."""
    token: str | None = None
    while True:
        page = call(stateMachineArn=arn, **({"nextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("nextToken")
        if not token:
            return
