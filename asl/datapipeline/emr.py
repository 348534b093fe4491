"""The work of EmrActivity, HadoopActivity, HiveActivity and PigActivity: an EMR cluster
from the ``runsOn`` EmrCluster (``elasticmapreduce:createCluster.sync``), one
``addStep.sync`` per step, ``terminateCluster.sync`` after success and after failure."""

from __future__ import annotations

from typing import Any

from asl.datapipeline.context import Conversion
from asl.datapipeline.expressions import Untranslatable
from asl.datapipeline.pipeline import PipelineObject
from asl.datapipeline.tasks import EMR, KEEP, States, task_state

__all__ = ["emr_states"]


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


def emr_states(conv: Conversion, act: PipelineObject, fail_to: str) -> States:
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
                "Resource": EMR + "createCluster.sync",
                "Arguments": _cluster(conv, cluster, act),
                "Assign": {"clusterId": "{% $states.result.ClusterId %}"},
                "Output": KEEP,
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
            task_state(
                conv,
                act,
                name,
                EMR + "addStep.sync",
                {"ClusterId": "{% $clusterId %}", "Step": step},
                {"StepId": f"s-{index + 1:012d}"},
                end_failed,
            )
        )
    terminate = {
        "Type": "Task",
        "Resource": EMR + "terminateCluster.sync",
        "Arguments": {"ClusterId": "{% $clusterId %}"},
        "Output": KEEP,
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
