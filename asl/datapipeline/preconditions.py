"""Data Pipeline preconditions as polling states (JSONata).

One precondition becomes a loop::

    <P> start  (Pass: $deadline := entered time + timeout)
    <P> check  (Task: the check; $satisfied from its result; any error: not satisfied)
    <P> met?   (Choice: satisfied → <P> met; past the deadline → <P> late; else wait)
    <P> wait   (Wait retryDelay seconds, then check again)
    <P> late   (the late path given by the caller: notifications, then Fail)
    <P> met    (Pass, on to what follows)

The checks (Data Pipeline's precondition reference → the Step Functions call):

=========================== ==========================================================
``S3KeyExists``              ``aws-sdk:s3:headObject`` succeeds
``S3PrefixNotEmpty``         ``aws-sdk:s3:listObjectsV2`` (MaxKeys 1) has ``KeyCount > 0``
``DynamoDBTableExists``      ``aws-sdk:dynamodb:describeTable`` says ``ACTIVE``
``DynamoDBDataExists``       ``aws-sdk:dynamodb:scan`` (Limit 1) has ``Count > 0``
``Exists``                   the data node's own check: an S3 file (headObject), an S3
                             directory (listObjectsV2), a DynamoDB table (describeTable)
``ShellCommandPrecondition`` an activity task for ``asl worker``: exit 0 is satisfied
=========================== ==========================================================
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from asl.datapipeline.context import Conversion, duration_seconds, s3_parts
from asl.datapipeline.expressions import Untranslatable
from asl.datapipeline.pipeline import PipelineObject

__all__ = ["PRECONDITIONS", "Check", "precondition_states"]

PRECONDITIONS = frozenset(
    {
        "S3KeyExists",
        "S3PrefixNotEmpty",
        "DynamoDBTableExists",
        "DynamoDBDataExists",
        "Exists",
        "ShellCommandPrecondition",
    }
)
_SDK = "arn:aws:states:::aws-sdk:"
#: Data Pipeline's default retryDelay ("10 minutes").
DEFAULT_RETRY_DELAY = 600
#: When neither the precondition nor its activity sets a timeout.
DEFAULT_TIMEOUT = 86400
_STAMP = "2026-01-15T00:00:00Z"


@dataclass(frozen=True, slots=True)
class Check:
    """The Task that checks a precondition once."""

    resource: str
    arguments: dict[str, Any]
    #: JSONata (without braces) true when the result satisfies the precondition.
    satisfied: str
    #: A mocked result that satisfies it.
    mock: Any
    what: str


def _s3_file(uri: str) -> Check:
    bucket, key = s3_parts(uri)
    return Check(
        _SDK + "s3:headObject",
        {"Bucket": bucket, "Key": key},
        "true",
        {
            "ContentLength": 1024,
            "ETag": '"9b2cf535f27731c974343645a3985328"',
            "LastModified": _STAMP,
        },
        f"S3 object {uri} exists",
    )


def _s3_prefix(uri: str) -> Check:
    bucket, prefix = s3_parts(uri)
    return Check(
        _SDK + "s3:listObjectsV2",
        {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1},
        "$states.result.KeyCount > 0",
        {
            "KeyCount": 1,
            "MaxKeys": 1,
            "IsTruncated": False,
            "Name": "bucket",
            "Contents": [{"Key": "part-00000", "Size": 1024}],
        },
        f"S3 prefix {uri} is not empty",
    )


def _table(name: str) -> Check:
    return Check(
        _SDK + "dynamodb:describeTable",
        {"TableName": name},
        "$states.result.Table.TableStatus = 'ACTIVE'",
        {"Table": {"TableName": "table", "TableStatus": "ACTIVE", "ItemCount": 1}},
        f"DynamoDB table {name} exists",
    )


def _data(name: str) -> Check:
    return Check(
        _SDK + "dynamodb:scan",
        {"TableName": name, "Limit": 1, "Select": "COUNT"},
        "$states.result.Count > 0",
        {"Count": 1, "ScannedCount": 1},
        f"DynamoDB table {name} has data",
    )


def check_for(conv: Conversion, pre: PipelineObject, node: PipelineObject | None) -> Check:
    """The check of ``pre`` (on data node ``node``, if any); raises Untranslatable."""
    kind = pre.type

    def need(key: str) -> str:
        value = conv.value(pre, key)
        if value is None:
            raise Untranslatable(f"{kind} needs the field '{key}'")
        return value

    if kind == "S3KeyExists":
        return _s3_file(need("s3Key"))
    if kind == "S3PrefixNotEmpty":
        return _s3_prefix(need("s3Prefix"))
    if kind == "DynamoDBTableExists":
        return _table(need("tableName"))
    if kind == "DynamoDBDataExists":
        return _data(need("tableName"))
    if kind == "ShellCommandPrecondition":
        arguments: dict[str, Any] = {
            key: conv.value(pre, key) for key in ("command", "scriptUri") if pre.text(key)
        }
        if not arguments:
            raise Untranslatable("ShellCommandPrecondition needs 'command' or 'scriptUri'")
        arguments["scriptArgument"] = [
            conv.value(pre, "scriptArgument", text=arg) for arg in pre.texts("scriptArgument")
        ]
        return Check(
            conv.activity_arn(pre.id),
            arguments,
            "true",
            {"exitCode": 0},
            "the shell check exits 0 (an asl worker runs it)",
        )
    if kind == "Exists" and node is not None:
        if node.type == "S3DataNode" and node.text("filePath"):
            return _s3_file(conv.value(node, "filePath") or "")
        if node.type == "S3DataNode" and node.text("directoryPath"):
            return _s3_prefix(conv.value(node, "directoryPath") or "")
        if node.type == "DynamoDBDataNode" and node.text("tableName"):
            return _table(conv.value(node, "tableName") or "")
        raise Untranslatable(f"Exists on a {node.type} has no Step Functions check here")
    raise Untranslatable(f"{kind} is not a precondition type this importer knows")


def precondition_states(
    conv: Conversion,
    prefix: str,
    check: Check,
    retry_delay: int,
    timeout: int,
    late: list[tuple[str, dict[str, Any]]],
) -> list[tuple[str, dict[str, Any]]]:
    """The polling loop of one check (see the module doc), ending at ``<prefix> met``
    whose Next is ``__NEXT__``; ``late`` are the states of the late path (first = entry)."""
    start, test, decide, wait, met = (
        f"{prefix} start",
        f"{prefix} check",
        f"{prefix} met?",
        f"{prefix} wait",
        f"{prefix} met",
    )
    now = "$toMillis($states.context.State.EnteredTime)"
    deadline = f"{now} + {timeout * 1000}"
    states: list[tuple[str, dict[str, Any]]] = [
        (
            start,
            {
                "Type": "Pass",
                "Comment": "Poll until "
                + re.sub(r"\{%.*?%\}", "(computed)", check.what)
                + f", for at most {timeout} s.",
                "Assign": {"deadline": "{% " + deadline + " %}"},
                "Next": test,
            },
        ),
        (
            test,
            {
                "Type": "Task",
                "Resource": check.resource,
                "Arguments": check.arguments,
                "TimeoutSeconds": 300,
                "Assign": {"satisfied": "{% " + check.satisfied + " %}"},
                "Output": "{% $states.input %}",
                "Retry": [
                    {
                        "ErrorEquals": ["States.Timeout"],
                        "MaxAttempts": 2,
                        "IntervalSeconds": 10,
                        "BackoffRate": 2,
                    }
                ],
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Next": decide,
                        "Assign": {"satisfied": False, "lastCheck": "{% $states.errorOutput %}"},
                        "Output": "{% $states.input %}",
                    }
                ],
                "Next": decide,
            },
        ),
        (
            decide,
            {
                "Type": "Choice",
                "Choices": [
                    {"Condition": "{% $satisfied %}", "Next": met},
                    {
                        "Condition": "{% " + now + " >= $deadline %}",
                        "Next": late[0][0],
                    },
                ],
                "Default": wait,
            },
        ),
        (wait, {"Type": "Wait", "Seconds": retry_delay, "Next": test}),
        *late,
        (met, {"Type": "Pass", "Next": "__NEXT__"}),
    ]
    conv.mock(test, check.mock)
    return states


def _operand(text: str) -> str:
    """Text that may hold ``{% ... %}`` templates, as one JSONata string expression."""
    parts = re.split(r"(\{%.*?%\})", text)
    operands = [
        part[2:-2].strip() if part.startswith("{%") else json.dumps(part) for part in parts if part
    ]
    return " & ".join(f"({o})" for o in operands) or '""'


def late_cause(prefix: str, check: Check, timeout: int) -> str:
    """The Fail cause of a precondition not met in time."""
    text = f"{prefix}: not met within {timeout} seconds: {check.what}"
    if "{%" not in text:
        return text
    return "{% " + _operand(text) + " %}"


def timing(conv: Conversion, pre: PipelineObject, activity: PipelineObject) -> tuple[int, int]:
    """(retryDelay, timeout) in seconds: the precondition's, else its activity's."""
    delay = duration_seconds(pre, "retryDelay") or DEFAULT_RETRY_DELAY
    timeout = (
        duration_seconds(pre, "preconditionTimeout")
        or duration_seconds(activity, "lateAfterTimeout")
        or DEFAULT_TIMEOUT
    )
    if pre.text("preconditionTimeout") is None and activity.text("lateAfterTimeout") is None:
        conv.became(pre, f"no preconditionTimeout: polls for at most {DEFAULT_TIMEOUT} s")
    if pre.text("maximumRetries"):
        conv.lost(
            pre,
            "maximumRetries counts checks; the loop is bounded by time instead "
            "(preconditionTimeout or the activity's lateAfterTimeout)",
        )
    return delay, timeout
