"""What a Task's service answers, built from botocore's model: the ``Return`` values of
generated mocks (``asl mock init``).

Each value is small but has the type AWS gives it: the operation's output shape with every
top-level member and the required members below, enums set to their success value where
one exists (``SUCCEEDED``, ``Completed``), timestamps as Step Functions writes them (epoch
milliseconds for optimized integrations, ISO text for ``aws-sdk:*``). Lambda's
``lambda:invoke`` answers with its invoke envelope (``ExecutedVersion``, ``Payload``,
``SdkHttpMetadata``, ``SdkResponseMetadata``, ``StatusCode``); a ``.sync`` job answers with
the description of the finished job (Batch's ``DescribeJobs`` job, SageMaker's
``Describe*Job``, Step Functions' ``DescribeExecution``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ServiceAnswer",
    "answer_for",
    "build",
    "child_shape",
    "lambda_envelope",
    "leaf_for",
    "member_shape",
    "placeholder",
    "scalar",
]

ACCOUNT = "123456789012"
REGION = "us-east-1"
REQUEST_ID = "5f0b3c1e-7a2d-4e8f-9b6c-1d2e3f4a5b6c"
#: 2026-01-01T00:00:00Z, the instant every generated timestamp uses.
EPOCH_MS = 1767225600000

#: Enum values picked before the first one: the state of a job that went well.
_SUCCESS = ("SUCCEEDED", "Succeeded", "Completed", "COMPLETED", "SUCCESS", "Success", "ACTIVE")

#: Top-level members left out: what a failure, a checksum or another page would fill in
#: (a paging member that is present sends a definition round its paging loop forever).
_SKIPPED = re.compile(
    r"(?i)error|cause|failure|checksum|nexttoken|continuation|lastevaluated|nextmarker"
    r"|^marker$|istruncated"
)

_SERVICE_RE = re.compile(r"^arn:[^:]+:states:::(?P<service>[a-z0-9-]+):(?P<action>[A-Za-z0-9]+)")


@dataclass(frozen=True, slots=True)
class ServiceAnswer:
    """How one resource answers: the botocore shape of its result, if it has one."""

    #: The result value (before the definition's paths are filled in).
    value: Any
    #: botocore shape of ``value`` (None: free-form, e.g. a Lambda payload).
    shape: Any = None
    #: Member names inside ``value`` where the free-form part starts (``("Payload",)``).
    free: tuple[str, ...] | None = None
    #: ``iso`` or ``millis``: how timestamps are written.
    clock: str = "millis"


def answer_for(resource: str) -> ServiceAnswer:
    """The answer of a Task with this ``Resource`` (an ARN as the definition gives it)."""
    if ":function:" in resource and resource.startswith("arn:") and ":lambda:" in resource:
        return ServiceAnswer({}, free=())  # the legacy Lambda resource: the function's result
    if ":activity:" in resource:
        return ServiceAnswer({}, free=())  # what the worker sends with SendTaskSuccess
    matched = _SERVICE_RE.match(resource)
    if matched is None:
        return ServiceAnswer({}, free=())
    service, action = matched["service"], matched["action"]
    pattern = resource[matched.end() :]
    if pattern == ".waitForTaskToken":
        return ServiceAnswer({}, free=())  # the output given to SendTaskSuccess
    if service == "lambda" and action == "invoke":
        return ServiceAnswer(lambda_envelope({}), free=("Payload",))
    if service in ("apigateway", "http") and action == "invoke":
        body = {"Headers": {}, "ResponseBody": {}, "StatusCode": 200, "StatusText": "OK"}
        return ServiceAnswer(body, free=("ResponseBody",))
    if service == "aws-sdk":
        sdk_service, _, sdk_action = resource.split(":::aws-sdk:", 1)[1].partition(":")
        return _sdk_answer(sdk_service, sdk_action.split(".")[0])
    return _optimized_answer(service, action, pattern)


def lambda_envelope(payload: Any) -> dict[str, Any]:
    """``lambda:invoke``'s result as AWS returns it, around ``payload``."""
    from runtime.adapters.lambda_ import invoke_envelope

    headers = {
        "Date": "Thu, 01 Jan 2026 00:00:00 GMT",
        "Content-Type": "application/json",
        "Content-Length": "2",
        "Connection": "keep-alive",
        "x-amzn-RequestId": REQUEST_ID,
        "X-Amzn-Trace-Id": "Root=1-6955b980-0123456789abcdef01234567;Sampled=0",
        "X-Amz-Executed-Version": "$LATEST",
    }
    return invoke_envelope(
        payload=payload,
        status_code=200,
        headers=headers,
        http_status=200,
        request_id=REQUEST_ID,
        executed_version="$LATEST",
    )


def _sdk_answer(sdk_service: str, action: str) -> ServiceAnswer:
    from runtime.adapters.sdk import boto_service_name

    service = boto_service_name(sdk_service)
    shape = _output_shape(service, action) if service else None
    if shape is None:
        return ServiceAnswer({}, free=())
    return ServiceAnswer(build(shape, "iso"), shape, clock="iso")


#: service:action(.sync) of optimized integrations whose result is another API's output,
#: and the member of that output that holds the job.
_SYNC = {
    "batch:submitJob": ("batch", "DescribeJobs", "jobs"),
    "glue:startJobRun": ("glue", "GetJobRun", "JobRun"),
    "athena:startQueryExecution": ("athena", "GetQueryExecution", None),
    "ecs:runTask": ("ecs", "RunTask", None),
    "codebuild:startBuild": ("codebuild", "StartBuild", None),
    "states:startExecution": ("stepfunctions", "DescribeExecution", None),
}


def _optimized_answer(service: str, action: str, pattern: str) -> ServiceAnswer:
    from runtime.adapters.sdk import boto_service_name

    boto = boto_service_name(service) or service
    key = f"{service}:{action}"
    shape, member = _output_shape(boto, action), None
    if pattern.startswith(".sync"):
        if key in _SYNC:
            boto, operation, member = _SYNC[key]
            shape = _output_shape(boto, operation)
        elif service == "sagemaker" and action.startswith("create"):
            shape = _output_shape(boto, "describe" + action[len("create") :])
    if shape is None:
        return ServiceAnswer({}, free=())
    if member is not None:
        shape = member_shape(shape, member)
        shape = shape.member if shape.type_name == "list" else shape
    value = build(shape, "millis")
    if key == "states:startExecution" and pattern.startswith(".sync") and isinstance(value, dict):
        value["Output"] = {} if pattern == ".sync:2" else "{}"
        value["Input"] = {} if pattern == ".sync:2" else "{}"
    if pattern == "" and boto in ("dynamodb", "sqs", "batch") and isinstance(value, dict):
        from runtime.adapters.simple import sdk_http_metadata

        value.update(sdk_http_metadata(boto, "{}", REQUEST_ID, EPOCH_MS / 1000))
    return ServiceAnswer(value, shape)


@functools.cache
def _service_model(service: str) -> Any:
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        return botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return None


def _output_shape(service: str, action: str) -> Any:
    model = _service_model(service)
    if model is None:
        return None
    names = {name.lower(): name for name in model.operation_names}
    operation = names.get(action.lower())
    return model.operation_model(operation).output_shape if operation else None


def member_shape(shape: Any, name: str) -> Any:
    """The shape of member ``name`` (matched case-insensitively) of a structure, else None."""
    if getattr(shape, "type_name", None) != "structure":
        return None
    for member, inner in shape.members.items():
        if member.lower() == name.lower():
            return inner
    return None


def build(shape: Any, clock: str, top: bool = True, seen: frozenset[str] = frozenset()) -> Any:
    """A minimal, type-correct value of ``shape``: PascalCase members (every member at the
    top, required ones below), lists empty, enums at their success value."""
    kind = shape.type_name
    if kind == "structure":
        if shape.name in seen:
            return {}
        names = [n for n in shape.members if not _SKIPPED.search(n)] if top else []
        names += [n for n in shape.required_members if n not in names]
        return {
            _pascal(name): _member(shape.members[name], name, clock, seen | {shape.name})
            for name in names
            if not shape.members[name].metadata.get("eventstream")
        }
    if kind == "list":
        return []
    if kind == "map":
        return {}
    return scalar(shape, clock)


def _member(shape: Any, name: str, clock: str, seen: frozenset[str]) -> Any:
    if shape.type_name in ("structure", "list", "map"):
        return build(shape, clock, False, seen)
    return scalar(shape, clock, name)


def scalar(shape: Any, clock: str, name: str = "") -> Any:
    """A leaf value of a scalar shape."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        return max(0, int(shape.metadata.get("min", 0)))
    if kind in ("double", "float"):
        return 0.0
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return EPOCH_MS if clock == "millis" else "2026-01-01T00:00:00Z"
    enum = getattr(shape, "enum", None) or []
    if enum:
        return next((value for value in _SUCCESS if value in enum), enum[0])
    return placeholder(name or shape.name)


def placeholder(name: str) -> str:
    """A string for a member called ``name``: an ARN for ``*Arn``, an id for ``*Id``."""
    if name.endswith(("Arn", "ARN")):
        return f"arn:aws:service:{REGION}:{ACCOUNT}:{_kebab(name[:-3]) or 'resource'}"
    if name.endswith(("Id", "ID")):
        return "0f1e2d3c-4b5a-4697-8887-a1b2c3d4e5f6"
    return _kebab(name) or "value"


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower().strip("-")


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def leaf_for(shape: Any, clock: str, name: str) -> Any:
    """A value for a member the definition reads: built from its shape when known."""
    if shape is None:
        return placeholder(name)
    if shape.type_name in ("structure", "map"):
        return build(shape, clock, top=True)
    if shape.type_name == "list":
        return [
            build(shape.member, clock, top=True)
            if _nested(shape.member)
            else scalar(shape.member, clock, name)
        ]
    return scalar(shape, clock, name)


def _nested(shape: Any) -> bool:
    return shape.type_name in ("structure", "list", "map")


def child_shape(shape: Any, key: str | int) -> Any:
    """The shape one step down ``key`` (a member name or a list index), else None."""
    if shape is None:
        return None
    if isinstance(key, int):
        return shape.member if shape.type_name == "list" else None
    if shape.type_name == "map":
        return shape.value
    return member_shape(shape, key)
