"""One Data Pipeline activity as a chain of states.

The chain: the preconditions of the activity and of its input data nodes (polling loops,
:mod:`asl.datapipeline.preconditions`), the activity's work, and its ``onSuccess``
notifications. Its work's Task states carry ``maximumRetries``/``retryDelay`` as Retry
and ``attemptTimeout`` as TimeoutSeconds; a failure is caught, assigned to ``$failure``
and goes to the ``onFail`` notifications and a Fail state.

The work, by type (what Step Functions offers nearest):

* ``ShellCommandActivity``: an activity task for ``asl worker`` (``--shell-runner
  activity``), or ``batch:submitJob.sync`` / ``ecs:runTask.sync`` running ``sh -c``;
* ``CopyActivity`` S3 → S3: ``aws-sdk:s3:copyObject`` for a file, a Distributed Map over
  ``s3:listObjectsV2`` copying each object for a directory;
* ``EmrActivity``, ``HadoopActivity``, ``HiveActivity``, ``PigActivity``: an EMR cluster
  from the ``runsOn`` EmrCluster (``elasticmapreduce:createCluster.sync``), one
  ``addStep.sync`` per step, ``terminateCluster.sync`` after success and after failure;
* ``SqlActivity`` on a RedshiftDatabase and ``RedshiftCopyActivity``:
  ``aws-sdk:redshiftdata:executeStatement``;
* anything else: a placeholder activity task, its Comment saying so.

State names are ``<activity id>: <what>``, unique in the machine; ``__NEXT__`` stands for
the state after the chain until :func:`asl.datapipeline.build.link` replaces it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from asl.datapipeline.context import Conversion, duration_seconds, s3_parts
from asl.datapipeline.expressions import Untranslatable
from asl.datapipeline.pipeline import PipelineObject
from asl.datapipeline.preconditions import (
    check_for,
    late_cause,
    precondition_states,
    timing,
)

__all__ = ["ACTIVITIES", "activity_states"]

ACTIVITIES = frozenset(
    {
        "ShellCommandActivity",
        "CopyActivity",
        "EmrActivity",
        "HadoopActivity",
        "HiveActivity",
        "HiveCopyActivity",
        "PigActivity",
        "SqlActivity",
        "RedshiftCopyActivity",
    }
)
States = list[tuple[str, dict[str, Any]]]
_EMR = "arn:aws:states:::elasticmapreduce:"
_KEEP = "{% $states.input %}"


def _alarms(conv: Conversion, act: PipelineObject, key: str, prefix: str, failure: bool) -> States:
    """SNS publish states for the SnsAlarm actions of ``act``'s ``key`` field."""
    states: States = []
    extra = (
        {
            "errorMessage": ("$failure.Cause", "text"),
            "errorStackTrace": ("$failure.Cause", "text"),
            "errorId": ("$failure.Error", "text"),
        }
        if failure
        else {}
    )
    for ident in act.refs(key):
        alarm = conv.pipeline.get(ident, act, key)
        if alarm.type == "Terminate":
            conv.became(alarm, f"{act.id} {key}: the execution fails (Fail state)")
            continue
        if alarm.type != "SnsAlarm":
            conv.lost(alarm, f"a {alarm.type} action has no Step Functions equivalent")
            continue
        name = f"{prefix} notify {alarm.id}"
        node_fields = {f"node.{k}": v for k, v in extra.items()} | extra
        resolver_extra = node_fields | {
            "node.name": (json.dumps(act.name), "text"),
            "node.id": (json.dumps(act.id), "text"),
        }
        arguments = {
            "TopicArn": conv.value(alarm, "topicArn") or "",
            "Subject": conv.value(alarm, "subject", default=f"{act.id}", extra=resolver_extra),
            "Message": conv.value(alarm, "message", default=f"{act.id}", extra=resolver_extra),
        }
        states.append(
            (
                name,
                {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sns:publish",
                    "Arguments": arguments,
                    "Output": _KEEP,
                    "Next": "__NEXT__",
                },
            )
        )
        conv.mock(name, {"MessageId": "1f3c7a52-5a4e-4b8e-9d3e-000000000001"})
        conv.became(alarm, f"SNS publish state '{name}'")
    return states


def _chain(states: States, last: str) -> States:
    """Point each ``__NEXT__`` of ``states`` at the following state, the last at ``last``."""
    for index, (_, state) in enumerate(states):
        if state.get("Next") == "__NEXT__":
            state["Next"] = states[index + 1][0] if index + 1 < len(states) else last
    return states


def _fail_path(conv: Conversion, act: PipelineObject, key: str = "onFail") -> States:
    """onFail notifications, then a Fail state repeating the caught error."""
    fail = (
        f"{act.id}: failed",
        {
            "Type": "Fail",
            "Error": "{% $failure.Error %}",
            "Cause": "{% $exists($failure.Cause) ? $failure.Cause : $failure.Error %}",
        },
    )
    return [*_chain(_alarms(conv, act, key, f"{act.id}:", failure=True), fail[0]), fail]


def _retry(conv: Conversion, act: PipelineObject) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    retries = act.text("maximumRetries")
    if retries is not None:
        if not retries.isdigit():
            from asl.datapipeline.pipeline import PipelineError

            raise PipelineError(
                f"object '{act.id}': field 'maximumRetries' must be a whole number, not {retries!r}"
            )
        if int(retries) > 0:
            delay = duration_seconds(act, "retryDelay") or 600
            extra["Retry"] = [
                {
                    "ErrorEquals": ["States.ALL"],
                    "MaxAttempts": int(retries),
                    "IntervalSeconds": delay,
                    "BackoffRate": 1,
                }
            ]
    timeout = duration_seconds(act, "attemptTimeout")
    if timeout is not None:
        extra["TimeoutSeconds"] = timeout
    return extra


def _task(
    conv: Conversion,
    act: PipelineObject,
    name: str,
    resource: str,
    arguments: Any,
    mock: Any,
    catch_to: str,
    **more: Any,
) -> tuple[str, dict[str, Any]]:
    state = {
        "Type": "Task",
        "Resource": resource,
        "Arguments": arguments,
        **more,
        **_retry(conv, act),
        "Catch": [
            {
                "ErrorEquals": ["States.ALL"],
                "Next": catch_to,
                "Assign": {"failure": "{% $states.errorOutput %}"},
            }
        ],
        "Next": "__NEXT__",
    }
    state.setdefault("Output", _KEEP)
    conv.mock(name, mock)
    return name, state


def activity_states(conv: Conversion, act: PipelineObject) -> States:
    """The chain of ``act`` (see the module doc); its last Next is ``__NEXT__``."""
    failure = _fail_path(conv, act)
    states: States = []
    for pre_id, node in _preconditions(conv, act):
        pre = conv.pipeline.get(pre_id, node or act, "precondition")
        prefix = f"{act.id}: {pre.id}"
        try:
            check = check_for(conv, pre, node)
        except Untranslatable as exc:
            conv.lost(pre, f"not checked: {exc}")
            continue
        delay, timeout = timing(conv, pre, act)
        late_key = "onLateAction" if act.refs("onLateAction") else "onFail"
        late_fail = (
            f"{prefix} late",
            {
                "Type": "Fail",
                "Error": "DataPipeline.PreconditionNotMet",
                "Cause": late_cause(prefix, check, timeout),
            },
        )
        late = [
            *_chain(_alarms(conv, act, late_key, f"{prefix} late,", failure=False), late_fail[0]),
            late_fail,
        ]
        states += precondition_states(conv, prefix, check, delay, timeout, late)
        conv.became(
            pre,
            f"polling states '{prefix} check' (every {delay} s, "
            f"late after {timeout} s: {late_key} then Fail)",
        )
    work = _work(conv, act, failure[0][0])
    states += work
    success = _alarms(conv, act, "onSuccess", f"{act.id}: succeeded,", failure=False)
    states += success
    _chain(states, "__NEXT__")
    suffix = re.sub(r"\W", "_", act.id, flags=re.ASCII)
    states = [(name, _own_variables(state, suffix)) for name, state in states]
    failure = [(name, _own_variables(state, suffix)) for name, state in failure]
    late_action, late_after = act.refs("onLateAction"), act.text("lateAfterTimeout")
    for ref in act.refs("runsOn"):
        resource = conv.pipeline.get(ref, act, "runsOn")
        if resource.type == "Ec2Resource":
            conv.became(resource, f"not needed: {act.id} runs as Step Functions tasks")
    if late_action or late_after:
        conv.lost(
            act,
            "onLateAction/lateAfterTimeout: Step Functions has no 'late' event "
            "for a running task (used here only for precondition polling); "
            "attemptTimeout (TimeoutSeconds) ends a task instead",
        )
    return states + failure


#: The variables an activity's states assign; each gets the activity's suffix, since a
#: Parallel branch may not assign a variable its enclosing scope assigns.
_VARIABLES = ("failure", "clusterId", "satisfied", "deadline", "lastCheck")
_VARIABLE_USE = re.compile(r"\$(" + "|".join(_VARIABLES) + r")\b")


def _own_variables(value: Any, suffix: str) -> Any:
    """``value`` with ``$failure`` → ``$failure_<suffix>`` (etc.) in text and Assign keys."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "Assign" and isinstance(item, dict):
                item = {
                    (f"{name}_{suffix}" if name in _VARIABLES else name): val
                    for name, val in item.items()
                }
            out[key] = _own_variables(item, suffix)
        return out
    if isinstance(value, list):
        return [_own_variables(item, suffix) for item in value]
    if isinstance(value, str):
        return _VARIABLE_USE.sub(lambda m: f"${m.group(1)}_{suffix}", value)
    return value


def _preconditions(
    conv: Conversion, act: PipelineObject
) -> list[tuple[str, PipelineObject | None]]:
    found: list[tuple[str, PipelineObject | None]] = [(p, None) for p in act.refs("precondition")]
    for node_id in act.refs("input"):
        node = conv.pipeline.get(node_id, act, "input")
        found += [(p, node) for p in node.refs("precondition")]
    return found


def _work(conv: Conversion, act: PipelineObject, fail_to: str) -> States:
    kind = act.type
    try:
        if kind == "ShellCommandActivity":
            return [_shell(conv, act, fail_to)]
        if kind == "CopyActivity":
            return _copy(conv, act, fail_to)
        if kind in ("EmrActivity", "HadoopActivity", "HiveActivity", "PigActivity"):
            return _emr(conv, act, fail_to)
        if kind in ("SqlActivity", "RedshiftCopyActivity"):
            return [_sql(conv, act, fail_to)]
        raise Untranslatable(f"{kind} has no nearer Step Functions integration here")
    except Untranslatable as exc:
        name = f"{act.id}: PLACEHOLDER"
        conv.became(act, f"PLACEHOLDER activity task '{name}' ({conv.activity_arn(act.id)})")
        conv.lost(act, f"its work is not converted: {exc}; replace the placeholder task")
        fields = {k: v for k, v in act.fields.items() if isinstance(v, str)}
        act.read.update(act.fields)  # all handed to the placeholder task
        return [
            _task(
                conv,
                act,
                name,
                conv.activity_arn(act.id),
                {"pipelineObject": act.id, "type": kind, "fields": fields},
                {},
                fail_to,
                Comment=f"PLACEHOLDER for the Data Pipeline {kind} '{act.id}': "
                "not converted, see the migration report.",
            )
        ]


def _shell(conv: Conversion, act: PipelineObject, fail_to: str) -> tuple[str, dict[str, Any]]:
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
        return _task(conv, act, name, arn, arguments, {"exitCode": 0}, fail_to)
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
        return _task(
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
    return _task(
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


def _copy(conv: Conversion, act: PipelineObject, fail_to: str) -> States:
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
            _task(
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
                **_retry(conv, act),
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
        "Output": _KEEP,
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


def _emr_steps(conv: Conversion, act: PipelineObject) -> list[dict[str, Any]]:
    kind = act.type
    if kind == "EmrActivity":
        steps = []
        for index, text in enumerate(act.texts("step")):
            parts = [p.strip() for p in text.split(",")]
            converted = [conv.value(act, "step", text=p) for p in parts]
            steps.append(
                {
                    "Name": f"{act.id} step {index + 1}",
                    "ActionOnFailure": "CONTINUE",
                    "HadoopJarStep": {"Jar": converted[0], "Args": converted[1:]},
                }
            )
        if not steps:
            raise Untranslatable("EmrActivity has no 'step'")
        for key in ("preStepCommand", "postStepCommand"):
            if act.text(key):
                conv.lost(
                    act,
                    f"{key}: runs on the cluster's master node in Data Pipeline; "
                    "add it as a step of its own",
                )
        return steps
    if kind == "HadoopActivity":
        jar = conv.value(act, "jarUri")
        if jar is None:
            raise Untranslatable("HadoopActivity needs 'jarUri'")
        step: dict[str, Any] = {
            "Jar": jar,
            "Args": [conv.value(act, "argument", text=a) for a in act.texts("argument")],
        }
        if act.text("mainClass"):
            step["MainClass"] = conv.value(act, "mainClass")
        return [{"Name": act.id, "ActionOnFailure": "CONTINUE", "HadoopJarStep": step}]
    tool = "hive" if kind == "HiveActivity" else "pig"
    uri = conv.value(act, "scriptUri")
    inline = conv.value(act, "hiveScript" if tool == "hive" else "script")
    variables = []
    for var in act.texts("scriptVariable"):
        variables += ["-d" if tool == "hive" else "-p", conv.value(act, "scriptVariable", text=var)]
    if uri is not None:
        args = [f"{tool}-script", f"--run-{tool}-script", "--args", "-f", uri, *variables]
    elif inline is not None:
        args = [tool, *variables, "-e", inline]
    else:
        raise Untranslatable(f"{kind} needs 'scriptUri' or a script")
    if act.refs("input") or act.refs("output"):
        conv.lost(
            act,
            "the ${input1}/${output1} tables Data Pipeline stages for Hive/Pig "
            "are not created; refer to the S3 locations in the script",
        )
    return [
        {
            "Name": act.id,
            "ActionOnFailure": "CONTINUE",
            "HadoopJarStep": {"Jar": "command-runner.jar", "Args": args},
        }
    ]


def _emr(conv: Conversion, act: PipelineObject, fail_to: str) -> States:
    clusters = act.refs("runsOn")
    if len(clusters) != 1:
        raise Untranslatable(f"{act.type} needs 'runsOn' an EmrCluster")
    cluster = conv.pipeline.get(clusters[0], act, "runsOn")
    if cluster.type != "EmrCluster":
        raise Untranslatable(f"{act.type} runs on a {cluster.type}, not an EmrCluster")
    steps = _emr_steps(conv, act)
    create, end, end_failed = (
        f"{act.id}: create cluster",
        f"{act.id}: terminate cluster",
        f"{act.id}: terminate cluster after failure",
    )
    states: States = [
        (
            create,
            {
                "Type": "Task",
                "Resource": _EMR + "createCluster.sync",
                "Arguments": _cluster(conv, cluster, act),
                "Assign": {"clusterId": "{% $states.result.ClusterId %}"},
                "Output": _KEEP,
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Next": fail_to,
                        "Assign": {"failure": "{% $states.errorOutput %}"},
                    }
                ],
                "Next": "__NEXT__",
            },
        ),
    ]
    conv.mock(create, {"ClusterId": "j-2AXXXXXXGAPLF"})
    for index, step in enumerate(steps):
        name = f"{act.id}: step {index + 1}"
        states.append(
            _task(
                conv,
                act,
                name,
                _EMR + "addStep.sync",
                {"ClusterId": "{% $clusterId %}", "Step": step},
                {"StepId": f"s-{index + 1:012d}"},
                end_failed,
            )
        )
    terminate = {
        "Type": "Task",
        "Resource": _EMR + "terminateCluster.sync",
        "Arguments": {"ClusterId": "{% $clusterId %}"},
        "Output": _KEEP,
    }
    for index, (_, state) in enumerate(states):
        state["Next"] = states[index + 1][0] if index + 1 < len(states) else end
    # The failure twin first, so that the chain's last state (terminate) goes on.
    states.append(
        (
            end_failed,
            {
                **terminate,
                "Next": fail_to,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": fail_to}],
            },
        )
    )
    states.append((end, {**terminate, "Next": "__NEXT__"}))
    conv.mock(end, {})
    conv.mock(end_failed, {})
    conv.became(
        act,
        f"EMR tasks: '{create}' (createCluster.sync), {len(steps)} "
        f"addStep.sync, '{end}' (terminateCluster.sync, also after a failure)",
    )
    conv.became(cluster, f"the createCluster.sync arguments of '{create}'")
    return states


def _cluster(conv: Conversion, cluster: PipelineObject, act: PipelineObject) -> dict[str, Any]:
    def field(key: str, default: str | None = None) -> str | None:
        return conv.value(cluster, key, default=default)

    groups = [
        {
            "Name": "Primary",
            "InstanceRole": "MASTER",
            "InstanceCount": 1,
            "InstanceType": field("masterInstanceType", "m5.xlarge"),
        }
    ]
    core = int(cluster.text("coreInstanceCount", "1") or "1")
    if core > 0:
        groups.append(
            {
                "Name": "Core",
                "InstanceRole": "CORE",
                "InstanceCount": core,
                "InstanceType": field("coreInstanceType", "m5.xlarge"),
            }
        )
    tasks = int(cluster.text("taskInstanceCount", "0") or "0")
    if tasks > 0:
        groups.append(
            {
                "Name": "Task",
                "InstanceRole": "TASK",
                "InstanceCount": tasks,
                "InstanceType": field("taskInstanceType", "m5.xlarge"),
            }
        )
    instances: dict[str, Any] = {"KeepJobFlowAliveWhenNoSteps": True, "InstanceGroups": groups}
    if cluster.text("keyPair"):
        instances["Ec2KeyName"] = field("keyPair")
    if cluster.text("subnetId"):
        instances["Ec2SubnetId"] = field("subnetId")
    arguments: dict[str, Any] = {
        "Name": f"{conv.name}-{act.id}",
        "ServiceRole": "EMR_DefaultRole",
        "JobFlowRole": field("resourceRole", "EMR_EC2_DefaultRole"),
        "VisibleToAllUsers": True,
        "Instances": instances,
    }
    if cluster.text("releaseLabel"):
        arguments["ReleaseLabel"] = field("releaseLabel")
    elif cluster.text("amiVersion"):
        arguments["AmiVersion"] = field("amiVersion")
    else:
        arguments["ReleaseLabel"] = "emr-6.15.0"
        conv.lost(cluster, "no releaseLabel: emr-6.15.0 is used; set the release you need")
    apps = cluster.texts("applications")
    if apps:
        arguments["Applications"] = [{"Name": app} for app in apps]
    boots = cluster.texts("bootstrapAction")
    if boots:
        arguments["BootstrapActions"] = []
        for index, text in enumerate(boots):
            path, *args = [p.strip() for p in text.split(",")]
            arguments["BootstrapActions"].append(
                {
                    "Name": f"bootstrap {index + 1}",
                    "ScriptBootstrapAction": {"Path": path, "Args": args},
                }
            )
    if cluster.text("logUri") or cluster.text("pipelineLogUri"):
        arguments["LogUri"] = field("logUri") or field("pipelineLogUri")
    conv.lost(
        cluster,
        "role: Data Pipeline's pipeline role is not EMR's service role; "
        "ServiceRole is EMR_DefaultRole",
    )
    if cluster.text("terminateAfter"):
        conv.lost(
            cluster,
            "terminateAfter: the cluster is terminated after the activity "
            "instead; add TimeoutSeconds to the steps for a hard limit",
        )
    return arguments


def _sql(conv: Conversion, act: PipelineObject, fail_to: str) -> tuple[str, dict[str, Any]]:
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
    return _task(
        conv,
        act,
        name,
        "arn:aws:states:::aws-sdk:redshiftdata:executeStatement",
        arguments,
        {"Id": "d9b6c0c7-0000-4000-8000-000000000001"},
        fail_to,
    )
