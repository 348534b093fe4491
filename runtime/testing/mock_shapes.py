"""TestState's ``mock.fieldValidationMode``: a mocked result checked against the output
shape of the API action the Task calls, in botocore's model.

AWS (API reference, MockInput): ``STRICT`` (the default) wants every required field present
and every present field of the schema's type; ``PRESENT`` checks the present fields only;
``NONE`` checks nothing. Fields the schema does not name are let through, and the messages
are AWS's, as recorded against AWS::

    Mock result schema validation error: Required field 'ExecutionArn' is missing
    Mock result schema validation error: Field 'Entries' must be an array
    Mock result schema validation error: Field 'StorageClass' is not an expected value

Step Functions writes an action's output with PascalCase member names; timestamps and
blobs are strings. Which output: ``arn:aws:states:::aws-sdk:SERVICE:action`` and the
optimized integrations ``arn:aws:states:::SERVICE:action`` (``states`` is Step Functions)
check the action's own output; a ``.sync`` of ``states:startExecution`` checks
DescribeExecution's. Lambda's ``Payload`` is the function's JSON answer, any value. Other
resources (Lambda function and activity ARNs, HTTP Tasks, the ``.sync`` of other services,
whose result is a job description) have no single output shape here and are not checked:
:func:`output_shape` says None for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["MODES", "check_mock_result", "output_shape"]

#: fieldValidationMode's values.
MODES = ("STRICT", "PRESENT", "NONE")
_PREFIX = "arn:aws:states:::"
#: Optimized integrations whose SDK name differs from the resource's.
_OPTIMIZED = {"states": "sfn"}
#: (service, action) pairs of optimized ``.sync`` integrations, and the action whose
#: output their result is.
_SYNC_OUTPUT = {("states", "startExecution"): "describeExecution"}
_NUMBERS = ("integer", "long", "float", "double")


def output_shape(resource: str) -> Any:
    """The botocore output shape of the action a Task resource calls, or None."""
    from runtime.adapters.sdk import resolve_operation
    from runtime.engine.errors import TaskFailure

    if not resource.startswith(_PREFIX):
        return None
    parts = resource[len(_PREFIX) :].split(":")
    if parts[0] == "aws-sdk" and len(parts) == 3:
        service, action = parts[1], parts[2]
    elif len(parts) == 2 and parts[0] != "aws-sdk":
        service, action = parts
    else:
        return None
    action, _, pattern = action.partition(".")
    if pattern == "sync":
        action = _SYNC_OUTPUT.get((service, action), "")
    elif pattern:  # waitForTaskToken: the result is what the callback sends
        return None
    if not action:
        return None
    try:
        operation = resolve_operation(_OPTIMIZED.get(service, service), action)
    except TaskFailure:
        return None
    return operation.model.output_shape


def check_mock_result(result: Any, resource: str, mode: str) -> str | None:
    """The first problem of ``result`` for ``resource`` under ``mode``, in AWS's words,
    or None when it passes (or nothing is known to check it against)."""
    if mode == "NONE":
        return None
    shape = output_shape(resource)
    if shape is None:
        return None
    lambda_payload = resource.startswith(_PREFIX + "lambda:invoke")
    for problem in _problems(result, shape, mode == "STRICT", lambda_payload):
        return f"Mock result schema validation error: {problem}"
    return None


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _problems(value: Any, shape: Any, strict: bool, any_payload: bool) -> Iterator[str]:
    """Problems of a structure's members (the top of an output is one)."""
    if not isinstance(value, dict):
        yield "The mocked result must be a JSON object"
        return
    yield from _members(value, shape, strict, any_payload)


def _members(value: dict[str, Any], shape: Any, strict: bool, any_payload: bool) -> Iterator[str]:
    members = {_pascal(name): member for name, member in shape.members.items()}
    if strict:
        for name in shape.required_members:
            if _pascal(name) not in value:
                yield f"Required field '{_pascal(name)}' is missing"
    for key, item in value.items():
        member = members.get(key)
        if member is None or (any_payload and key == "Payload"):
            continue  # a field the schema does not name passes, as on AWS
        yield from _field(key, item, member, strict)


def _field(name: str, value: Any, shape: Any, strict: bool) -> Iterator[str]:
    """Problems of one field's value (``name`` is the field it is in)."""
    kind = shape.type_name
    if value is None:
        return
    if kind == "structure":
        if not isinstance(value, dict):
            yield f"Field '{name}' must be an object"
        else:
            yield from _members(value, shape, strict, False)
    elif kind == "list":
        if not isinstance(value, list):
            yield f"Field '{name}' must be an array"
        else:
            for item in value:
                yield from _field(name, item, shape.member, strict)
    elif kind == "map":
        if not isinstance(value, dict):
            yield f"Field '{name}' must be an object"
        else:
            for item in value.values():
                yield from _field(name, item, shape.value, strict)
    else:
        yield from _scalar(name, value, shape)


def _scalar(name: str, value: Any, shape: Any) -> Iterator[str]:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "boolean":
        if not isinstance(value, bool):
            yield f"Field '{name}' must be a boolean"
        return
    if kind in _NUMBERS:
        # isinstance(True, int) holds in Python: a JSON true is not a number.
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield f"Field '{name}' must be a number"
        elif "min" in meta and value < meta["min"]:
            yield f"Field '{name}' is less than the minimum value"
        elif "max" in meta and value > meta["max"]:
            yield f"Field '{name}' exceeds the maximum value"
        return
    # string, timestamp, blob: JSON strings.
    if not isinstance(value, str):
        yield f"Field '{name}' must be a string"
    elif getattr(shape, "enum", None) and value not in shape.enum:
        yield f"Field '{name}' is not an expected value"
    elif kind != "timestamp" and "min" in meta and len(value) < meta["min"]:
        yield f"Field '{name}' is smaller than the minimum length"
