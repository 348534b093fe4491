"""Routing Task resources to local handlers: :class:`LocalFunctions`.

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
import itertools
import re
import tomllib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runtime.adapters.base import Adapter, AdapterRegistry, TaskCall, parse_resource
from runtime.adapters.lambda_ import (
    INVOKE_ARN,
    decode_payload,
    encode_payload,
    function_failure,
    invoke_envelope,
    parse_function_name,
)
from runtime.adapters.local_lambda.handlers import LoadFailure, LocalFunction, LocalFunctionError
from runtime.adapters.local_lambda.lambda_runtime import (
    DEFAULT_TIMEOUT_SECONDS,
    Handler,
    LambdaContext,
    error_body,
    run_handler,
)
from runtime.engine.clock import RealClock
from runtime.engine.errors import UnservedTask

__all__ = ["LocalFunctions"]

_DEFAULT_ACCOUNT = "123456789012"
_REQUEST_IDS = uuid.UUID("6f1c3c52-3f47-4b5e-9c3e-0d1b6c6a9a51")
#: A ``.waitForTaskToken`` submit step (runtime.adapters.callback.Submit).
Submit = Callable[[TaskCall], Awaitable[Any]]


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
            except LoadFailure as exc:
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
        other, source = (fallback, "adapter") if fallback else _current(registry, INVOKE_PROBE)
        registry.register(INVOKE_ARN, _LocalAdapter(self, other, source))

    def submitter(self, fallback: Submit | None = None) -> Submit:
        """The ``.waitForTaskToken`` submit step: local for these names, else ``fallback``.

        Wire it as ``WaitForToken(functions.submitter(boto3_lambda.submit), callbacks)``.
        """
        adapter = _LocalAdapter(self, None if fallback is None else _SubmitAdapter(fallback), "AWS")
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
        except LoadFailure as exc:
            return context, error_body(exc.error_type, exc.message, "", []), True
        body, failed = await run_handler(handler, event, context)
        return context, body, failed


#: A lambda:invoke ARN, to find the adapter that served lambda:invoke before local functions.
INVOKE_PROBE = "arn:aws:states:::lambda:invoke"


def _current(registry: AdapterRegistry, arn: str) -> tuple[Adapter | None, str]:
    try:
        return registry.route("", parse_resource(arn))
    except UnservedTask:
        return None, ""


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
    #: Where ``fallback``'s answers come from (runtime.adapters.base.SOURCES).
    fallback_source: str = ""

    def source_for(self, call: TaskCall) -> str:
        """The source: "local function" for a configured name, else the fallback's.

        Raises UnservedTask naming the state when neither serves the FunctionName.
        """
        if call.resource.kind == "function":
            return "local function"
        params = call.parameters if isinstance(call.parameters, Mapping) else {}
        if self.functions.get(params.get("FunctionName")) is not None:
            return "local function"
        if self.fallback is None:
            raise UnservedTask(
                f"No local function or Lambda adapter serves the FunctionName "
                f"{params.get('FunctionName')!r} of the state '{call.state_name}' "
                f"(local functions: {', '.join(sorted(self.functions)) or 'none'})."
            )
        return self.fallback_source

    async def invoke(self, call: TaskCall) -> Any:
        if call.resource.kind == "function":
            return await self._legacy(call)
        params = call.parameters if isinstance(call.parameters, Mapping) else {}
        if self.functions.get(params.get("FunctionName")) is None:
            self.source_for(call)  # raises when nothing serves the name
            assert self.fallback is not None
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
