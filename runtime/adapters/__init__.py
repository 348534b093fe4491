"""Task adapters, one module per service, and the registry that wires them together.

:func:`build_registry` composes them in the order routing needs (the latest registration
for an ARN pattern wins):

1. the catch-all ``.waitForTaskToken`` adapter (opens the token, calls no service) and
   activities;
2. with AWS enabled, the boto3 adapters: aws-sdk, Lambda, SageMaker, SNS, Batch, EMR, SQS,
   DynamoDB, EventBridge, and the ``.waitForTaskToken`` variant of each service that
   offers one (submit through boto3, then wait for the token);
3. nested executions (``states:startExecution``): locally known state machines run here,
   the others on AWS when it is enabled;
4. local Python Lambda handlers, which take over the function names they know and fall
   back to the boto3 Lambda adapter for the others;
5. the S3 objects a Distributed Map reads (ItemReader) and writes (ResultWriter): local
   directories standing in for buckets, else boto3 when AWS is enabled;
6. HTTP Tasks (``http:invoke``), when EventBridge connections are configured.

Mocks (MockConfigFile) are registered per state on top of all this by :func:`runtime.run`.
Each route is labelled with its source (``runtime.adapters.base.SOURCES``) for the trace
and for mocked runs, which refuse AWS unless it is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.adapters.base import AdapterRegistry

if TYPE_CHECKING:
    from runtime.adapters.activity import Activities
    from runtime.adapters.aws import ClientPool
    from runtime.adapters.local_lambda import LocalFunctions
    from runtime.callbacks.registry import CallbackRegistry

__all__ = ["Services", "build_registry"]

_TOKEN = r"\.waitForTaskToken$"


@dataclass
class Services:
    """What the adapters share: the callback registry, activity queues, boto3 clients."""

    callbacks: CallbackRegistry
    activities: Activities
    #: boto3 clients; None runs offline (tasks need a mock or a local function).
    pool: ClientPool | None = None
    #: Local Python Lambda handlers.
    functions: LocalFunctions | None = None
    #: State machines that ``states:startExecution`` may start, by ARN or name.
    machines: Mapping[str, Any] = field(default_factory=dict)
    #: Local directories standing in for S3 buckets (Distributed Map), by bucket name.
    buckets: Mapping[str, Path] = field(default_factory=dict)
    #: EventBridge connections for HTTP Tasks (``runtime.adapters.http``), by ARN; None
    #: leaves ``http:invoke`` unrouted (no URL is called unless configured).
    connections: Mapping[str, Any] | None = None
    #: Hears each HTTP Task's exchange (TestState's TRACE), or None.
    http_observer: Any = None

    @classmethod
    def create(
        cls,
        *,
        aws: bool = False,
        account: str = "123456789012",
        region: str = "us-east-1",
        **options: Any,
    ) -> Services:
        """Services with fresh callback and activity registries (and a pool if ``aws``)."""
        from runtime.adapters.activity import Activities
        from runtime.callbacks.registry import CallbackRegistry

        callbacks = options.pop("callbacks", None) or CallbackRegistry()
        if aws and options.get("pool") is None:
            from runtime.adapters.aws import AwsSettings, ClientPool

            options["pool"] = ClientPool(options.pop("settings", None) or AwsSettings())
        options.pop("settings", None)
        activities = Activities(callbacks, account=account, region=region)
        return cls(callbacks=callbacks, activities=activities, **options)


def build_registry(services: Services) -> AdapterRegistry:
    """A registry routing every supported resource to its adapter (see the module doc)."""
    from runtime.adapters import activity, callback, nested
    from runtime.adapters.callback import WaitForToken

    registry = AdapterRegistry()
    with registry.labelled("callback"):
        callback.register(registry, services.callbacks)
    with registry.labelled("activity"):
        activity.register(registry, services.activities)
    lambda_fallback = None
    if services.pool is not None:
        with registry.labelled("AWS"):
            lambda_fallback = _register_aws(registry, services)
    with registry.labelled("local machine"):
        nested.register(registry, services.machines, services.pool, callbacks=services.callbacks)
    if services.functions is not None and len(services.functions):
        from runtime.adapters.lambda_ import INVOKE_TOKEN_ARN

        with registry.labelled("local function"):
            services.functions.register(registry)
            registry.register(
                INVOKE_TOKEN_ARN,
                WaitForToken(services.functions.submitter(lambda_fallback), services.callbacks),
            )
    from runtime.distributed.store import register as register_buckets

    register_buckets(registry, services.pool, services.buckets)
    if services.connections is not None:
        from runtime.adapters import http

        adapter = http.HttpInvoke(
            services.connections,
            region=services.activities.region,
            observer=services.http_observer,
        )
        with registry.labelled("HTTP"):
            http.register(registry, adapter)
    return registry


def _register_aws(registry: AdapterRegistry, services: Services) -> Any:
    """The boto3 adapters; returns the Lambda adapter's submit step (for local fallback)."""
    from runtime.adapters import batch, emr, lambda_, sagemaker, sdk, simple, sns
    from runtime.adapters.callback import WaitForToken

    pool = services.pool
    assert pool is not None
    callbacks = services.callbacks
    sdk_adapter = sdk.register(registry, pool)
    lambda_adapter = lambda_.register(registry, pool)
    sagemaker.register(registry, pool)
    sns.register(registry, pool)
    batch.register(registry, pool)
    emr.register(registry, pool)
    optimized = simple.register(registry, pool)
    tokens = [
        (r"^arn:[^:]+:states:::aws-sdk:[^:]+:[A-Za-z0-9]+" + _TOKEN, sdk_adapter.submit),
        (lambda_.INVOKE_TOKEN_ARN, lambda_adapter.submit),
        (r"^arn:[^:]+:states:::sns:publish" + _TOKEN, sns.SnsPublish(pool).submit),
        (r"^arn:[^:]+:states:::(sqs:sendMessage|events:putEvents)" + _TOKEN, optimized.submit),
    ]
    for pattern, submit in tokens:
        registry.register(pattern, WaitForToken(submit, callbacks))
    return lambda_adapter.submit
