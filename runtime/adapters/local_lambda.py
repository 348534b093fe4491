"""Local Python handlers standing in for Lambda functions.

A function name maps to a handler target: ``"package.module:function"``,
``"path/to/file.py:handler"`` or a Python callable. The handler is called with Lambda's
``(event, context)`` contract and answers as Lambda's Python runtime would: its return
value is marshalled to JSON (``Runtime.MarshalError`` if it cannot be), an exception
becomes a function error ``{"errorMessage", "errorType", "requestId", "stackTrace"}``,
and an import failure ``Runtime.ImportModuleError`` / ``Runtime.HandlerNotFound``.

Both resource forms work, with the same results, errors and envelope as
:mod:`runtime.adapters.lambda_` (the envelope code is shared, not copied).

Routing: a legacy ARN names its function, so :meth:`LocalFunctions.register` adds a
pattern matching exactly the configured names. A lambda:invoke ARN does not: the name is in
the FunctionName parameter, known only at call time. So lambda:invoke gets a dispatcher
that runs local functions and hands every other call to the adapter that was registered
for lambda:invoke before it (normally the boto3 one), or to ``fallback``. For
``.waitForTaskToken`` the same dispatch happens one level down, on the submit step
(:meth:`LocalFunctions.submitter`), so the callback adapter's wait stays in one place.
"""

from __future__ import annotations

import email.utils
import importlib
import importlib.util
import inspect
import itertools
import json
import re
import sys
import tomllib
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio.to_thread

from asl.errors import ASLError
from runtime.adapters.base import Adapter, AdapterRegistry, TaskCall, parse_resource
from runtime.adapters.lambda_ import (
    INVOKE_ARN,
    decode_payload,
    encode_payload,
    function_failure,
    invoke_envelope,
    parse_function_name,
)
from runtime.clock import Clock, RealClock
from runtime.errors import TaskFailure

__all__ = ["LambdaContext", "LocalFunction", "LocalFunctionError", "LocalFunctions"]

#: Lambda's maximum timeout; the deadline of a handler whose Task has no TimeoutSeconds.
DEFAULT_TIMEOUT_SECONDS = 900
#: Lambda's default memory size; the Python runtime exposes it as a string.
MEMORY_LIMIT_IN_MB = "128"
_DEFAULT_ACCOUNT = "123456789012"
_REQUEST_IDS = uuid.UUID("6f1c3c52-3f47-4b5e-9c3e-0d1b6c6a9a51")


class LocalFunctionError(ASLError):
    """Raised when a handler target or config file is malformed, or a handler cannot load."""


@dataclass(frozen=True, slots=True)
class LambdaContext:
    """The ``context`` argument of a Lambda Python handler."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    #: Epoch seconds when the invocation times out.
    deadline: float
    clock: Clock = field(repr=False)
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = MEMORY_LIMIT_IN_MB
    client_context: Any = None
    identity: Any = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the task's TimeoutSeconds, on the execution clock."""
        return max(0, int((self.deadline - self.clock.now()) * 1000))


Handler = Callable[[Any, LambdaContext], Any]
#: A ``.waitForTaskToken`` submit step (runtime.adapters.callback.Submit).
Submit = Callable[[TaskCall], Awaitable[Any]]


class _LoadFailure(Exception):
    """A handler that cannot be loaded, as Lambda's Python runtime reports it at init."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class LocalFunction:
    """One local function: its name and handler target, imported at first use."""

    def __init__(self, name: str, target: str | Handler, base_dir: Path | None = None) -> None:
        self.name = name
        self.target = target
        self.base_dir = base_dir
        self._handler: Handler | None = None if isinstance(target, str) else target
        if isinstance(target, str):
            _split_target(target)  # fail early on a malformed target

    def handler(self) -> Handler:
        """The handler callable; raises ``_LoadFailure`` as Lambda's init phase would."""
        if self._handler is None:
            assert isinstance(self.target, str)
            self._handler = _load(self.target, self.base_dir)
        return self._handler


def _split_target(target: str) -> tuple[str, str]:
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr.isidentifier():
        raise LocalFunctionError(
            f"handler target {target!r}: expected 'module:function' or 'path/to/file.py:handler'"
        )
    return where, attr


def _is_file(where: str) -> bool:
    return where.endswith(".py") or "/" in where or "\\" in where


def _load(target: str, base_dir: Path | None) -> Handler:
    where, attr = _split_target(target)
    module_name = Path(where).stem if _is_file(where) else where
    try:
        module = (
            _import_file(where, base_dir) if _is_file(where) else importlib.import_module(where)
        )
    except SyntaxError as exc:
        raise _LoadFailure(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from exc
    except Exception as exc:
        raise _LoadFailure(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise _LoadFailure(
            "Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'"
        )
    return handler  # type: ignore[no-any-return]


def _import_file(where: str, base_dir: Path | None) -> Any:
    path = Path(where)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    path = path.resolve()
    if not path.is_file():
        raise ModuleNotFoundError(f"No module named '{path.stem}' ({path} does not exist)")
    # Like /var/task on Lambda, the handler's folder is importable for its siblings.
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    name = f"_asl_local_lambda_{path.stem}_{abs(hash(str(path))):x}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


# -- running a handler as Lambda's Python runtime does ---------------------------------


def _json_default(value: Any) -> Any:
    # The Python runtime's encoder turns Decimal into a number (boto3's DynamoDB values).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _error_body(error_type: str, message: str, request_id: str, trace: list[str]) -> bytes:
    # Python's default separators, as the runtime writes it (recorded causes of
    # ``task_lambda.raise_exception``: '{"errorMessage": "...", "errorType": ...}').
    body = {"errorMessage": message, "errorType": error_type, "requestId": request_id}
    return json.dumps({**body, "stackTrace": trace}).encode("utf-8")


def _exception_body(exc: BaseException, request_id: str) -> bytes:
    # The handler's own frames only, as the runtime drops its bootstrap frames.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    trace = traceback.format_list(frames)
    return _error_body(type(exc).__name__, str(exc), request_id, trace)


def _marshal(result: Any, request_id: str) -> tuple[bytes, bool]:
    try:
        return json.dumps(result, default=_json_default).encode("utf-8"), False
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        return _error_body("Runtime.MarshalError", message, request_id, []), True


def _call_sync(handler: Handler, event: Any, context: LambdaContext) -> tuple[bytes, bool]:
    try:
        result = handler(event, context)
    except TaskFailure:
        raise  # the handler names its own error and cause (library use, not Lambda's)
    except Exception as exc:
        return _exception_body(exc, context.aws_request_id), True
    return _marshal(result, context.aws_request_id)


async def _call_async(handler: Handler, event: Any, context: LambdaContext) -> tuple[bytes, bool]:
    try:
        result = await handler(event, context)
    except TaskFailure:
        raise  # the handler names its own error and cause (library use, not Lambda's)
    except Exception as exc:
        return _exception_body(exc, context.aws_request_id), True
    return _marshal(result, context.aws_request_id)


async def _run_handler(handler: Handler, event: Any, context: LambdaContext) -> tuple[bytes, bool]:
    """(response body, is a function error).

    Coroutine handlers run on the event loop and may wait on the execution clock
    themselves; a plain function runs in a worker thread, and the clock does not move
    while it does.
    """
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__):
        return await _call_async(handler, event, context)
    with context.clock.busy():
        return await anyio.to_thread.run_sync(
            _call_sync, handler, event, context, abandon_on_cancel=True
        )


# -- the registry ------------------------------------------------------------------------


class LocalFunctions:
    """Local handlers by function name; :meth:`register` makes them Task resources."""

    def __init__(self) -> None:
        self._functions: dict[str, LocalFunction] = {}
        self._invocations = itertools.count()

    def add(self, name: str, target: str | Handler, *, base_dir: Path | None = None) -> None:
        """Serve the function ``name`` (a name or an ARN) with ``target``.

        ``base_dir`` resolves a relative ``file.py`` target (default: the working folder).
        """
        ref = parse_function_name(name)
        if ref is None:
            raise LocalFunctionError(f"{name!r} is not a Lambda function name or ARN")
        self._functions[ref.name] = LocalFunction(ref.name, target, base_dir)

    def add_spec(self, spec: str, *, base_dir: Path | None = None) -> None:
        """Add from ``NAME=TARGET`` text (the CLI's ``--lambda`` value)."""
        name, sep, target = spec.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise LocalFunctionError(f"--lambda {spec!r}: expected NAME=TARGET")
        self.add(name.strip(), target.strip(), base_dir=base_dir)

    def read_config(self, path: str | Path) -> LocalFunctions:
        """Add the ``[lambda]`` table of a TOML project file (``name = "target"``).

        Relative file targets are relative to the config file's folder.
        """
        path = Path(path)
        try:
            config = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise LocalFunctionError(f"{path}: {exc}") from exc
        table = config.get("lambda", {})
        if not isinstance(table, dict):
            raise LocalFunctionError(f'{path}: [lambda] must be a table of name = "target"')
        for name, target in table.items():
            if not isinstance(target, str):
                raise LocalFunctionError(f"{path}: lambda.{name} must be a string target")
            self.add(name, target, base_dir=path.parent)
        return self

    @classmethod
    def from_config(cls, path: str | Path) -> LocalFunctions:
        """The functions of a TOML project file (see :meth:`read_config`)."""
        return cls().read_config(path)

    @classmethod
    def from_options(cls, config: str | Path | None, specs: Iterable[str]) -> LocalFunctions:
        """The CLI's ``--config asl.toml`` then its ``--lambda NAME=TARGET`` flags (which win)."""
        functions = cls() if config is None else cls.from_config(config)
        for spec in specs:
            functions.add_spec(spec)
        return functions

    def __iter__(self) -> Iterator[str]:
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)

    def get(self, function_name: Any) -> LocalFunction | None:
        """The local function a FunctionName (name, partial ARN or ARN) refers to."""
        ref = parse_function_name(function_name)
        return self._functions.get(ref.name) if ref is not None else None

    def load_all(self) -> None:
        """Import every handler now; raises LocalFunctionError naming the first failure."""
        for function in self._functions.values():
            try:
                function.handler()
            except _LoadFailure as exc:
                raise LocalFunctionError(f"lambda {function.name}: {exc.message}") from exc

    def register(self, registry: AdapterRegistry, *, fallback: Adapter | None = None) -> None:
        """Route the configured functions here; call after adding them.

        Legacy ARNs of these names come here. lambda:invoke calls come to a dispatcher:
        a configured FunctionName runs locally, any other goes to ``fallback``, by default
        the adapter the registry had for lambda:invoke (register the boto3 Lambda adapter
        first). Without one, other names fail with States.Runtime.
        """
        if self._functions:
            names = "|".join(re.escape(name) for name in sorted(self._functions))
            legacy = rf"^arn:[^:]+:lambda:[^:]*:[^:]*:function:(?:{names})(?::[^:]+)?$"
            registry.register(legacy, _LocalAdapter(self, None))
        other = fallback or _current(registry, "arn:aws:states:::lambda:invoke")
        registry.register(INVOKE_ARN, _LocalAdapter(self, other))

    def submitter(self, fallback: Submit | None = None) -> Submit:
        """The ``.waitForTaskToken`` submit step: local for these names, else ``fallback``.

        Wire it as ``WaitForToken(functions.submitter(boto3_lambda.submit), callbacks)``.
        """
        adapter = _LocalAdapter(self, None if fallback is None else _SubmitAdapter(fallback))
        return adapter.invoke

    # -- one invocation -------------------------------------------------------------------

    def new_context(self, call: TaskCall, name: str, arn: str) -> LambdaContext:
        """The context of one invocation, with a request id unique in this process."""
        clock = call.clock if call.clock is not None else RealClock()
        now = clock.now()
        execution = str((call.context.get("Execution") or {}).get("Id", ""))
        seed = f"{execution}/{call.state_name}/{call.attempt}/{next(self._invocations)}"
        request_id = str(uuid.uuid5(_REQUEST_IDS, seed))
        day = datetime.fromtimestamp(now, UTC).strftime("%Y/%m/%d")
        return LambdaContext(
            function_name=name,
            invoked_function_arn=arn,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name=f"{day}/[$LATEST]{request_id.replace('-', '')}",
            deadline=now + (call.timeout_seconds or DEFAULT_TIMEOUT_SECONDS),
            clock=clock,
        )

    async def run(
        self, function: LocalFunction, call: TaskCall, payload: Any, arn: str
    ) -> tuple[LambdaContext, bytes, bool]:
        """Run ``function`` on ``payload``: (context, response body, is a function error)."""
        context = self.new_context(call, function.name, arn)
        event = decode_payload(encode_payload(payload))
        try:
            handler = function.handler()
        except _LoadFailure as exc:
            return context, _error_body(exc.error_type, exc.message, "", []), True
        body, failed = await _run_handler(handler, event, context)
        return context, body, failed


def _current(registry: AdapterRegistry, arn: str) -> Adapter | None:
    try:
        return registry.resolve("", parse_resource(arn))
    except TaskFailure:
        return None


def _arn_for(call: TaskCall, function_name: str) -> str:
    """The ARN Lambda would report as invoked_function_arn for a FunctionName."""
    ref = parse_function_name(function_name)
    assert ref is not None
    if function_name.startswith("arn:"):
        return function_name
    execution = str((call.context.get("Execution") or {}).get("Id", ""))
    parts = execution.split(":")
    region = parts[3] if len(parts) > 4 and parts[3] else call.resource.region
    account = ref.account or (parts[4] if len(parts) > 4 and parts[4] else _DEFAULT_ACCOUNT)
    arn = f"arn:aws:lambda:{region}:{account}:function:{ref.name}"
    return f"{arn}:{ref.qualifier}" if ref.qualifier else arn


def _headers(context: LambdaContext, body: bytes, *, synchronous: bool) -> dict[str, str]:
    """The response headers Lambda sends (recorded ``base_scenarios.lambda_service_invoke``)."""
    now = context.clock.now()
    headers = {"X-Amz-Executed-Version": "$LATEST"} if synchronous else {}
    headers |= {
        "x-amzn-Remapped-Content-Length": "0",
        "Connection": "keep-alive",
        "x-amzn-RequestId": context.aws_request_id,
        "Content-Length": str(len(body)),
        "Date": email.utils.formatdate(now, usegmt=True),
        "X-Amzn-Trace-Id": f"Root=1-{int(now):08x}-{context.aws_request_id[-24:]};Sampled=0",
        "Content-Type": "application/json",
    }
    return headers


@dataclass(frozen=True, slots=True)
class _SubmitAdapter:
    """A submit step seen as an adapter."""

    submit: Submit

    async def invoke(self, call: TaskCall) -> Any:
        return await self.submit(call)


@dataclass(frozen=True, slots=True)
class _LocalAdapter:
    """Runs Task states on local functions; other lambda:invoke names go to ``fallback``."""

    functions: LocalFunctions
    fallback: Adapter | None

    async def invoke(self, call: TaskCall) -> Any:
        if call.resource.kind == "function":
            return await self._legacy(call)
        params = call.parameters if isinstance(call.parameters, Mapping) else {}
        if self.functions.get(params.get("FunctionName")) is None:
            if self.fallback is None:
                raise TaskFailure(
                    "States.Runtime",
                    f"No local function or Lambda adapter serves the FunctionName "
                    f"{params.get('FunctionName')!r} of the state '{call.state_name}'.",
                )
            return await self.fallback.invoke(call)
        return await self._invoke(call, params)

    async def _legacy(self, call: TaskCall) -> Any:
        function = self.functions.get(call.resource.arn)
        assert function is not None  # the registered pattern lists only configured names
        arn = call.resource.arn
        _, body, failed = await self.functions.run(function, call, call.parameters, arn)
        if failed:
            raise function_failure(body.decode("utf-8"), legacy=True)
        return decode_payload(body)

    async def _invoke(self, call: TaskCall, params: Mapping[str, Any]) -> Any:
        name = str(params["FunctionName"])
        function = self.functions.get(name)
        assert function is not None
        kind = params.get("InvocationType", "RequestResponse")
        arn = _arn_for(call, name)
        if kind == "DryRun":  # Lambda checks the request and runs nothing: 204, no body
            return self._envelope(self.functions.new_context(call, name, arn), b"", 204)
        context, body, failed = await self.functions.run(function, call, params.get("Payload"), arn)
        if kind == "Event":  # queued: 202, no body; errors never reach the caller
            return self._envelope(context, b"", 202)
        if failed:
            raise function_failure(body.decode("utf-8"), legacy=False)
        return self._envelope(context, body, 200)

    @staticmethod
    def _envelope(context: LambdaContext, body: bytes, status: int) -> Any:
        return invoke_envelope(
            payload=decode_payload(body),
            status_code=status,
            headers=_headers(context, body, synchronous=status == 200),
            http_status=status,
            request_id=context.aws_request_id,
            executed_version="$LATEST" if status == 200 else None,
        )
