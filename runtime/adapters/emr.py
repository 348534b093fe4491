"""Amazon EMR optimized integration: ``arn:aws:states:::elasticmapreduce:<api>[.sync]``.

DG "Create and manage Amazon EMR clusters with Step Functions": the integration's APIs
wrap EMR's own with their own request and response shapes (parameters otherwise as EMR's
API names them, PascalCase, as boto3 takes them):

=============================== ====================== ===================================
integration API                 EMR API                differences
=============================== ====================== ===================================
``createCluster[.sync]``        RunJobFlow             ``Instances.KeepJobFlowAliveWhen
                                                       NoSteps`` must be true, ``Steps``
                                                       is not allowed; result
                                                       ``{"ClusterId"}``; ``.sync`` waits
                                                       for the cluster to be ``WAITING``
``terminateCluster[.sync]``     TerminateJobFlows      ``{"ClusterId"}`` for
                                                       ``JobFlowIds``; ``.sync`` waits for
                                                       the cluster to be terminated
``addStep[.sync]``              AddJobFlowSteps        ``ClusterId`` and one ``Step``;
                                                       result ``{"StepId"}``; ``.sync``
                                                       waits for the step to complete
``cancelStep``                  CancelSteps            ``StepId`` for ``StepIds``; result
                                                       ``{"CancelStepsInfo"}``
``setClusterTermination         SetTermination         ``ClusterId`` for ``JobFlowIds``
Protection``                    Protection
``modifyInstanceFleetByName``   ModifyInstanceFleet    the fleet named by
                                                       ``InstanceFleetName`` (found with
                                                       ListInstanceFleets)
``modifyInstanceGroupByName``   ModifyInstanceGroups   the group named by
                                                       ``InstanceGroupName`` (found with
                                                       ListInstanceGroups)
=============================== ====================== ===================================

``.sync`` polls every 60 seconds for the first 10 minutes and every 300 seconds after
that (the DG's "hard-coded" polling frequency), on the execution's clock. A cluster that
ends terminated before it is ``WAITING``, or a step that ends ``FAILED``, ``CANCELLED`` or
``INTERRUPTED``, fails the task with ``States.TaskFailed`` and the cluster's or step's
description (DescribeCluster/DescribeStep, timestamps as epoch milliseconds) as cause.
Cancelling an ``addStep.sync`` task (timeout, a failing sibling, a stopped execution)
cancels the step with CancelSteps, as the IAM policy AWS generates for ``addStep``
allows; a cancelled ``createCluster.sync`` leaves the cluster running, as the DG warns
("Step Functions does not terminate an Amazon EMR cluster automatically").

Not from AWS's documentation, so our own choice: the result shapes of ``terminateCluster``,
``setClusterTerminationProtection`` and the ``modify...ByName`` calls (documented
nowhere; ``{}`` here), the error prefix (``ElasticMapReduce.<Code>``, after the Java SDK's
``AmazonElasticMapReduce`` client, unverified against AWS), and the
``States.TaskFailed`` for a request the integration refuses before calling EMR.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.adapters.aws import ClientPool, service_error
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.adapters.jobs import Backoff, JobSpec, aws_call, jsonable, resume_job, run_job
from runtime.engine.errors import TaskFailure
from runtime.engine.replay import UNKNOWN_OUTCOME

__all__ = ["ACTIONS", "EmrAdapter", "EmrPolling", "emr_error", "register"]

ARN_PATTERN = r"^arn:[^:]+:states:::elasticmapreduce:[A-Za-z]+(\.sync)?$"

#: Cluster states (DescribeCluster ``Status.State``) and step states (DescribeStep).
_CLUSTER_ENDED = frozenset({"TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS"})
_CLUSTER_GONE = frozenset({"TERMINATED", "TERMINATED_WITH_ERRORS"})
_STEP_FAILED = frozenset({"FAILED", "CANCELLED", "INTERRUPTED"})


def emr_error(exc: BaseException) -> TaskFailure:
    """A botocore failure named as this integration names EMR errors."""
    return service_error("emr", exc)


@dataclass(frozen=True, slots=True)
class EmrPolling(Backoff):
    """DG: "a hard-coded 60 seconds job polling frequency for the first 10 minutes and
    300 seconds after that"."""

    initial: float = 60.0
    maximum: float = 300.0
    #: Seconds of polling at ``initial`` before switching to ``maximum``.
    switch_after: float = 600.0

    def delays(self) -> Iterator[float]:
        """60 s until 10 minutes have been waited, then 300 s, forever."""
        waited = 0.0
        while True:
            delay = self.initial if waited < self.switch_after else self.maximum
            waited += delay
            yield delay


def _refused(call: TaskCall, why: str) -> TaskFailure:
    return TaskFailure(
        "States.TaskFailed",
        f"The task '{call.state_name}' ({call.resource.arn}) was not sent to Amazon EMR: {why}",
    )


def _parameters(call: TaskCall, *required: str) -> dict[str, Any]:
    if not isinstance(call.parameters, Mapping):
        raise TaskFailure(
            "States.Runtime",
            f"The parameters of the Amazon EMR task '{call.state_name}' must be a JSON object.",
        )
    params = dict(call.parameters)
    missing = [name for name in required if name not in params]
    if missing:
        raise _refused(call, "the parameter " + ", ".join(missing) + " is required.")
    return params


def _describe_cluster(response: Mapping[str, Any]) -> dict[str, Any]:
    cluster: dict[str, Any] = jsonable(response.get("Cluster") or {})
    return cluster


def _describe_step(response: Mapping[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = jsonable(response.get("Step") or {})
    return step


def _state(described: Mapping[str, Any]) -> Any:
    return (described.get("Status") or {}).get("State")


def _cluster_spec(succeeded: frozenset[str], failed: frozenset[str]) -> JobSpec:
    return JobSpec(
        service="emr",
        submit="run_job_flow",
        describe="describe_cluster",
        stop=None,
        locate=lambda _request, response: {"ClusterId": response["ClusterId"]},
        view=_describe_cluster,
        status_field="Status",
        succeeded=succeeded,
        failed=failed,
        error=emr_error,
        submitted=lambda response: {"ClusterId": response["JobFlowId"]},
        status_of=_state,
    )


#: createCluster.sync: up when WAITING (DG), failed once it is terminating or terminated.
_CREATE = _cluster_spec(frozenset({"WAITING"}), _CLUSTER_ENDED)
#: terminateCluster.sync: done once terminated, with or without errors.
_TERMINATE = _cluster_spec(_CLUSTER_GONE, frozenset())

_STEP = JobSpec(
    service="emr",
    submit="add_job_flow_steps",
    describe="describe_step",
    stop="cancel_steps",
    locate=lambda request, response: {
        "ClusterId": request["JobFlowId"],
        "StepId": response["StepId"],
    },
    view=_describe_step,
    status_field="Status",
    succeeded=frozenset({"COMPLETED"}),
    failed=_STEP_FAILED,
    error=emr_error,
    submitted=lambda response: {"StepId": response["StepIds"][0]},
    stop_args=lambda locator: {"ClusterId": locator["ClusterId"], "StepIds": [locator["StepId"]]},
    status_of=_state,
)


@dataclass(frozen=True, slots=True)
class EmrAdapter:
    """Runs ``elasticmapreduce:*`` tasks through boto3's ``emr`` client."""

    pool: ClientPool
    #: Poll delays of the ``.sync`` pattern.
    backoff: Backoff = field(default_factory=EmrPolling)

    async def invoke(self, call: TaskCall) -> Any:
        """The action named by the resource; raises TaskFailure as described above.

        Cancellation of ``addStep.sync`` cancels the step (best effort) and re-raises.
        """
        action, pattern = call.resource.action, call.resource.pattern
        handler = ACTIONS.get(action)
        if (
            handler is None
            or (pattern == ".sync" and action not in SYNC)
            or pattern
            not in (
                "",
                ".sync",
            )
        ):
            raise TaskFailure(
                "States.Runtime",
                f"The resource '{call.resource.arn}' is not supported by the Amazon EMR "
                "integration (supported: "
                + ", ".join(sorted(ACTIONS))
                + "; .sync for "
                + ", ".join(sorted(SYNC))
                + ").",
            )
        return await handler(self, call, pattern == ".sync")

    async def resume(self, call: TaskCall, submitted: Any) -> Any:
        """A ``.sync`` task submitted before a restart (runtime.engine.replay): poll the
        cluster or step recorded in TaskSubmitted again; nothing is created twice."""
        action = call.resource.action
        if call.resource.pattern != ".sync" or not isinstance(submitted, Mapping):
            raise TaskFailure(*UNKNOWN_OUTCOME)
        params = call.parameters if isinstance(call.parameters, Mapping) else {}
        if action == "createCluster" and isinstance(submitted.get("ClusterId"), str):
            locator = {"ClusterId": submitted["ClusterId"]}
            await resume_job(self.pool, call, _CREATE, {}, locator, self.backoff)
            return {"ClusterId": submitted["ClusterId"]}
        if action == "addStep" and isinstance(submitted.get("StepId"), str):
            locator = {"JobFlowId": params.get("ClusterId")}
            await resume_job(self.pool, call, _STEP, locator, submitted, self.backoff)
            return {"StepId": submitted["StepId"]}
        if action == "terminateCluster" and isinstance(params.get("ClusterId"), str):
            locator = {"ClusterId": params["ClusterId"]}
            await resume_job(self.pool, call, _TERMINATE, {}, locator, self.backoff)
            return {}
        raise TaskFailure(*UNKNOWN_OUTCOME)

    # -- one method per integration API ---------------------------------------------

    async def _call(self, call: TaskCall, method: str, params: Mapping[str, Any]) -> Any:
        return await aws_call(self.pool, call, "emr", method, params, emr_error)

    async def create_cluster(self, call: TaskCall, sync: bool) -> Any:
        params = _parameters(call)
        instances = params.get("Instances")
        if (
            not isinstance(instances, Mapping)
            or instances.get("KeepJobFlowAliveWhenNoSteps") is not True
        ):
            raise _refused(
                call, "the field Instances.KeepJobFlowAliveWhenNoSteps must be present and true."
            )
        if "Steps" in params:
            raise _refused(call, "the field Steps is not allowed; add steps with addStep.")
        if not sync:
            response = await self._call(call, "run_job_flow", params)
            return {"ClusterId": response["JobFlowId"]}
        # _CREATE locates a cluster by the TaskSubmitted form ({"ClusterId"}, for resume);
        # here it is found from RunJobFlow's own response.
        spec = _with_locate(_CREATE, lambda _req, response: {"ClusterId": response["JobFlowId"]})
        cluster = await run_job(self.pool, call, spec, params, self.backoff)
        return {"ClusterId": cluster.get("Id")}

    async def terminate_cluster(self, call: TaskCall, sync: bool) -> Any:
        params = _parameters(call, "ClusterId")
        request = {"JobFlowIds": [params["ClusterId"]]}
        if not sync:
            await self._call(call, "terminate_job_flows", request)
            return {}
        spec = _with_submit(_TERMINATE, "terminate_job_flows", params["ClusterId"])
        await run_job(self.pool, call, spec, request, self.backoff)
        return {}

    async def add_step(self, call: TaskCall, sync: bool) -> Any:
        params = _parameters(call, "ClusterId", "Step")
        request: dict[str, Any] = {"JobFlowId": params["ClusterId"], "Steps": [params["Step"]]}
        for name, value in params.items():
            if name not in ("ClusterId", "Step"):
                request[name] = value  # ExecutionRoleArn, and whatever EMR then refuses
        if not sync:
            response = await self._call(call, "add_job_flow_steps", request)
            return {"StepId": response["StepIds"][0]}
        spec = _with_locate(
            _STEP,
            lambda req, response: {"ClusterId": req["JobFlowId"], "StepId": response["StepIds"][0]},
        )
        step = await run_job(self.pool, call, spec, request, self.backoff)
        return {"StepId": step.get("Id")}

    async def cancel_step(self, call: TaskCall, _sync: bool) -> Any:
        params = _parameters(call, "ClusterId", "StepId")
        request = {k: v for k, v in params.items() if k != "StepId"}
        request["StepIds"] = [params["StepId"]]
        response = await self._call(call, "cancel_steps", request)
        infos = jsonable(response.get("CancelStepsInfoList") or [])
        return {"CancelStepsInfo": infos[0] if infos else {}}

    async def set_termination_protection(self, call: TaskCall, _sync: bool) -> Any:
        params = _parameters(call, "ClusterId", "TerminationProtected")
        request = {
            "JobFlowIds": [params["ClusterId"]],
            "TerminationProtected": params["TerminationProtected"],
        }
        await self._call(call, "set_termination_protection", request)
        return {}

    async def modify_fleet_by_name(self, call: TaskCall, _sync: bool) -> Any:
        params = _parameters(call, "ClusterId", "InstanceFleetName", "InstanceFleet")
        fleet = params["InstanceFleet"]
        if not isinstance(fleet, Mapping) or "InstanceFleetId" in fleet:
            raise _refused(call, "InstanceFleet must be an object without InstanceFleetId.")
        listed = await self._call(call, "list_instance_fleets", {"ClusterId": params["ClusterId"]})
        fleet_id = _named(call, listed.get("InstanceFleets"), params["InstanceFleetName"], "fleet")
        request = {
            "ClusterId": params["ClusterId"],
            "InstanceFleet": {**fleet, "InstanceFleetId": fleet_id},
        }
        await self._call(call, "modify_instance_fleet", request)
        return {}

    async def modify_group_by_name(self, call: TaskCall, _sync: bool) -> Any:
        params = _parameters(call, "ClusterId", "InstanceGroupName", "InstanceGroup")
        group = params["InstanceGroup"]
        if not isinstance(group, Mapping) or "InstanceGroupId" in group:
            raise _refused(call, "InstanceGroup must be an object without InstanceGroupId.")
        listed = await self._call(call, "list_instance_groups", {"ClusterId": params["ClusterId"]})
        group_id = _named(call, listed.get("InstanceGroups"), params["InstanceGroupName"], "group")
        request = {
            "ClusterId": params["ClusterId"],
            "InstanceGroups": [{**group, "InstanceGroupId": group_id}],
        }
        await self._call(call, "modify_instance_groups", request)
        return {}


def _named(call: TaskCall, listed: Any, name: Any, kind: str) -> str:
    """The id of the instance fleet or group called ``name`` (names must be unique)."""
    ids = [item.get("Id") for item in listed or [] if item.get("Name") == name]
    if len(ids) != 1:
        found = "no" if not ids else f"{len(ids)}"
        raise _refused(
            call, f"the cluster has {found} instance {kind}s named {name!r} (one is needed)."
        )
    return str(ids[0])


def _with_locate(
    spec: JobSpec, locate: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
) -> JobSpec:
    from dataclasses import replace

    return replace(spec, locate=locate)


def _with_submit(spec: JobSpec, method: str, cluster_id: str) -> JobSpec:
    """terminateCluster.sync: TerminateJobFlows answers nothing; the cluster is known."""
    from dataclasses import replace

    return replace(
        spec,
        submit=method,
        locate=lambda _request, _response: {"ClusterId": cluster_id},
        submitted=lambda _response: {},
    )


_Handler = Callable[[EmrAdapter, TaskCall, bool], Awaitable[Any]]

#: Integration API (as in the ARN) → its handler.
ACTIONS: dict[str, _Handler] = {
    "createCluster": EmrAdapter.create_cluster,
    "terminateCluster": EmrAdapter.terminate_cluster,
    "addStep": EmrAdapter.add_step,
    "cancelStep": EmrAdapter.cancel_step,
    "setClusterTerminationProtection": EmrAdapter.set_termination_protection,
    "modifyInstanceFleetByName": EmrAdapter.modify_fleet_by_name,
    "modifyInstanceGroupByName": EmrAdapter.modify_group_by_name,
}
#: The APIs that also support ``.sync``.
SYNC = frozenset({"createCluster", "terminateCluster", "addStep"})


def register(registry: AdapterRegistry, pool: ClientPool, backoff: Backoff | None = None) -> None:
    """Serve ``arn:aws:states:::elasticmapreduce:<api>`` and ``...:<api>.sync`` with boto3."""
    registry.register(ARN_PATTERN, EmrAdapter(pool, backoff or EmrPolling()))
