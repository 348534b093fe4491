"""Local Python handlers answer Task states exactly as deployed Lambda functions would."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from runtime import run_sync
from runtime.adapters.base import AdapterRegistry, FunctionAdapter, TaskCall
from runtime.adapters.callback import WaitForToken
from runtime.adapters.lambda_ import INVOKE_TOKEN_ARN
from runtime.adapters.local_lambda import LambdaContext, LocalFunctionError, LocalFunctions
from runtime.callbacks.registry import CallbackRegistry
from runtime.engine.clock import VirtualClock
from runtime.engine.errors import UnservedTask

INVOKE = "arn:aws:states:::lambda:invoke"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"

HANDLERS = """
import json

class CustomException(Exception):
    pass

def echo(event, context):
    return event

def fail(event, context):
    raise ValueError("bad input")

def custom(event, context):
    raise CustomException()

def unserializable(event, context):
    return {1, 2}

def inspect_context(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
    }

async def coro(event, context):
    return {"async": event}
"""


@pytest.fixture
def handlers(tmp_path: Path) -> Path:
    path = tmp_path / "handlers.py"
    path.write_text(HANDLERS)
    return path


def _functions(handlers: Path, **targets: str) -> LocalFunctions:
    functions = LocalFunctions()
    for name, attr in targets.items():
        functions.add(name, f"{handlers}:{attr}")
    return functions


def _registry(functions: LocalFunctions, **options: Any) -> AdapterRegistry:
    registry = AdapterRegistry()
    functions.register(registry, **options)
    return registry


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": resource, "End": True, **fields}},
    }


def _invoke(function_name: str, **fields: Any) -> dict[str, Any]:
    params = {"FunctionName": function_name, "Payload.$": "$"}
    return _task(INVOKE, Parameters=params, **fields)


# -- legacy ARN ---------------------------------------------------------------------------


def test_legacy_arn_returns_the_handler_result(handlers: Path) -> None:
    registry = _registry(_functions(handlers, echo="echo"))
    result = run_sync(_task(ARN + "echo"), {"a": [1, 2.5]}, adapters=registry)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"a": [1, 2.5]}
    assert result.event_types[2:5] == [
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
    ]


def test_legacy_arn_with_qualifier_and_string_event(handlers: Path) -> None:
    registry = _registry(_functions(handlers, echo="echo"))
    assert (
        run_sync(_task(ARN + "echo:prod"), "HelloWorld", adapters=registry).output == "HelloWorld"
    )
    # A string holding JSON text reaches the function parsed, as on AWS.
    assert run_sync(_task(ARN + "echo"), "[1]", adapters=registry).output == [1]


def test_legacy_exception_is_a_function_error(handlers: Path) -> None:
    registry = _registry(_functions(handlers, fail="fail"))
    result = run_sync(_task(ARN + "fail"), {}, adapters=registry)
    assert result.status == "FAILED"
    assert result.error == "ValueError"
    cause = json.loads(result.cause or "")
    assert list(cause) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert cause["errorMessage"] == "bad input"
    assert cause["errorType"] == "ValueError"
    assert cause["stackTrace"] == [
        f'  File "{handlers}", line 11, in fail\n    raise ValueError("bad input")\n'
    ]
    assert (result.cause or "").startswith('{"errorMessage": "bad input", "errorType": ')
    assert result.event_types[-2:] == ["LambdaFunctionFailed", "ExecutionFailed"]


def test_custom_exception_is_catchable_by_name(handlers: Path) -> None:
    machine = _task(ARN + "custom", Catch=[{"ErrorEquals": ["CustomException"], "Next": "Ok"}])
    del machine["States"]["T"]["End"]
    machine["States"]["T"]["Next"] = "Ok"
    machine["States"]["Ok"] = {"Type": "Pass", "End": True}
    result = run_sync(machine, {}, adapters=_registry(_functions(handlers, custom="custom")))
    assert result.status == "SUCCEEDED"
    assert result.output["Error"] == "CustomException"
    assert json.loads(result.output["Cause"])["errorMessage"] == ""


def test_unserializable_result_is_a_marshal_error(handlers: Path) -> None:
    registry = _registry(_functions(handlers, bad="unserializable"))
    result = run_sync(_task(ARN + "bad"), {}, adapters=registry)
    assert result.error == "Runtime.MarshalError"
    cause = json.loads(result.cause or "")
    assert cause["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert cause["stackTrace"] == []


# -- lambda:invoke -----------------------------------------------------------------------


def test_invoke_wraps_the_result_in_the_aws_envelope(handlers: Path) -> None:
    registry = _registry(_functions(handlers, echo="echo"))
    result = run_sync(_invoke("echo"), {"body": "string body"}, adapters=registry)
    assert result.status == "SUCCEEDED", result.cause
    out = result.output
    assert list(out) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert (out["ExecutedVersion"], out["Payload"], out["StatusCode"]) == (
        "$LATEST",
        {"body": "string body"},
        200,
    )
    headers = out["SdkHttpMetadata"]["HttpHeaders"]
    # Python's json.dumps, as the runtime marshals: {"body": "string body"} is 23 bytes.
    assert headers["Content-Length"] == "23"
    assert headers["x-amzn-RequestId"] == out["SdkResponseMetadata"]["RequestId"]
    assert next(iter(out["SdkHttpMetadata"]["AllHttpHeaders"])) == "X-Amz-Executed-Version"
    assert result.event_types[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]


@pytest.mark.parametrize(
    "function_name",
    ["echo", "echo:prod", "123456789012:function:echo", ARN + "echo", ARN + "echo:1"],
)
def test_invoke_accepts_every_function_name_form(handlers: Path, function_name: str) -> None:
    registry = _registry(_functions(handlers, echo="echo"))
    assert run_sync(_invoke(function_name), 7, adapters=registry).output["Payload"] == 7


def test_invoke_exception_cause_is_compact_json(handlers: Path) -> None:
    registry = _registry(_functions(handlers, fail="fail"))
    result = run_sync(_invoke("fail"), {}, adapters=registry)
    assert result.error == "ValueError"
    assert (result.cause or "").startswith('{"errorMessage":"bad input","errorType":"ValueError",')
    assert result.event_types[-2:] == ["TaskFailed", "ExecutionFailed"]


def test_event_and_dry_run_invocations(handlers: Path) -> None:
    registry = _registry(_functions(handlers, fail="fail"))
    for kind, status in (("Event", 202), ("DryRun", 204)):
        machine = _invoke("fail")
        machine["States"]["T"]["Parameters"]["InvocationType"] = kind
        result = run_sync(machine, {}, adapters=registry)
        assert result.status == "SUCCEEDED", result.cause  # errors never reach the caller
        assert (result.output["StatusCode"], result.output["Payload"]) == (status, "")
        assert "ExecutedVersion" not in result.output


def test_context_object_follows_lambda(handlers: Path) -> None:
    registry = _registry(_functions(handlers, ctx="inspect_context"))
    result = run_sync(_invoke("ctx:live", TimeoutSeconds=10), {}, adapters=registry)
    ctx = result.output["Payload"]
    assert ctx["function_name"] == "ctx"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == ARN + "ctx:live"
    assert ctx["memory_limit_in_mb"] == "128"
    assert ctx["log_group_name"] == "/aws/lambda/ctx"
    assert ctx["log_stream_name"].endswith("[$LATEST]" + ctx["aws_request_id"].replace("-", ""))
    assert ctx["remaining"] == 10_000  # the execution clock does not move while it runs


def test_request_ids_differ_between_invocations(handlers: Path) -> None:
    functions = _functions(handlers, ctx="inspect_context")
    machine = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": _invoke("ctx"),
                "ItemSelector": {},
                "End": True,
            }
        },
    }
    result = run_sync(machine, [1, 2, 3], adapters=_registry(functions))
    ids = {item["Payload"]["aws_request_id"] for item in result.output}
    assert len(ids) == 3


def test_coroutine_handler_runs_on_the_loop(handlers: Path) -> None:
    registry = _registry(_functions(handlers, coro="coro"))
    assert run_sync(_task(ARN + "coro"), 1, adapters=registry).output == {"async": 1}


class _SpyClock(VirtualClock):
    def __init__(self) -> None:
        super().__init__(0)
        self.depth = 0

    @contextmanager
    def busy(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1


def test_sync_handler_runs_in_a_worker_thread_with_the_clock_busy() -> None:
    clock = _SpyClock()
    seen: dict[str, Any] = {}

    def handler(event: Any, context: LambdaContext) -> str:
        seen["thread"] = threading.get_ident()
        seen["busy"] = clock.depth
        return "ok"

    functions = LocalFunctions()
    functions.add("fn", handler)
    result = run_sync(_task(ARN + "fn"), {}, adapters=_registry(functions), clock=clock)
    assert result.output == "ok"
    assert seen["thread"] != threading.get_ident()
    assert seen["busy"] == 1
    assert clock.depth == 0


# -- targets, config and routing --------------------------------------------------------


def test_module_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "asl_local_mod_under_test.py").write_text("def handler(e, c):\n    return [e]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    functions = LocalFunctions()
    functions.add("m", "asl_local_mod_under_test:handler")
    functions.load_all()
    assert run_sync(_task(ARN + "m"), 1, adapters=_registry(functions)).output == [1]


def test_load_failures_are_lambda_init_errors(handlers: Path) -> None:
    functions = LocalFunctions()
    functions.add("missing", "asl_no_such_module_xyz:handler")
    functions.add("nohandler", f"{handlers}:nope")
    registry = _registry(functions)
    missing = run_sync(_task(ARN + "missing"), {}, adapters=registry)
    assert missing.error == "Runtime.ImportModuleError"
    assert json.loads(missing.cause or "")["errorMessage"] == (
        "Unable to import module 'asl_no_such_module_xyz': No module named 'asl_no_such_module_xyz'"
    )
    nohandler = run_sync(_task(ARN + "nohandler"), {}, adapters=registry)
    assert nohandler.error == "Runtime.HandlerNotFound"
    assert json.loads(nohandler.cause or "")["errorMessage"] == (
        "Handler 'nope' missing on module 'handlers'"
    )
    with pytest.raises(LocalFunctionError, match="missing"):
        functions.load_all()


@pytest.mark.parametrize("spec", ["noequals", "=x:y", "name=", "name=nocolon", "name=mod:1bad"])
def test_malformed_specs_are_rejected(spec: str) -> None:
    with pytest.raises(LocalFunctionError):
        LocalFunctions().add_spec(spec)


def test_add_spec_and_config_file(tmp_path: Path, handlers: Path) -> None:
    (tmp_path / "asl.toml").write_text('[lambda]\nfromfile = "handlers.py:echo"\nx = "a:b"\n')
    specs = [f"fromflag = {handlers}:coro", f"x={handlers}:echo"]
    functions = LocalFunctions.from_options(tmp_path / "asl.toml", specs)
    assert sorted(functions) == ["fromfile", "fromflag", "x"]
    flagged = functions.get("x")
    assert flagged is not None
    assert flagged.target == f"{handlers}:echo"
    registry = _registry(functions)
    assert run_sync(_task(ARN + "fromfile"), 2, adapters=registry).output == 2
    assert run_sync(_task(ARN + "fromflag"), 2, adapters=registry).output == {"async": 2}


@pytest.mark.parametrize(
    "text", ['[lambda\nx = "y"', "lambda = 3\n", "[lambda]\nx = 3\n", '[lambda]\nx = "bad"\n']
)
def test_bad_config_files(tmp_path: Path, text: str) -> None:
    (tmp_path / "asl.toml").write_text(text)
    with pytest.raises(LocalFunctionError):
        LocalFunctions.from_config(tmp_path / "asl.toml")


def test_other_function_names_fall_through(handlers: Path) -> None:
    registry = AdapterRegistry()
    registry.register(r"lambda:invoke$", FunctionAdapter(lambda params: "from boto3"))
    _functions(handlers, echo="echo").register(registry)
    assert run_sync(_invoke("echo"), 5, adapters=registry).output["Payload"] == 5
    assert run_sync(_invoke("elsewhere"), 5, adapters=registry).output == "from boto3"
    # Legacy ARNs of other names are not claimed either.
    with pytest.raises(UnservedTask, match="No adapter"):
        registry.resolve("T", _parse(ARN + "elsewhere"))


def test_other_function_names_without_fallback_fail(handlers: Path) -> None:
    registry = _registry(_functions(handlers, echo="echo"))
    result = run_sync(_invoke("elsewhere"), 5, adapters=registry)
    assert result.error == "States.Runtime"
    assert "elsewhere" in (result.cause or "")


def test_wait_for_task_token_through_the_callback_adapter(tmp_path: Path) -> None:
    callbacks = CallbackRegistry()

    def handler(event: Any, context: LambdaContext) -> str:
        # A fast function: answers its own token before Invoke has even returned.
        callbacks.send_task_success(event["token"], json.dumps({"by": context.function_name}))
        return "accepted"

    async def elsewhere(call: TaskCall) -> Any:
        return "sent to boto3"

    functions = LocalFunctions()
    functions.add("fast", handler)
    registry = AdapterRegistry()
    registry.register(INVOKE_TOKEN_ARN, WaitForToken(functions.submitter(elsewhere), callbacks))
    machine = _task(
        INVOKE + ".waitForTaskToken",
        Parameters={"FunctionName": "fast", "Payload": {"token.$": "$$.Task.Token"}},
    )
    result = run_sync(machine, {}, adapters=registry)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"by": "fast"}
    submitted = [e for e in result.history_json() if e["type"] == "TaskSubmitted"]
    assert len(submitted) == 1
    assert json.loads(submitted[0]["taskSubmittedEventDetails"]["output"])["Payload"] == "accepted"


def test_submitter_hands_other_names_to_its_fallback() -> None:
    async def elsewhere(call: TaskCall) -> Any:
        return "sent to boto3"

    functions = LocalFunctions()
    functions.add("fast", lambda event, context: event)
    call = TaskCall(_parse(INVOKE + ".waitForTaskToken"), {"FunctionName": "other"}, "T", {})
    assert anyio.run(functions.submitter(elsewhere), call) == "sent to boto3"
    with pytest.raises(UnservedTask, match="other"):
        anyio.run(functions.submitter(), call)


def _parse(arn: str) -> Any:
    from runtime.adapters.base import parse_resource

    return parse_resource(arn)
