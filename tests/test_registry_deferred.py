"""Routes promised by ARN prefix (AdapterRegistry.register_later): loaded on first need,
once, in the place they were promised, with the same errors as routes added at once."""

from __future__ import annotations

import ast
import subprocess
import sys
from typing import Any

import pytest

from runtime.adapters import Services, build_registry
from runtime.adapters.base import AdapterRegistry, FunctionAdapter, parse_resource
from runtime.engine.errors import UnservedTask

LAMBDA = "arn:aws:states:::lambda:invoke"
SNS = "arn:aws:states:::sns:publish"


def _adapter(tag: str) -> FunctionAdapter:
    return FunctionAdapter(lambda _parameters: tag)


def test_deferred_routes_load_on_the_first_matching_arn_only() -> None:
    loads: list[str] = []

    def load(registry: AdapterRegistry) -> str:
        loads.append("lambda")
        registry.register(r"^arn:[^:]+:states:::lambda:invoke$", _adapter("lambda"))
        return "value"

    registry = AdapterRegistry()
    deferred = registry.register_later(r"^arn:[^:]+:states:::lambda:", load)
    with pytest.raises(UnservedTask):
        registry.resolve("Publish", parse_resource(SNS))
    assert loads == []  # an ARN outside the prefix never loads them
    assert registry.resolve("Invoke", parse_resource(LAMBDA)) is not None
    registry.resolve("Invoke", parse_resource(LAMBDA))
    registry.copy().resolve("Invoke", parse_resource(LAMBDA))
    assert loads == ["lambda"]  # once, shared by copies
    assert deferred.load() == "value"


def test_deferred_routes_keep_their_place_and_label() -> None:
    registry = AdapterRegistry()
    early, late = _adapter("early"), _adapter("late")
    with registry.labelled("AWS"):
        registry.register_later(
            r"^arn:[^:]+:states:::lambda:",
            lambda reg: reg.register(r"^arn:[^:]+:states:::lambda:invoke$", early),
        )
    # Registered after the promise: tried before it, as it would be had it loaded at once.
    registry.register(r"^arn:[^:]+:states:::lambda:invoke$", late, source="local function")
    assert registry.route("S", parse_resource(LAMBDA)) == (late, "local function")

    other = AdapterRegistry()
    other.register(r"^arn:[^:]+:states:::lambda:invoke$", late, source="local function")
    with other.labelled("AWS"):
        other.register_later(
            r"^arn:[^:]+:states:::lambda:",
            lambda reg: reg.register(r"^arn:[^:]+:states:::lambda:invoke$", early),
        )
    assert other.route("S", parse_resource(LAMBDA)) == (early, "AWS")


def test_a_refused_source_is_refused_when_deferred_too() -> None:
    registry = AdapterRegistry()
    with registry.labelled("AWS"):
        registry.register_later(
            r"^arn:[^:]+:states:::sns:",
            lambda reg: reg.register(r"^arn:[^:]+:states:::sns:publish$", _adapter("sns")),
        )
    registry.refused["AWS"] = "no AWS here"
    with pytest.raises(UnservedTask, match=r"The state 'Publish' would call AWS .*no AWS here"):
        registry.resolve("Publish", parse_resource(SNS))


def _routes(registry: AdapterRegistry, arns: list[str]) -> list[Any]:
    found = []
    for arn in arns:
        try:
            adapter, source = registry.route("S", parse_resource(arn))
        except UnservedTask as exc:
            found.append(("unserved", str(exc)))
        else:
            found.append((type(adapter).__name__, source))
    return found


U = "unserved"
W = "WaitForToken"
#: Resource -> (offline route, route with AWS enabled), as a registry built all at once
#: routed them: the type of the adapter and its source, or unserved.
ROUTES = {
    "arn:aws:states:::lambda:invoke": (U, ("LambdaAdapter", "AWS")),
    "arn:aws:states:::lambda:invoke.waitForTaskToken": ((W, "callback"), (W, "AWS")),
    "arn:aws:lambda:us-east-1:123456789012:function:f": (U, ("LambdaAdapter", "AWS")),
    "arn:aws:states:::aws-sdk:s3:listBuckets": (U, ("AwsSdkAdapter", "AWS")),
    "arn:aws:states:::aws-sdk:s3:listBuckets.waitForTaskToken": ((W, "callback"), (W, "AWS")),
    "arn:aws:states:::sagemaker:createTrainingJob.sync": (U, ("SageMakerAdapter", "AWS")),
    "arn:aws:states:::sns:publish": (U, ("SnsPublish", "AWS")),
    "arn:aws:states:::sns:publish.waitForTaskToken": ((W, "callback"), (W, "AWS")),
    "arn:aws:states:::batch:submitJob.sync": (U, ("BatchAdapter", "AWS")),
    "arn:aws:states:::elasticmapreduce:createCluster.sync": (U, ("EmrAdapter", "AWS")),
    "arn:aws:states:::sqs:sendMessage": (U, ("OptimizedAdapter", "AWS")),
    "arn:aws:states:::sqs:sendMessage.waitForTaskToken": ((W, "callback"), (W, "AWS")),
    "arn:aws:states:::dynamodb:getItem": (U, ("OptimizedAdapter", "AWS")),
    "arn:aws:states:::events:putEvents.waitForTaskToken": ((W, "callback"), (W, "AWS")),
    "arn:aws:states:::states:startExecution.sync:2": (("NestedExecutions", "local machine"),) * 2,
    "arn:aws:states:::states:startExecution.waitForTaskToken": ((W, "callback"),) * 2,
    "arn:aws:states:::s3:getObject": (("Buckets", "adapter"),) * 2,
    "arn:aws:states:::glue:startJobRun.waitForTaskToken": ((W, "callback"),) * 2,
    "arn:aws:states:::glue:startJobRun.sync": (U, U),
    "arn:aws:states:us-east-1:123456789012:activity:work": (("ActivityAdapter", "activity"),) * 2,
    "arn:aws:states:::http:invoke": (U, U),
}


def _route(registry: AdapterRegistry, arn: str) -> Any:
    try:
        adapter, source = registry.route("S", parse_resource(arn))
    except UnservedTask as exc:
        assert str(exc).startswith(
            f"States.Runtime: No adapter is configured for the resource '{arn}' of the state 'S'"
        )
        return U
    return (type(adapter).__name__, source)


def test_the_built_registry_routes_every_service_as_before() -> None:
    from runtime.adapters.aws import AwsSettings, ClientPool

    offline = build_registry(Services.create())
    online = build_registry(Services.create(pool=ClientPool(AwsSettings(region="us-east-1"))))
    found = {arn: (_route(offline, arn), _route(online, arn)) for arn in ROUTES}
    assert found == ROUTES


def test_a_registry_imports_only_the_adapters_a_route_needs() -> None:
    code = (
        "import sys\n"
        "from runtime.adapters import Services, build_registry\n"
        "from runtime.adapters.aws import AwsSettings, ClientPool\n"
        "from runtime.adapters.base import parse_resource\n"
        "pool = ClientPool(AwsSettings(region='us-east-1'))\n"
        "registry = build_registry(Services.create(pool=pool))\n"
        "registry.route('S', parse_resource('arn:aws:states:::sns:publish'))\n"
        "print(sorted(m for m in sys.modules if m.startswith('runtime.adapters.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(ast.literal_eval(out))
    assert "runtime.adapters.sns" in loaded
    assert not loaded & {
        "runtime.adapters.lambda_",
        "runtime.adapters.sdk",
        "runtime.adapters.sagemaker",
        "runtime.adapters.batch",
        "runtime.adapters.emr",
        "runtime.adapters.simple",
        "runtime.adapters.nested",
        "runtime.adapters.http",
        "runtime.adapters.activity",  # the activity queues too, until an activity needs them
    }


def test_activity_queues_are_made_once_when_first_needed() -> None:
    services = Services.create(region="eu-west-1")
    registry = build_registry(services)
    assert services._activities is None  # nothing asked for them yet
    adapter, source = registry.route(
        "S", parse_resource("arn:aws:states:eu-west-1:123456789012:activity:work")
    )
    assert source == "activity"
    queues = services.activities
    assert adapter.activities is queues and services.activities is queues  # type: ignore[attr-defined]
    assert queues.arn("work") == "arn:aws:states:eu-west-1:123456789012:activity:work"
