"""One Data Pipeline activity as a chain of states.

The chain: the preconditions of the activity and of its input data nodes (polling loops,
:mod:`asl.datapipeline.preconditions`), the activity's work, and its ``onSuccess``
notifications. Its work's Task states carry ``maximumRetries``/``retryDelay`` as Retry
and ``attemptTimeout`` as TimeoutSeconds; a failure is caught, assigned to ``$failure``
and goes to the ``onFail`` notifications and a Fail state.

The work, by type, is built in :mod:`asl.datapipeline.work` (shell, copy, SQL) and
:mod:`asl.datapipeline.emr` (EMR steps on a cluster); anything else becomes a placeholder
activity task, its Comment saying so.

State names are ``<activity id>: <what>``, unique in the machine; ``__NEXT__`` stands for
the state after the chain until :func:`asl.datapipeline.build.link` replaces it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from asl.datapipeline.context import Conversion
from asl.datapipeline.emr import emr_states
from asl.datapipeline.expressions import Untranslatable
from asl.datapipeline.pipeline import PipelineObject
from asl.datapipeline.preconditions import (
    check_for,
    late_cause,
    precondition_states,
    timing,
)
from asl.datapipeline.tasks import KEEP, States, chain, task_state
from asl.datapipeline.work import copy_states, shell_state, sql_state

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
                    "Output": KEEP,
                    "Next": "__NEXT__",
                },
            )
        )
        conv.mock(name, {"MessageId": "1f3c7a52-5a4e-4b8e-9d3e-000000000001"})
        conv.became(alarm, f"SNS publish state '{name}'")
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
    return [*chain(_alarms(conv, act, key, f"{act.id}:", failure=True), fail[0]), fail]


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
            *chain(_alarms(conv, act, late_key, f"{prefix} late,", failure=False), late_fail[0]),
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
    chain(states, "__NEXT__")
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
            return [shell_state(conv, act, fail_to)]
        if kind == "CopyActivity":
            return copy_states(conv, act, fail_to)
        if kind in ("EmrActivity", "HadoopActivity", "HiveActivity", "PigActivity"):
            return emr_states(conv, act, fail_to)
        if kind in ("SqlActivity", "RedshiftCopyActivity"):
            return [sql_state(conv, act, fail_to)]
        raise Untranslatable(f"{kind} has no nearer Step Functions integration here")
    except Untranslatable as exc:
        name = f"{act.id}: PLACEHOLDER"
        conv.became(act, f"PLACEHOLDER activity task '{name}' ({conv.activity_arn(act.id)})")
        conv.lost(act, f"its work is not converted: {exc}; replace the placeholder task")
        fields = {k: v for k, v in act.fields.items() if isinstance(v, str)}
        act.read.update(act.fields)  # all handed to the placeholder task
        return [
            task_state(
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
