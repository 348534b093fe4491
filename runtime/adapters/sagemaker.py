"""Amazon SageMaker AI optimized integration: ``arn:aws:states:::sagemaker:<api>[.sync]``.

DG "Create and manage Amazon SageMaker AI jobs with Step Functions": the supported APIs
are the Create* calls below and UpdateEndpoint; the job APIs also support ``.sync``;
``.waitForTaskToken`` is not supported. Parameters are SageMaker's own (PascalCase, as
boto3 takes them). Results:

* request-response: the API's response plus ``SdkHttpMetadata``/``SdkResponseMetadata``;
* ``.sync``: the same response is the TaskSubmitted output; the result is the final
  Describe* response (timestamps as epoch milliseconds); a job ending ``Failed`` or
  ``Stopped`` fails the task with ``States.TaskFailed`` and the description as cause;
  cancellation calls Stop*.

Errors: ``SageMaker.<Code>`` with "Exception" appended (``ResourceLimitExceeded`` →
``SageMaker.ResourceLimitExceededException``) for the errors SageMaker's API model
declares; AWS's Java SDK raises every other code (``ValidationException``,
``ThrottlingException``...) as its base ``AmazonSageMakerException``, so those are named
``SageMaker.AmazonSageMakerException`` with the same cause text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.adapters.aws import ClientPool, service_error
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.adapters.jobs import (
    Backoff,
    JobSpec,
    aws_call,
    jsonable,
    resume_job,
    run_job,
    sdk_result,
)
from runtime.engine.errors import TaskFailure
from runtime.engine.replay import UNKNOWN_OUTCOME

__all__ = ["JOBS", "REQUEST_RESPONSE", "SageMakerAdapter", "register", "sagemaker_error"]

#: Resource ARNs this module serves.
ARN_PATTERN = r"^arn:[^:]+:states:::sagemaker:[A-Za-z]+(\.sync)?$"

#: API action (as in the ARN) → boto3 method, for every supported action.
REQUEST_RESPONSE = {
    "createEndpoint": "create_endpoint",
    "createEndpointConfig": "create_endpoint_config",
    "createHyperParameterTuningJob": "create_hyper_parameter_tuning_job",
    "createLabelingJob": "create_labeling_job",
    "createModel": "create_model",
    "createProcessingJob": "create_processing_job",
    "createTrainingJob": "create_training_job",
    "createTransformJob": "create_transform_job",
    "updateEndpoint": "update_endpoint",
}


def sagemaker_error(exc: BaseException) -> TaskFailure:
    """A botocore failure named as AWS Step Functions names SageMaker's errors."""
    failure = service_error("sagemaker", exc)
    # botocore gives each error declared in the API model its own class; undeclared codes
    # stay plain ClientError, which the Java SDK reports as AmazonSageMakerException.
    if type(exc).__name__ == "ClientError":
        return TaskFailure("SageMaker.AmazonSageMakerException", failure.cause)
    return failure


def _description(response: Mapping[str, Any]) -> dict[str, Any]:
    return {key: jsonable(v) for key, v in response.items() if key != "ResponseMetadata"}


def _job(noun: str, method: str) -> JobSpec:
    """The ``.sync`` spec of ``<noun>Job``, e.g. noun "Training" → TrainingJobName."""
    name_field = f"{noun}JobName"
    return JobSpec(
        service="sagemaker",
        submit=f"create_{method}_job",
        describe=f"describe_{method}_job",
        stop=f"stop_{method}_job",
        locate=lambda request, _response: {name_field: request[name_field]},
        view=_description,
        status_field=f"{noun}JobStatus",
        succeeded=frozenset({"Completed"}),
        failed=frozenset({"Failed", "Stopped"}),
        error=sagemaker_error,
        submitted=sdk_result,
    )


#: API action → ``.sync`` job spec (SageMaker API reference: *JobStatus values).
JOBS = {
    "createTrainingJob": _job("Training", "training"),
    "createTransformJob": _job("Transform", "transform"),
    "createHyperParameterTuningJob": _job("HyperParameterTuning", "hyper_parameter_tuning"),
    "createProcessingJob": _job("Processing", "processing"),
    "createLabelingJob": _job("Labeling", "labeling"),
}


@dataclass(frozen=True, slots=True)
class SageMakerAdapter:
    """Runs ``sagemaker:*`` tasks through boto3."""

    pool: ClientPool
    #: Poll delays of the ``.sync`` pattern.
    backoff: Backoff = field(default_factory=Backoff)

    async def invoke(self, call: TaskCall) -> Any:
        """Request-response or ``.sync``; raises TaskFailure as AWS names the failure.

        Cancellation of a ``.sync`` task stops the job (best effort) and re-raises.
        """
        action, pattern = call.resource.action, call.resource.pattern
        method = REQUEST_RESPONSE.get(action)
        params = _parameters(call)
        if method is not None and pattern == "":
            response = await aws_call(self.pool, call, "sagemaker", method, params, sagemaker_error)
            return sdk_result(response)
        spec = JOBS.get(action)
        if spec is not None and pattern == ".sync":
            return await run_job(self.pool, call, spec, params, self.backoff)
        raise TaskFailure(
            "States.Runtime",
            f"The resource '{call.resource.arn}' is not supported by the SageMaker "
            "integration (supported: "
            + ", ".join(sorted(REQUEST_RESPONSE))
            + "; .sync for "
            + ", ".join(sorted(JOBS))
            + ").",
        )

    async def resume(self, call: TaskCall, submitted: Any) -> Any:
        """A ``.sync`` job submitted before a restart (runtime.engine.replay): poll it again.

        The job is found by the name in the task's parameters; it is never created twice.
        """
        spec = JOBS.get(call.resource.action)
        if spec is None or call.resource.pattern != ".sync":
            raise TaskFailure(*UNKNOWN_OUTCOME)
        return await resume_job(self.pool, call, spec, _parameters(call), submitted, self.backoff)


def _parameters(call: TaskCall) -> dict[str, Any]:
    if not isinstance(call.parameters, Mapping):
        raise TaskFailure(
            "States.Runtime",
            f"The parameters of the SageMaker task '{call.state_name}' must be a JSON object.",
        )
    return dict(call.parameters)


def register(registry: AdapterRegistry, pool: ClientPool, backoff: Backoff | None = None) -> None:
    """Serve ``arn:aws:states:::sagemaker:<api>`` and ``...:<api>.sync`` with boto3."""
    registry.register(ARN_PATTERN, SageMakerAdapter(pool, backoff or Backoff()))
