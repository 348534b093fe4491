"""The ``.waitForTaskToken`` integration pattern, for any service adapter.

AWS (DG connect-to-resource, "Wait for a Callback with Task Token"): the task calls the
service with the token that the definition placed in its Parameters (``$$.Task.Token``),
writes ``TaskSubmitted`` with the service's response, then pauses until SendTaskSuccess
or SendTaskFailure names the token. The task's result is the SendTaskSuccess ``output``;
a SendTaskFailure fails the task with its ``error`` and ``cause`` (retriable, catchable:
recorded case ``base_callbacks.sqs_wait_for_task_token_task_failure``).

:class:`WaitForToken` wraps a service's submit coroutine (SQS SendMessage, SNS Publish,
Lambda Invoke...). :func:`register` installs a catch-all for ``.waitForTaskToken``
resources that calls no service at all: the token is only opened, for a test (or a user
with ``asl`` and a boto3 client on the local endpoint) to answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.callbacks.registry import CallbackRegistry
from runtime.engine.errors import TaskFailure

__all__ = ["CALLBACK_PATTERN", "Submit", "WaitForToken", "register"]

#: Matches every ``.waitForTaskToken`` service integration ARN.
CALLBACK_PATTERN = r"^arn:[^:]+:states:::.+\.waitForTaskToken$"

#: Sends the request that carries the token; returns the service's response.
Submit = Callable[[TaskCall], Awaitable[Any]]


async def no_service(call: TaskCall) -> Any:
    """A submit step that calls nothing: the token is only opened for someone to answer."""
    return None


@dataclass(frozen=True, slots=True)
class WaitForToken:
    """A ``.waitForTaskToken`` adapter: ``submit``, write TaskSubmitted, wait for the token.

    The token is opened *before* ``submit`` runs, so an answer that arrives while the
    service call is still returning (a fast Lambda) is not lost.
    """

    submit: Submit
    callbacks: CallbackRegistry

    async def invoke(self, call: TaskCall) -> Any:
        """The SendTaskSuccess output; TaskFailure for SendTaskFailure or a failed submit.

        Cancellation (TimeoutSeconds, HeartbeatSeconds, execution stopped) closes the
        token: a later answer gets TaskTimedOut.
        """
        token = call.task_token
        if token is None:
            raise TaskFailure("States.Runtime", "The task has no task token to wait for.")
        with self.callbacks.expect(token, heartbeat=lambda: call.heartbeat()) as pending:
            response = await self.submit(call)
            call.on_submitted(response)
            return await pending.wait(call.clock)

    def source_for(self, call: TaskCall) -> str | None:
        """The source of the submit step's owner when it depends on the call (a local
        function or the Lambda service); None keeps the route's own."""
        owner = getattr(self.submit, "__self__", None)
        source_for = getattr(owner, "source_for", None)
        return source_for(call) if source_for is not None else None

    async def resume(self, call: TaskCall, submitted: Any) -> Any:
        """A callback submitted before a restart (runtime.engine.replay): wait for its token again.

        The token derives from the execution, state visit and attempt, so it is the one the
        service was given; the request is not sent twice.
        """
        token = call.task_token
        if token is None:
            raise TaskFailure("States.Runtime", "The task has no task token to wait for.")
        with self.callbacks.expect(token, heartbeat=lambda: call.heartbeat()) as pending:
            return await pending.wait(call.clock)


def register(registry: AdapterRegistry, callbacks: CallbackRegistry) -> None:
    """Answer every ``.waitForTaskToken`` resource by opening its token (no service call).

    Register this before the service modules: a later registration for a specific
    service's callback ARN wins over it.
    """
    registry.register(CALLBACK_PATTERN, WaitForToken(no_service, callbacks))
