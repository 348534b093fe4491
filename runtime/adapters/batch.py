"""AWS Batch optimized integration: ``arn:aws:states:::batch:submitJob[.sync]``.

DG "Run AWS Batch workloads with Step Functions": "Parameters in Step Functions are
expressed in PascalCase, even when the native service API is camelCase", so the task's
parameters are mapped onto SubmitJob's camelCase members (by botocore's API model,
through nested structures, lists and map values), and responses come back PascalCase.

* request-response: ``{"JobArn", "JobId", "JobName", "SdkHttpMetadata",
  "SdkResponseMetadata"}``;
* ``.sync``: that result is the TaskSubmitted output; DescribeJobs is polled until the job
  is SUCCEEDED (result: the job description, PascalCase) or FAILED (``States.TaskFailed``
  with the description as cause); cancellation calls TerminateJob; Step Functions adds
  ``MANAGED_BY_AWS=STARTED_BY_STEP_FUNCTIONS`` to the container's environment (LocalStack
  ``state_task_service_batch.py``).
* Errors: ``Batch.<Code>`` (``Batch.ClientException``, ``Batch.ServerException``) with
  the standard "(Service: AWSBatch; ...)" cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.adapters import shapes
from runtime.adapters.aws import ClientPool, service_error
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.adapters.jobs import (
    Backoff,
    JobSpec,
    aws_call,
    jsonable,
    resume_job,
    run_job,
    sdk_metadata,
)
from runtime.adapters.shapes import to_boto
from runtime.engine.errors import TaskFailure
from runtime.engine.replay import UNKNOWN_OUTCOME

__all__ = ["BatchAdapter", "from_boto", "register", "to_boto"]

ARN_PATTERN = r"^arn:[^:]+:states:::batch:submitJob(\.sync)?$"

#: Why a cancelled ``.sync`` task terminates its job (TerminateJob requires a reason).
TERMINATE_REASON = "Terminated by AWS Step Functions: the task was cancelled."
_MANAGED = {"name": "MANAGED_BY_AWS", "value": "STARTED_BY_STEP_FUNCTIONS"}


def batch_error(exc: BaseException) -> TaskFailure:
    """A botocore failure named as AWS Step Functions names Batch errors."""
    return service_error("batch", exc)


def from_boto(value: Any, shape: Any) -> Any:
    """A boto3 response value of ``shape`` with Step Functions' PascalCase member names."""
    return shapes.from_boto(value, shape, jsonable)


@dataclass(frozen=True, slots=True)
class BatchAdapter:
    """Runs ``batch:submitJob`` tasks (request-response and ``.sync``) through boto3."""

    pool: ClientPool
    backoff: Backoff = field(default_factory=Backoff)

    def _shapes(self) -> tuple[Any, Any, Any]:
        model = self.pool.client("batch").meta.service_model
        submit = model.operation_model("SubmitJob")
        describe = model.operation_model("DescribeJobs")
        return submit.input_shape, submit.output_shape, describe.output_shape

    async def invoke(self, call: TaskCall) -> Any:
        """SubmitJob, and for ``.sync`` wait for the job; raises TaskFailure on failure.

        Cancellation of a ``.sync`` task terminates the job (best effort) and re-raises.
        """
        if not isinstance(call.parameters, Mapping):
            raise TaskFailure(
                "States.Runtime", "The parameters of batch:submitJob must be an object."
            )
        if call.resource.pattern not in ("", ".sync"):
            raise TaskFailure(
                "States.Runtime",
                f"The resource '{call.resource.arn}' is not supported by the Batch integration.",
            )
        input_shape, output_shape, describe_shape = self._shapes()
        request = to_boto(call.parameters, input_shape)

        def submitted(response: Mapping[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = from_boto(response, output_shape)
            result.update(sdk_metadata(response.get("ResponseMetadata") or {}))
            return result

        if call.resource.pattern == "":
            response = await aws_call(self.pool, call, "batch", "submit_job", request, batch_error)
            return submitted(response)
        return await run_job(
            self.pool, call, _spec(submitted, describe_shape), _managed(request), self.backoff
        )

    async def resume(self, call: TaskCall, submitted: Any) -> Any:
        """A ``.sync`` job submitted before a restart (runtime.engine.replay): poll it again by
        the JobId recorded in TaskSubmitted; it is never submitted twice."""
        job_id = submitted.get("JobId") if isinstance(submitted, Mapping) else None
        if call.resource.pattern != ".sync" or not isinstance(job_id, str):
            raise TaskFailure(*UNKNOWN_OUTCOME)
        describe_shape = self._shapes()[2]
        spec = _spec(lambda response: dict(response), describe_shape)
        return await resume_job(self.pool, call, spec, {}, {"jobId": job_id}, self.backoff)


def _spec(submitted: Any, describe_shape: Any) -> JobSpec:
    def view(response: Mapping[str, Any]) -> dict[str, Any] | None:
        jobs = from_boto(response, describe_shape).get("Jobs") or []
        return jobs[0] if jobs else None

    return JobSpec(
        service="batch",
        submit="submit_job",
        describe="describe_jobs",
        stop="terminate_job",
        locate=lambda _request, response: {"jobs": [response["jobId"]]},
        view=view,
        status_field="Status",
        succeeded=frozenset({"SUCCEEDED"}),
        failed=frozenset({"FAILED"}),
        error=batch_error,
        submitted=submitted,
        stop_args=lambda locator: {"jobId": locator["jobs"][0], "reason": TERMINATE_REASON},
    )


def _managed(request: dict[str, Any]) -> dict[str, Any]:
    """The request with AWS's MANAGED_BY_AWS variable added to the container environment."""
    overrides = dict(request.get("containerOverrides") or {})
    overrides["environment"] = [*(overrides.get("environment") or []), dict(_MANAGED)]
    return {**request, "containerOverrides": overrides}


def register(registry: AdapterRegistry, pool: ClientPool, backoff: Backoff | None = None) -> None:
    """Serve ``arn:aws:states:::batch:submitJob`` and ``...:submitJob.sync`` with boto3."""
    registry.register(ARN_PATTERN, BatchAdapter(pool, backoff or Backoff()))
