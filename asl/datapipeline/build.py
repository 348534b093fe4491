"""A whole pipeline as one state machine, its schedule and its mocks.

* ``Initialize`` (Pass) assigns ``$params`` (each pipeline parameter from the execution
  input, else its value or default), ``$scheduledStart`` and ``$scheduledEnd`` (epoch
  milliseconds, from the input's ``scheduledTime``, which the schedule fills with
  ``<aws.scheduler.scheduled-time>``, else the execution's start);
* the activities in stages of the ``dependsOn`` graph (explicit ``dependsOn`` and an
  activity's input produced as another's output): a stage of one activity is its chain
  of states, a stage of several is a Parallel with one branch each;
* ``Succeeded`` at the end.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from asl.datapipeline.activities import ACTIVITIES, activity_states
from asl.datapipeline.context import Conversion, Entry
from asl.datapipeline.pipeline import Pipeline, PipelineError, PipelineObject, Ref
from asl.datapipeline.preconditions import PRECONDITIONS
from asl.datapipeline.schedule import ScheduleConversion, convert_schedule

__all__ = ["Converted", "convert_pipeline"]

States = list[tuple[str, dict[str, Any]]]
_DATA_NODES = {"S3DataNode", "DynamoDBDataNode", "SqlDataNode", "RedshiftDataNode", "MySqlDataNode"}
#: Objects that only configure others: what they become is said by their user.
_SUPPORT = {
    "Ec2Resource",
    "EmrCluster",
    "SnsAlarm",
    "Terminate",
    "RdsDatabase",
    "JdbcDatabase",
    "RedshiftDatabase",
    "EmrConfiguration",
    "Property",
    "HttpProxy",
    "CSV",
    "TSV",
    "Custom",
    "DynamoDBDataFormat",
    "DynamoDBExportDataFormat",
    "RegEx",
    "Action",
}


@dataclass(frozen=True, slots=True)
class Converted:
    """The result of a conversion."""

    machine: dict[str, Any]
    #: The CreateSchedule request (``schedule.json``), or None for an on-demand pipeline.
    schedule: dict[str, Any] | None
    #: The MockConfigFile (state machine ``machine``, test case ``Default``).
    mocks: dict[str, Any]
    #: The execution input a manual run needs (parameters, a scheduled time).
    execution_input: dict[str, Any]
    #: One entry per pipeline object, in file order.
    entries: tuple[Entry, ...]


def _stages(pipeline: Pipeline, activities: list[PipelineObject]) -> list[list[PipelineObject]]:
    ids = {act.id for act in activities}
    producers: dict[str, str] = {}
    for act in activities:
        for node in act.refs("output"):
            producers.setdefault(node, act.id)
    deps: dict[str, set[str]] = {}
    for act in activities:
        needs = set()
        for ref in act.refs("dependsOn"):
            pipeline.get(ref, act, "dependsOn")
            if ref not in ids:
                raise PipelineError(
                    f"object '{act.id}': field 'dependsOn' refers to '{ref}', which is not "
                    "an activity"
                )
            needs.add(ref)
        needs |= {producers[n] for n in act.refs("input") if producers.get(n, act.id) != act.id}
        deps[act.id] = needs
    stages: list[list[PipelineObject]] = []
    done: set[str] = set()
    while len(done) < len(activities):
        ready = [a for a in activities if a.id not in done and deps[a.id] <= done]
        if not ready:
            stuck = next(a for a in activities if a.id not in done)
            raise PipelineError(f"object '{stuck.id}': field 'dependsOn' makes a cycle")
        stages.append(ready)
        done |= {a.id for a in ready}
    return stages


def _link(states: States, following: str | None) -> dict[str, Any]:
    """The states as a States object, ``__NEXT__`` pointing at ``following`` (or End)."""
    out: dict[str, Any] = {}
    for name, state in states:
        if name in out:
            raise PipelineError(f"two states would be named {name!r}: rename an object")
        if state.get("Next") == "__NEXT__":
            del state["Next"]
            if following is None:
                state["End"] = True
            else:
                state["Next"] = following
        out[name] = state
    return out


def _period_ms(schedule: ScheduleConversion | None) -> int | None:
    if schedule is None or schedule.period.seconds is None:
        return None
    return schedule.period.seconds * 1000


def _initialize(
    conv: Conversion, schedule: ScheduleConversion | None, schedule_type: str
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for param in conv.pipeline.parameters.values():
        value = param.value if param.value is not None else param.default
        key = f"$states.input.{param.id}"
        if value is None and param.optional:
            params[param.id] = "{% " + f"$exists({key}) ? {key} : null" + " %}"
        elif value is None:
            params[param.id] = "{% " + key + " %}"
        else:
            literal = json.dumps(list(value) if isinstance(value, tuple) else value)
            params[param.id] = "{% " + f"$exists({key}) ? {key} : {literal}" + " %}"
    for name, value in conv.runner_inputs.items():
        key = f"$states.input.{name}"
        params[name] = "{% " + f"$exists({key}) ? {key} : {json.dumps(value)}" + " %}"
    fired = (
        "$toMillis($exists($states.input.scheduledTime) ? $states.input.scheduledTime"
        " : $states.context.Execution.StartTime)"
    )
    period = _period_ms(schedule)
    if period is None:
        start, end = fired, fired
    elif schedule_type == "cron":
        start, end = fired, f"{fired} + {period}"
    else:
        start, end = f"{fired} - {period}", fired
    return {
        "Type": "Pass",
        "Comment": "Data Pipeline's parameters and the run's scheduled interval "
        "(@scheduledStartTime, @scheduledEndTime) as variables.",
        "Assign": {
            "params": params,
            "scheduledStart": "{% " + start + " %}",
            "scheduledEnd": "{% " + end + " %}",
        },
    }


def convert_pipeline(
    pipeline: Pipeline,
    name: str,
    *,
    shell_runner: str = "activity",
    region: str = "us-east-1",
    account: str = "123456789012",
) -> Converted:
    """Convert ``pipeline`` (see the module doc); raises PipelineError for bad input."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise PipelineError(f"the name {name!r} must be 1-64 letters, digits, '-' or '_'")
    conv = Conversion(pipeline, name, region, account, shell_runner)
    activities = [obj for obj in pipeline.objects.values() if obj.type in ACTIVITIES]
    unknown = [
        obj
        for obj in pipeline.objects.values()
        if obj.type.endswith("Activity") and obj.type not in ACTIVITIES
    ]
    activities += unknown  # converted to placeholders
    if not activities:
        raise PipelineError("the pipeline has no activity: nothing to convert")
    default = pipeline.objects.get("Default")
    schedule_type = (default.text("scheduleType") if default else None) or "timeseries"
    if schedule_type not in ("cron", "timeseries", "ondemand"):
        raise PipelineError(
            f"object 'Default': field 'scheduleType' must be cron, timeseries "
            f"or ondemand, not {schedule_type!r}"
        )
    schedule = _schedule(conv, activities, schedule_type)
    stages = _stages(pipeline, [a for a in activities])
    chains: list[States] = []
    for index, stage in enumerate(stages):
        if len(stage) == 1:
            chains.append(activity_states(conv, stage[0]))
            continue
        branches = []
        for act in stage:
            chain = activity_states(conv, act)
            branches.append({"StartAt": chain[0][0], "States": _link(chain, None)})
        label = f"Stage {index + 1}: " + ", ".join(a.id for a in stage)
        chains.append(
            [
                (
                    label[:80],
                    {
                        "Type": "Parallel",
                        "Branches": branches,
                        "Output": "{% $states.input %}",
                        "Next": "__NEXT__",
                    },
                )
            ]
        )
        for act in stage:
            conv.became(act, f"a branch of the Parallel state '{label[:80]}'")
    states: States = []
    for index, chain in enumerate(chains):
        following = chains[index + 1][0][0] if index + 1 < len(chains) else "Succeeded"
        for _, state in chain:
            if state.get("Next") == "__NEXT__":
                state["Next"] = following
        states += chain
    machine_states = {
        "Initialize": {**_initialize(conv, schedule, schedule_type), "Next": states[0][0]}
    }
    machine_states |= _link(states, "Succeeded")
    machine_states["Succeeded"] = {"Type": "Succeed"}
    machine = {
        "Comment": f"Converted from the AWS Data Pipeline '{name}' by asl import-datapipeline.",
        "QueryLanguage": "JSONata",
        "StartAt": "Initialize",
        "States": machine_states,
    }
    _report_rest(conv, schedule_type)
    _report_unread(conv)
    execution_input: dict[str, Any] = {"scheduledTime": "2026-01-15T00:00:00Z"}
    for param in pipeline.parameters.values():
        value = param.value if param.value is not None else param.default
        if value is not None:
            execution_input[param.id] = list(value) if isinstance(value, tuple) else value
    execution_input |= conv.runner_inputs
    request = None
    if schedule is not None:
        scheduled_input = dict(execution_input, scheduledTime="<aws.scheduler.scheduled-time>")
        request = dict(schedule.request)
        request["Target"] = dict(request["Target"], Input=json.dumps(scheduled_input))
    mocks = _mock_config(conv)
    return Converted(machine, request, mocks, execution_input, tuple(conv.entries.values()))


def _schedule(
    conv: Conversion, activities: list[PipelineObject], schedule_type: str
) -> ScheduleConversion | None:
    refs = {ref for act in activities for ref in act.refs("schedule")}
    schedules = conv.pipeline.of_type("Schedule")
    if schedule_type == "ondemand":
        for obj in schedules:
            conv.lost(obj, "the pipeline is on demand (scheduleType ondemand): no schedule")
        return None
    if not refs:
        if schedules:
            for obj in schedules:
                conv.lost(obj, "no activity uses this schedule")
        return None
    if len(refs) > 1:
        first = sorted(refs)[0]
        for ref in sorted(refs)[1:]:
            conv.lost(
                conv.pipeline.objects[ref],
                f"one machine has one schedule: '{first}' "
                "is used; convert the activities of this schedule separately",
            )
        refs = {first}
    (ref,) = refs
    obj = conv.pipeline.get(ref, activities[0], "schedule")
    for other in conv.pipeline.objects.values():
        if other.fields.get("schedule") == Ref(ref):
            other.read.add("schedule")  # the schedule of the whole machine
    if obj.type != "Schedule":
        raise PipelineError(
            f"object '{activities[0].id}': field 'schedule' must refer to a "
            f"Schedule, not a {obj.type}"
        )
    arn = f"arn:aws:states:{conv.region}:{conv.account}:stateMachine:{conv.name}"
    converted = convert_schedule(obj, schedule_type, conv.name, arn, {})
    described = converted.request["ScheduleExpression"]
    if "StartDate" in converted.request:
        described += f" from {converted.request['StartDate']}"
    if "EndDate" in converted.request:
        described += f" until {converted.request['EndDate']}"
    conv.became(obj, f"schedule.json: {described} ({schedule_type})")
    for note in converted.notes:
        conv.lost(obj, note)
    if converted.period.seconds is None:
        conv.lost(
            obj,
            f"a {converted.period.unit} period has no fixed length: "
            "@scheduledStartTime and @scheduledEndTime are both the firing time",
        )
    for other in schedules:
        if other.id not in refs and not conv.entries[other.id].became:
            conv.lost(other, "not used by the converted activities")
    return converted


#: Fields that only say what an object is or where it sits.
_STRUCTURAL = frozenset({"type", "parent"})


def _report_unread(conv: Conversion) -> None:
    """Name every field the conversion did not read (nothing is dropped silently)."""
    objects = list(conv.pipeline.objects.values())
    everywhere = set().union(*(obj.read for obj in objects))
    for obj in objects:
        if obj.type == "Ec2Resource":
            continue  # the whole object is not carried over, and the report says so
        seen = everywhere if obj.id == "Default" else obj.read
        for key in obj.own:
            if key in _STRUCTURAL or key in seen:
                continue
            if obj.id == "Default" and key in (
                "role",
                "resourceRole",
                "pipelineLogUri",
                "failureAndRerunMode",
                "scheduleType",
            ):
                continue  # said by _report_rest
            conv.lost(obj, f"field '{key}' is not converted (no Step Functions equivalent here)")


def _report_rest(conv: Conversion, schedule_type: str) -> None:
    for obj in conv.pipeline.objects.values():
        entry = conv.entries[obj.id]
        if obj.id == "Default":
            inherited = ", ".join(sorted(obj.own)) or "nothing"
            conv.became(obj, f"inherited by every object ({inherited})")
            if obj.text("failureAndRerunMode"):
                conv.lost(
                    obj,
                    "failureAndRerunMode: a failed activity fails the execution; "
                    "rerun it with asl redrive",
                )
            for key in ("role", "resourceRole", "pipelineLogUri"):
                if obj.text(key):
                    conv.lost(
                        obj,
                        f"{key}: give the state machine an IAM role with the "
                        "permissions the tasks need"
                        if key != "pipelineLogUri"
                        else f"{key}: the execution history is the log",
                    )
            continue
        if entry.became or entry.lost:
            continue
        if obj.type == "Ec2Resource":
            conv.lost(
                obj,
                "Step Functions starts no EC2 instance: shell commands run on an "
                "asl worker (or Batch/ECS with --shell-runner)",
            )
        elif obj.type in _DATA_NODES:
            conv.became(obj, "a data location used in field values")
        elif obj.type in PRECONDITIONS:
            conv.lost(obj, "no activity or input data node uses this precondition")
        elif obj.type in _SUPPORT:
            conv.lost(obj, f"{obj.type} is not used by a converted activity")
        else:
            conv.lost(obj, f"{obj.type} has no Step Functions equivalent")


def _mock_config(conv: Conversion) -> dict[str, Any]:
    responses = {}
    case = {}
    for state, answer in conv.mocks.items():
        key = re.sub(r"[^A-Za-z0-9]+", "", state.title()) or "Answer"
        while key in responses:
            key += "X"
        responses[key] = {"0": {"Return": answer}}
        case[state] = key
    return {
        "StateMachines": {"machine": {"TestCases": {"Default": case}}},
        "MockedResponses": responses,
    }
