"""Imitating Lambda's Python runtime: the ``context`` a handler gets, and how its result
or exception becomes the invocation's response body.

A handler's return value is marshalled to JSON (``Runtime.MarshalError`` if it cannot
be); an exception becomes a function error ``{"errorMessage", "errorType", "requestId",
"stackTrace"}`` with the handler's own frames only.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import anyio.to_thread

from runtime.engine.clock import Clock
from runtime.engine.errors import TaskFailure

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "Handler", "LambdaContext", "error_body", "run_handler"]

#: Lambda's maximum timeout; the deadline of a handler whose Task has no TimeoutSeconds.
DEFAULT_TIMEOUT_SECONDS = 900
#: Lambda's default memory size; the Python runtime exposes it as a string.
MEMORY_LIMIT_IN_MB = "128"


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


def _json_default(value: Any) -> Any:
    # The Python runtime's encoder turns Decimal into a number (boto3's DynamoDB values).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def error_body(error_type: str, message: str, request_id: str, trace: list[str]) -> bytes:
    # Python's default separators, as the runtime writes it (recorded causes of
    # ``task_lambda.raise_exception``: '{"errorMessage": "...", "errorType": ...}').
    body = {"errorMessage": message, "errorType": error_type, "requestId": request_id}
    return json.dumps({**body, "stackTrace": trace}).encode("utf-8")


def _exception_body(exc: BaseException, request_id: str) -> bytes:
    # The handler's own frames only, as the runtime drops its bootstrap frames.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    trace = traceback.format_list(frames)
    return error_body(type(exc).__name__, str(exc), request_id, trace)


def _marshal(result: Any, request_id: str) -> tuple[bytes, bool]:
    try:
        # NaN and Infinity are not JSON: Step Functions could never read such a payload.
        text = json.dumps(result, default=_json_default, allow_nan=False)
        return text.encode("utf-8"), False
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        return error_body("Runtime.MarshalError", message, request_id, []), True


def _exit_body(exc: SystemExit, request_id: str) -> bytes:
    # Lambda's runtime process ends with the handler; the service reports it this way.
    code = exc.code
    status = 0 if code is None else code if isinstance(code, int) else 1
    reason = (
        "Runtime exited without providing a reason"
        if status == 0
        else f"Runtime exited with error: exit status {status}"
    )
    # The service writes this error, not the runtime: no requestId or stackTrace fields.
    message = f"RequestId: {request_id} Error: {reason}"
    return json.dumps({"errorMessage": message, "errorType": "Runtime.ExitError"}).encode()


def _call_sync(handler: Handler, event: Any, context: LambdaContext) -> tuple[bytes, bool]:
    try:
        result = handler(event, context)
    except TaskFailure:
        raise  # the handler names its own error and cause (library use, not Lambda's)
    except SystemExit as exc:
        return _exit_body(exc, context.aws_request_id), True
    except Exception as exc:
        return _exception_body(exc, context.aws_request_id), True
    return _marshal(result, context.aws_request_id)


async def _call_async(handler: Handler, event: Any, context: LambdaContext) -> tuple[bytes, bool]:
    try:
        result = await handler(event, context)
    except TaskFailure:
        raise  # the handler names its own error and cause (library use, not Lambda's)
    except SystemExit as exc:
        return _exit_body(exc, context.aws_request_id), True
    except Exception as exc:
        return _exception_body(exc, context.aws_request_id), True
    return _marshal(result, context.aws_request_id)


async def run_handler(handler: Handler, event: Any, context: LambdaContext) -> tuple[bytes, bool]:
    """(response body, is a function error).

    Coroutine handlers run on the event loop and may wait on the execution clock
    themselves; a plain function runs in a daemon thread of its own, and the clock does
    not move while it does. A handler still running when its task is cancelled (timed
    out, execution stopped) is abandoned, as Lambda abandons a timed-out invocation: its
    thread never keeps the process alive once the execution has ended.
    """
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__):
        return await _call_async(handler, event, context)
    async with anyio.to_thread.current_default_thread_limiter():
        with context.clock.busy():
            return await _in_daemon_thread(handler, event, context)


async def _in_daemon_thread(
    handler: Handler, event: Any, context: LambdaContext
) -> tuple[bytes, bool]:
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[tuple[bytes, bool]] = loop.create_future()

    def settle(result: tuple[bytes, bool] | None, error: BaseException | None) -> None:
        if answer.done():
            return
        if error is not None:
            answer.set_exception(error)
        else:
            assert result is not None
            answer.set_result(result)

    def work() -> None:
        result: tuple[bytes, bool] | None = None
        error: BaseException | None = None
        try:
            result = _call_sync(handler, event, context)
        except BaseException as exc:  # TaskFailure, or what the loop must re-raise
            error = exc
        # A closed event loop raises RuntimeError: nobody waits for this answer any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name=f"lambda:{context.function_name}", daemon=True).start()
    return await answer
