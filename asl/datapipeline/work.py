"""The work of ShellCommandActivity, CopyActivity and the SQL activities as Task states.

* ``ShellCommandActivity``: an activity task for ``asl worker`` (``--shell-runner
  activity``), or ``batch:submitJob.sync`` / ``ecs:runTask.sync`` running ``sh -c``;
* ``CopyActivity`` S3 → S3: ``aws-sdk:s3:copyObject`` for a file, a Distributed Map over
  ``s3:listObjectsV2`` copying each object for a directory;
* ``SqlActivity`` on a RedshiftDatabase and ``RedshiftCopyActivity``:
  ``aws-sdk:redshiftdata:executeStatement``.
"""

from __future__ import annotations

import json
from typing import Any

from asl.datapipeline.context import Conversion, s3_parts
from asl.datapipeline.expressions import Untranslatable
from asl.datapipeline.pipeline import PipelineObject
from asl.datapipeline.tasks import KEEP, States, retry_fields, task_state

__all__ = ["copy_states", "shell_state", "sql_state"]


def shell_state(conv: Conversion, act: PipelineObject, fail_to: str) -> tuple[str, dict[str, Any]]:
    command = conv.value(act, "command")
    script = conv.value(act, "scriptUri")
    if command is None and script is None:
        raise Untranslatable("ShellCommandActivity needs 'command' or 'scriptUri'")
    args = [conv.value(act, "scriptArgument", text=a) for a in act.texts("scriptArgument")]
    staging = {
        "stage": act.text("stage", "true") == "true",
        "input": [_node_uri(conv, act, n) for n in act.refs("input")],
        "output": [_node_uri(conv, act, n) for n in act.refs("output")],
    }
    if staging["stage"] and (staging["input"] or staging["output"]):
        conv.lost(
            act,
            "S3 staging (stage=true): the task input lists the S3 locations "
            "(staging.input, staging.output); the worker copies them itself "
            "(${INPUT1_STAGING_DIR}/${OUTPUT1_STAGING_DIR} are not set up)",
        )
    for key in ("runsOn", "workerGroup"):
        for ref in act.refs(key) if key == "runsOn" else ():
            resource = conv.pipeline.get(ref, act, key)
            conv.became(resource, f"not needed: {act.id} runs on an asl worker / container")
    name = f"{act.id}: run"
    runner = conv.shell_runner
    if runner == "activity":
        arguments: dict[str, Any] = {
            "command": command,
            "scriptUri": script,
            "scriptArgument": args,
            "staging": staging,
        }
        arguments = {k: v for k, v in arguments.items() if v is not None}
        arn = conv.activity_arn(act.id)
        conv.became(
            act,
            f"activity task '{name}' ({arn}) for `asl worker --activity "
            f"{arn.rsplit(':', 1)[1]} -- COMMAND` (task input: command, "
            "scriptUri, scriptArgument, staging)",
        )
        return task_state(conv, act, name, arn, arguments, {"exitCode": 0}, fail_to)
    line = command or ("aws s3 cp " + (script or "") + " /tmp/script.sh && sh /tmp/script.sh")
    shell = ["sh", "-c", line, "sh", *args]
    if runner == "batch":
        conv.runner_inputs |= {
            "batchJobQueue": "REPLACE-job-queue",
            "batchJobDefinition": "REPLACE-job-definition",
        }
        arguments = {
            "JobName": _job_name(act.id),
            "JobQueue": "{% $params.batchJobQueue %}",
            "JobDefinition": "{% $params.batchJobDefinition %}",
            "ContainerOverrides": {"Command": shell},
        }
        conv.became(act, f"batch:submitJob.sync task '{name}' running sh -c")
        return task_state(
            conv,
            act,
            name,
            "arn:aws:states:::batch:submitJob.sync",
            arguments,
            {"JobName": _job_name(act.id), "JobId": "job-1", "Status": "SUCCEEDED"},
            fail_to,
        )
    conv.runner_inputs |= {
        "ecsCluster": "REPLACE-cluster",
        "ecsTaskDefinition": "REPLACE-task-definition",
        "ecsContainer": "REPLACE-container",
    }
    arguments = {
        "Cluster": "{% $params.ecsCluster %}",
        "TaskDefinition": "{% $params.ecsTaskDefinition %}",
        "Overrides": {
            "ContainerOverrides": [{"Name": "{% $params.ecsContainer %}", "Command": shell}]
        },
    }
    conv.became(act, f"ecs:runTask.sync task '{name}' running sh -c")
    return task_state(
        conv,
        act,
        name,
        "arn:aws:states:::ecs:runTask.sync",
        arguments,
        {"Tasks": [{"LastStatus": "STOPPED", "Containers": [{"ExitCode": 0}]}]},
        fail_to,
    )


def _job_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:128]


def _node_uri(conv: Conversion, act: PipelineObject, node_id: str) -> str | None:
    node = conv.pipeline.get(node_id, act, "input/output")
    for key in ("filePath", "directoryPath"):
        if node.text(key):
            return conv.value(node, key)
    return None


def copy_states(conv: Conversion, act: PipelineObject, fail_to: str) -> States:
    ins, outs = act.refs("input"), act.refs("output")
    if len(ins) != 1 or len(outs) != 1:
        raise Untranslatable("CopyActivity needs one input and one output data node")
    src = conv.pipeline.get(ins[0], act, "input")
    dst = conv.pipeline.get(outs[0], act, "output")
    if src.type != "S3DataNode" or dst.type != "S3DataNode":
        raise Untranslatable(f"CopyActivity from {src.type} to {dst.type} (only S3 → S3 is)")
    for node in (src, dst):
        conv.became(node, f"the S3 location of {act.id}")
        if node.refs("dataFormat"):
            conv.lost(node, "dataFormat: an S3 → S3 copy keeps the bytes as they are")
    src_file, dst_file = conv.value(src, "filePath"), conv.value(dst, "filePath")
    src_dir, dst_dir = conv.value(src, "directoryPath"), conv.value(dst, "directoryPath")
    name = f"{act.id}: copy"
    mock = {
        "CopyObjectResult": {
            "ETag": '"9b2cf535f27731c974343645a3985328"',
            "LastModified": "2026-01-15T00:00:00Z",
        }
    }
    if src_file:
        target = dst_file or _join(dst_dir or "", _basename(src_file))
        bucket, key = s3_parts(target)
        arguments = {"Bucket": bucket, "Key": key, "CopySource": _copy_source(src_file)}
        conv.became(act, f"aws-sdk:s3:copyObject task '{name}'")
        return [
            task_state(
                conv, act, name, "arn:aws:states:::aws-sdk:s3:copyObject", arguments, mock, fail_to
            )
        ]
    if not src_dir or not dst_dir:
        raise Untranslatable("CopyActivity from a directory needs a directoryPath output")
    src_bucket, src_prefix = s3_parts(src_dir)
    dst_bucket, dst_prefix = s3_parts(dst_dir)
    # Iterations of a Distributed Map cannot read the machine's variables: the locations
    # (which may use $params or $scheduledStart) come to each item through ItemSelector.
    selector = {
        "key": "{% $states.context.Map.Item.Value.Key %}",
        "sourceBucket": src_bucket,
        "sourcePrefix": src_prefix,
        "targetBucket": dst_bucket,
        "targetPrefix": dst_prefix,
    }
    item = "$states.input"
    inner = f"{name} object"
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": inner,
        "States": {
            inner: {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:copyObject",
                "Arguments": {
                    "Bucket": "{% " + f"{item}.targetBucket" + " %}",
                    "Key": "{% " + f"{item}.targetPrefix & $substringAfter({item}.key, "
                    f"{item}.sourcePrefix)" + " %}",
                    "CopySource": "{% " + f"{item}.sourceBucket & '/' & {item}.key" + " %}",
                },
                **retry_fields(conv, act),
                "End": True,
            }
        },
    }
    conv.mock(inner, mock)
    conv.mock(
        name,
        [
            {
                "Key": "part-00000",
                "Size": 1024,
                "ETag": '"9b2cf535"',
                "LastModified": "2026-01-15T00:00:00Z",
                "StorageClass": "STANDARD",
            }
        ],
    )
    conv.became(
        act,
        f"Distributed Map '{name}' over s3:listObjectsV2, copying each object "
        f"(aws-sdk:s3:copyObject '{inner}')",
    )
    state = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:listObjectsV2",
            "Arguments": {"Bucket": src_bucket, "Prefix": src_prefix},
        },
        "ItemSelector": selector,
        "ItemProcessor": processor,
        "MaxConcurrency": 100,
        "Output": KEEP,
        "Catch": [
            {
                "ErrorEquals": ["States.ALL"],
                "Next": fail_to,
                "Assign": {"failure": "{% $states.errorOutput %}"},
            }
        ],
        "Next": "__NEXT__",
    }
    return [(name, state)]


def _expr(value: str) -> str:
    """A plain or ``{% %}`` value as a JSONata operand."""
    return value[2:-2].strip() if value.startswith("{%") else json.dumps(value)


def _join(directory: str, name: str) -> str:
    if directory.startswith("{%") or name.startswith("{%"):
        base = directory if directory.startswith("{%") else directory.rstrip("/")
        return "{% " + f"{_expr(base)} & '/' & {_expr(name)}" + " %}"
    return directory.rstrip("/") + "/" + name


def _basename(uri: str) -> str:
    if uri.startswith("{%"):
        return "{% " + f"$reverse($split({_expr(uri)}, '/'))[0]" + " %}"
    return uri.rsplit("/", 1)[-1]


def _copy_source(uri: str) -> str:
    if uri.startswith("{%"):
        return "{% " + f"$substringAfter({_expr(uri)}, '://')" + " %}"
    return uri.split("://", 1)[1]


def sql_state(conv: Conversion, act: PipelineObject, fail_to: str) -> tuple[str, dict[str, Any]]:
    if act.type == "SqlActivity":
        dbs = act.refs("database")
        db = conv.pipeline.get(dbs[0], act, "database") if dbs else None
        script = conv.value(act, "script")
        if db is None or db.type != "RedshiftDatabase" or script is None:
            raise Untranslatable(
                "SqlActivity: only a 'script' on a RedshiftDatabase is "
                "converted (to the Redshift Data API)"
            )
        if act.text("scriptUri"):
            raise Untranslatable("SqlActivity scriptUri: the Redshift Data API takes the SQL text")
        sql = script
    else:
        ins, outs = act.refs("input"), act.refs("output")
        if len(ins) != 1 or len(outs) != 1:
            raise Untranslatable("RedshiftCopyActivity needs one input and one output")
        src = conv.pipeline.get(ins[0], act, "input")
        dst = conv.pipeline.get(outs[0], act, "output")
        if src.type != "S3DataNode" or dst.type != "RedshiftDataNode":
            raise Untranslatable(
                f"RedshiftCopyActivity {src.type} → {dst.type} (only S3 → Redshift is converted)"
            )
        dbs = dst.refs("database")
        db = conv.pipeline.get(dbs[0], dst, "database") if dbs else None
        if db is None:
            raise Untranslatable("the RedshiftDataNode has no 'database'")
        location = conv.value(src, "directoryPath") or conv.value(src, "filePath") or ""
        table = conv.value(dst, "tableName") or ""
        options = " ".join(act.texts("commandOptions"))
        sql = (
            "{% "
            + (
                f"'COPY ' & {_expr(table)} & ' FROM ' & \"'\" & {_expr(location)} & \"'\" "
                f"& ' IAM_ROLE default ' & {json.dumps(options)}"
            )
            + " %}"
        )
        conv.became(src, f"the COPY source of {act.id}")
        conv.became(dst, f"the COPY target of {act.id}")
        if act.text("insertMode"):
            conv.lost(
                act,
                f"insertMode {act.text('insertMode')}: COPY appends; write the "
                "merge/truncate SQL yourself",
            )
    arguments = {
        "ClusterIdentifier": conv.value(db, "clusterId") or "",
        "Database": conv.value(db, "databaseName") or "dev",
        "DbUser": conv.value(db, "username") or "awsuser",
        "Sql": sql,
    }
    conv.became(db, "the Redshift Data API connection (ClusterIdentifier, Database, DbUser)")
    if db.text("*password"):
        conv.lost(db, "*password: the Redshift Data API uses DbUser credentials or SecretArn")
    name = f"{act.id}: sql"
    conv.became(act, f"aws-sdk:redshiftdata:executeStatement task '{name}'")
    conv.lost(
        act,
        "executeStatement returns when the statement is submitted; poll "
        "describeStatement to wait for it",
    )
    return task_state(
        conv,
        act,
        name,
        "arn:aws:states:::aws-sdk:redshiftdata:executeStatement",
        arguments,
        {"Id": "d9b6c0c7-0000-4000-8000-000000000001"},
        fail_to,
    )
