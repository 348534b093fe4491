"""Shared pieces of the optimized integrations: result shapes and the ``.sync`` job poller.

* :func:`aws_call`: one boto3 call through the :class:`~runtime.adapters.aws.ClientPool`,
  botocore failures turned into AWS's error names by the adapter's error mapper.
* :func:`sdk_result`: a request-response result as AWS Step Functions returns it: the
  service's response with ``SdkHttpMetadata`` and ``SdkResponseMetadata`` (recorded in
  ``sns_task_service.*`` and LocalStack's ECS ``runTask.sync`` TaskSubmitted snapshot).
* :func:`jsonable`: timestamps as epoch milliseconds, the way AWS's Java SDK serialises
  them in task outputs (the Batch API itself returns epoch milliseconds).
* :func:`run_job`: the "Run a Job (.sync)" pattern (DG connect-to-resource): submit,
  write TaskSubmitted, poll Describe* with exponential backoff on the execution's clock
  until a terminal status; a failed or stopped job fails the task with
  ``States.TaskFailed`` and the job description as cause; cancellation (TimeoutSeconds,
  HeartbeatSeconds, a failing sibling, an aborted execution) stops the job best effort.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio

from runtime.adapters.aws import ClientPool
from runtime.adapters.base import TaskCall
from runtime.engine.clock import Clock, RealClock
from runtime.engine.errors import TaskFailure
from runtime.engine.events import dumps

__all__ = [
    "Backoff",
    "ErrorMapper",
    "JobSpec",
    "aws_call",
    "clock_of",
    "jsonable",
    "resume_job",
    "run_job",
    "sdk_metadata",
    "sdk_result",
]

#: Turns whatever botocore raised into the TaskFailure AWS reports.
ErrorMapper = Callable[[BaseException], TaskFailure]

#: AWS's Java SDK keeps header names as sent on the wire; botocore lowercases them.
_HEADER_CASE = {
    "x-amzn-requestid": "x-amzn-RequestId",
    "content-length": "Content-Length",
    "content-type": "Content-Type",
    "date": "Date",
    "connection": "connection",
}
#: botocore/moto pseudo-headers that are not HTTP headers of the response.
_NOT_HEADERS = frozenset({"status", "server"})


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between two Describe* polls: ``initial``, times ``factor``, at most ``maximum``."""

    initial: float = 5.0
    maximum: float = 60.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        """The endless sequence of poll delays, in seconds."""
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)


def _same(args: dict[str, Any]) -> dict[str, Any]:
    return args


@dataclass(frozen=True, slots=True)
class JobSpec:
    """How one kind of job runs with the ``.sync`` pattern."""

    #: boto3 service name and method names of the submit, describe and stop calls.
    service: str
    submit: str
    describe: str
    stop: str | None
    #: The Describe* request for the job, from the submit request and response.
    locate: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
    #: The job as the task sees it, from a Describe* response (None: not visible yet).
    view: Callable[[Mapping[str, Any]], dict[str, Any] | None]
    #: The field of :attr:`view` holding the job's status.
    status_field: str
    succeeded: frozenset[str]
    failed: frozenset[str]
    #: botocore failures → AWS error names.
    error: ErrorMapper
    #: The TaskSubmitted output, from the submit response.
    submitted: Callable[[Mapping[str, Any]], Any]
    #: The Stop* request, from the Describe* request (e.g. adds a reason).
    stop_args: Callable[[dict[str, Any]], dict[str, Any]] = field(default=_same)
    #: Reads the status from :attr:`view` where it is nested (default: ``status_field``).
    status_of: Callable[[Mapping[str, Any]], Any] | None = None

    def status(self, job: Mapping[str, Any]) -> Any:
        """The job's status, as compared with :attr:`succeeded` and :attr:`failed`."""
        if self.status_of is not None:
            return self.status_of(job)
        return job.get(self.status_field)


def clock_of(call: TaskCall) -> Clock:
    """The execution's clock (a real clock for adapters called outside an execution)."""
    return call.clock if call.clock is not None else RealClock()


async def aws_call(
    pool: ClientPool,
    call: TaskCall,
    service: str,
    method: str,
    params: Mapping[str, Any],
    error: ErrorMapper,
) -> dict[str, Any]:
    """``pool.call`` in the task's region; any failure raised as ``error(exc)``."""
    try:
        result: dict[str, Any] = await pool.call(
            clock_of(call), service, method, params, call.resource.region
        )
    except Exception as exc:  # botocore's tree and parameter validation alike
        raise error(exc) from None
    return result


def jsonable(value: Any) -> Any:
    """A boto3 value as JSON data: datetimes as epoch milliseconds, bytes as base64."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value


def sdk_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata`` from botocore's ResponseMetadata."""
    headers = {
        _HEADER_CASE.get(name, name): str(value)
        for name, value in (meta.get("HTTPHeaders") or {}).items()
        if name not in _NOT_HEADERS
    }
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {name: [value] for name, value in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": meta.get("HTTPStatusCode", 200),
        },
        "SdkResponseMetadata": {"RequestId": meta.get("RequestId", "")},
    }


def sdk_result(response: Mapping[str, Any]) -> dict[str, Any]:
    """A request-response result: the response's fields plus AWS's SDK metadata."""
    body = {key: jsonable(item) for key, item in response.items() if key != "ResponseMetadata"}
    body.update(sdk_metadata(response.get("ResponseMetadata") or {}))
    return body


async def run_job(
    pool: ClientPool,
    call: TaskCall,
    spec: JobSpec,
    request: Mapping[str, Any],
    backoff: Backoff,
) -> dict[str, Any]:
    """Submit a job, wait for its end on the clock, return its final description.

    Raises TaskFailure: the service's error for a failed call, ``States.TaskFailed`` with
    the job description (JSON) as cause when the job ends failed or stopped.
    Cancellation: calls the Stop* API (errors ignored), then re-raises.
    """
    response = await aws_call(pool, call, spec.service, spec.submit, request, spec.error)
    call.on_submitted(spec.submitted(response))
    return await _await_job(pool, call, spec, spec.locate(request, response), backoff)


async def resume_job(
    pool: ClientPool,
    call: TaskCall,
    spec: JobSpec,
    request: Mapping[str, Any],
    submitted: Any,
    backoff: Backoff,
) -> dict[str, Any]:
    """Wait for a job submitted before the runtime restarted: poll it, never resubmit.

    ``submitted`` is the recorded TaskSubmitted output; the job is found from the request
    (and that output) as :func:`run_job` finds it. Cancellation stops the job, as there.
    """
    response = submitted if isinstance(submitted, Mapping) else {}
    return await _await_job(pool, call, spec, spec.locate(request, response), backoff)


async def _await_job(
    pool: ClientPool,
    call: TaskCall,
    spec: JobSpec,
    locator: dict[str, Any],
    backoff: Backoff,
) -> dict[str, Any]:
    """Poll the job to its end; on cancellation stop it (best effort) and re-raise."""
    try:
        return await _poll(pool, call, spec, locator, backoff)
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            await _stop(pool, call, spec, locator)
        raise


async def _poll(
    pool: ClientPool,
    call: TaskCall,
    spec: JobSpec,
    locator: dict[str, Any],
    backoff: Backoff,
) -> dict[str, Any]:
    clock = clock_of(call)
    for delay in backoff.delays():
        await clock.sleep_until(clock.now() + delay)
        described = await aws_call(pool, call, spec.service, spec.describe, locator, spec.error)
        job = spec.view(described)
        if job is None:
            continue
        status = spec.status(job)
        if status in spec.succeeded:
            return job
        if status in spec.failed:
            # DG connect-to-resource: a failed .sync job fails the task; LocalStack's
            # Batch integration names it States.TaskFailed with the description as cause.
            raise TaskFailure("States.TaskFailed", dumps(job))
    raise AssertionError("unreachable: backoff delays never end")  # pragma: no cover


async def _stop(pool: ClientPool, call: TaskCall, spec: JobSpec, locator: dict[str, Any]) -> None:
    """Best effort: the task is over whatever the Stop* call answers."""
    if spec.stop is None:
        return
    with contextlib.suppress(TaskFailure):
        await aws_call(pool, call, spec.service, spec.stop, spec.stop_args(locator), spec.error)
