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

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.adapters.base import AdapterRegistry, DeferredRoutes

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
    #: The account and region of this runtime's activity ARNs (and HTTP Tasks' region).
    account: str = "123456789012"
    region: str = "us-east-1"
    _activities: Activities | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def activities(self) -> Activities:
        """The activity task queues, made on first use: a run with no activity Task (and
        no worker or endpoint asking for them) never imports them."""
        activities = self._activities
        if activities is None:
            with self._lock:  # one set of queues, whichever thread asks first
                activities = self._activities
                if activities is None:
                    from runtime.adapters.activity import Activities

                    activities = Activities(
                        self.callbacks, account=self.account, region=self.region
                    )
                    self._activities = activities
        return activities

    @activities.setter
    def activities(self, activities: Activities) -> None:
        self._activities = activities

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
        from runtime.callbacks.registry import CallbackRegistry

        callbacks = options.pop("callbacks", None) or CallbackRegistry()
        if aws and options.get("pool") is None:
            from runtime.adapters.aws import AwsSettings, ClientPool

            options["pool"] = ClientPool(options.pop("settings", None) or AwsSettings())
        options.pop("settings", None)
        return cls(callbacks=callbacks, account=account, region=region or "us-east-1", **options)


def build_registry(services: Services) -> AdapterRegistry:
    """A registry routing every supported resource to its adapter (see the module doc).

    Each service's routes are promised by the prefix of their ARNs and loaded on the first
    Task with such a resource (:meth:`AdapterRegistry.register_later`): a run imports the
    modules of the services its Tasks use, and none for a definition without Tasks.
    """
    from runtime.adapters import callback

    registry = AdapterRegistry()
    with registry.labelled("callback"):
        callback.register(registry, services.callbacks)
    with registry.labelled("activity"):
        registry.register_later(_ACTIVITY, functools.partial(_activities, services=services))
    lambdas = None
    if services.pool is not None:
        with registry.labelled("AWS"):
            lambdas = _register_aws(registry, services)
    with registry.labelled("local machine"):
        registry.register_later(
            r"^arn:[^:]+:states:::states:",
            functools.partial(_nested, services=services),
        )
    if services.functions is not None and len(services.functions):
        from runtime.adapters.callback import WaitForToken
        from runtime.adapters.lambda_ import INVOKE_TOKEN_ARN

        with registry.labelled("local function"):
            services.functions.register(registry)
            fallback = lambdas.load() if lambdas is not None else None
            registry.register(
                INVOKE_TOKEN_ARN,
                WaitForToken(services.functions.submitter(fallback), services.callbacks),
            )
    registry.register_later(
        r"^arn:[^:]+:states:::s3:", functools.partial(_buckets, services=services)
    )
    if services.connections is not None:
        with registry.labelled("HTTP"):
            registry.register_later(
                r"^arn:[^:]+:states:::http:", functools.partial(_http, services=services)
            )
    return registry


#: The start of every activity ARN (``runtime.adapters.activity.ACTIVITY_PATTERN``).
_ACTIVITY = r"^arn:[^:]+:states:[^:]*:[^:]*:activity:"


def _activities(registry: AdapterRegistry, services: Services) -> None:
    from runtime.adapters import activity

    activity.register(registry, services.activities)


def _nested(registry: AdapterRegistry, services: Services) -> None:
    from runtime.adapters import nested

    nested.register(registry, services.machines, services.pool, callbacks=services.callbacks)


def _buckets(registry: AdapterRegistry, services: Services) -> None:
    """The S3 objects of a Distributed Map's ItemReader and ResultWriter."""
    from runtime.distributed.store import register

    register(registry, services.pool, services.buckets)


def _http(registry: AdapterRegistry, services: Services) -> None:
    from runtime.adapters import http

    assert services.connections is not None
    adapter = http.HttpInvoke(
        services.connections, region=services.region, observer=services.http_observer
    )
    http.register(registry, adapter)


#: The boto3 adapters: the prefix every ARN of a module's routes starts with, and its module.
_AWS_MODULES = (
    (r"^arn:[^:]+:states:::aws-sdk:", "sdk"),
    (r"^arn:[^:]+:(lambda|states:::lambda):", "lambda_"),
    (r"^arn:[^:]+:states:::sagemaker:", "sagemaker"),
    (r"^arn:[^:]+:states:::sns:", "sns"),
    (r"^arn:[^:]+:states:::batch:", "batch"),
    (r"^arn:[^:]+:states:::elasticmapreduce:", "emr"),
    (r"^arn:[^:]+:states:::(sqs|events|dynamodb):", "simple"),
)


def _register_aws(registry: AdapterRegistry, services: Services) -> DeferredRoutes:
    """The boto3 adapters, each loaded on first need; returns the Lambda routes, whose
    ``load()`` gives the Lambda adapter's submit step (for the local functions' fallback)."""
    lambdas = None
    for prefix, module in _AWS_MODULES:
        deferred = registry.register_later(
            prefix, functools.partial(_load_aws, module=module, services=services)
        )
        if module == "lambda_":
            lambdas = deferred
    assert lambdas is not None
    return lambdas


def _load_aws(registry: AdapterRegistry, module: str, services: Services) -> Any:
    """Register one boto3 adapter module's routes, with the ``.waitForTaskToken`` variant
    where the service offers one (submit through boto3, then wait for the token)."""
    import importlib

    from runtime.adapters.callback import WaitForToken

    pool, callbacks = services.pool, services.callbacks
    assert pool is not None
    adapter = importlib.import_module(f"runtime.adapters.{module}").register(registry, pool)
    if module == "sdk":
        pattern = r"^arn:[^:]+:states:::aws-sdk:[^:]+:[A-Za-z0-9]+" + _TOKEN
        registry.register(pattern, WaitForToken(adapter.submit, callbacks))
    elif module == "lambda_":
        from runtime.adapters.lambda_ import INVOKE_TOKEN_ARN

        registry.register(INVOKE_TOKEN_ARN, WaitForToken(adapter.submit, callbacks))
        return adapter.submit
    elif module == "sns":
        from runtime.adapters.sns import SnsPublish

        registry.register(
            r"^arn:[^:]+:states:::sns:publish" + _TOKEN,
            WaitForToken(SnsPublish(pool).submit, callbacks),
        )
    elif module == "simple":
        pattern = r"^arn:[^:]+:states:::(sqs:sendMessage|events:putEvents)" + _TOKEN
        registry.register(pattern, WaitForToken(adapter.submit, callbacks))
    return None
