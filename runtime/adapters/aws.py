"""boto3 plumbing shared by the AWS service adapters.

* :class:`AwsSettings`: region, per-service endpoint URLs (LocalStack, moto server),
  profile, and the number of concurrent blocking calls.
* :class:`ClientPool`: one boto3 client per (service, region), created lazily and reused;
  blocking calls run in worker threads behind a capacity limiter, marked busy on the
  execution's clock so virtual time never jumps over a call in flight.
* :func:`service_error`: a botocore failure as AWS Step Functions reports it: the error
  name ``<Service>.<Code>`` and the cause ``<message> (Service: ...; Status Code: ...;
  Error Code: ...; Request ID: ...; Proxy: null)`` (SPEC.md A.10, LS-SNAP). Credentials
  never appear in either.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread

from runtime.engine.clock import Clock
from runtime.engine.errors import TaskFailure

__all__ = ["AwsSettings", "ClientPool", "service_error"]


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """Where and how the AWS adapters call AWS."""

    #: Default region for clients (None: boto3's own resolution, env, config files).
    region: str | None = None
    #: Endpoint URL per boto3 service name, e.g. {"lambda": "http://127.0.0.1:5000"};
    #: the key "*" applies to every service without its own entry.
    endpoints: Mapping[str, str] = field(default_factory=dict)
    #: A named profile of the shared config files.
    profile: str | None = None
    #: At most this many blocking AWS calls at once.
    max_concurrent_calls: int = 16
    #: botocore's retry mode and attempts for throttling and transient errors.
    retry_mode: str = "standard"
    max_attempts: int = 3

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint URL configured for ``service``, if any."""
        return self.endpoints.get(service) or self.endpoints.get("*")


class ClientPool:
    """Lazily created boto3 clients, one per (service, region), shared across executions."""

    def __init__(self, settings: AwsSettings | None = None) -> None:
        self.settings = settings or AwsSettings()
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None
        self._limiter: anyio.CapacityLimiter | None = None

    def client(self, service: str, region: str | None = None) -> Any:
        """The boto3 client for ``service`` in ``region`` (default: the settings')."""
        region = region or self.settings.region
        key = (service, region)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._new_client(service, region)
                    self._clients[key] = client
        return client

    def _new_client(self, service: str, region: str | None) -> Any:
        import boto3
        from botocore.config import Config

        if self._session is None:
            self._session = boto3.session.Session(profile_name=self.settings.profile)
        config = Config(
            retries={"mode": self.settings.retry_mode, "max_attempts": self.settings.max_attempts},
            max_pool_connections=max(10, self.settings.max_concurrent_calls),
        )
        return self._session.client(
            service,
            region_name=region,
            endpoint_url=self.settings.endpoint_for(service),
            config=config,
        )

    async def call(
        self,
        clock: Clock,
        service: str,
        method: str,
        params: Mapping[str, Any],
        region: str | None = None,
    ) -> Any:
        """Call ``client(service).method(**params)`` in a worker thread.

        Raises whatever botocore raises; adapters turn it into a TaskFailure with
        :func:`service_error`. Cancellation abandons the thread's result (the call itself
        cannot be interrupted) and re-raises.
        """
        client = self.client(service, region)
        bound: Callable[..., Any] = getattr(client, method)
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.settings.max_concurrent_calls)
        with clock.busy():
            return await anyio.to_thread.run_sync(
                functools.partial(bound, **params), limiter=self._limiter, abandon_on_cancel=True
            )


#: How AWS names a service in error names and causes, where it differs from boto3's.
_ERROR_PREFIX = {
    "lambda": ("Lambda", "AWSLambda"),
    "sagemaker": ("SageMaker", "AmazonSageMaker"),
    "sns": ("SNS", "AmazonSNS"),
    "sqs": ("SQS", "AmazonSQS"),
    "batch": ("Batch", "AWSBatch"),
    "stepfunctions": ("StepFunctions", "AWSStepFunctions"),
    "dynamodb": ("DynamoDB", "AmazonDynamoDBv2"),
    "s3": ("S3", "Amazon S3"),
    "events": ("EventBridge", "AmazonEventBridge"),
    "emr": ("ElasticMapReduce", "AmazonElasticMapReduce"),
}


def service_error(service: str, exc: BaseException) -> TaskFailure:
    """A botocore/boto3 failure as the TaskFailure AWS Step Functions would report."""
    name, long_name = _ERROR_PREFIX.get(service, (service.capitalize(), service))
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        err = response.get("Error", {}) or {}
        meta = response.get("ResponseMetadata", {}) or {}
        code = str(err.get("Code") or "Exception")
        message = str(err.get("Message") or code)
        status = meta.get("HTTPStatusCode", 400)
        request_id = meta.get("RequestId", "")
        suffix = code if code.endswith("Exception") else f"{code}Exception"
        return TaskFailure(
            f"{name}.{suffix}",
            f"{message} (Service: {long_name}; Status Code: {status}; Error Code: {code}; "
            f"Request ID: {request_id}; Proxy: null)",
        )
    # No HTTP response: connection, credentials or parameter validation failures.
    kind = type(exc).__name__
    return TaskFailure(f"{name}.SdkClientException", f"{kind}: {exc}")
