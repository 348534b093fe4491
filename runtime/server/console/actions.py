"""The console's actions: start, stop and redrive executions, answer waiting tasks.

Only ``asl serve --ui`` has them: it hands :func:`console_routes` the API server's own
operations (:data:`runtime.server.api.app.OPERATIONS` on its backend), so an action from
the console is exactly the API call a client would make, with the same checks and the
same errors. ``asl ui`` is a read-only view of a store another process may own; its
console shows no buttons and answers every action with 403. So does ``asl serve --ui
--secret``: its API needs SigV4 signatures, which a page cannot make.

A page on ``127.0.0.1`` is reachable from any site the browser visits, so a ``POST``
must prove it came from the console's own page (cross-site request forgery):

- its ``x-console-token`` header carries the token the console wrote into its pages
  (random per server; another site cannot read the console's pages, and a plain form
  cannot set a header);
- its body is ``application/json`` (a cross-site ``fetch`` with that type needs a CORS
  preflight the console never grants);
- its ``Origin``, when the browser sends one, is the console's own, and
  ``Sec-Fetch-Site``, when sent, is ``same-origin``.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from runtime.callbacks.registry import StepFunctionsApiError
from runtime.server.guard import status_of

__all__ = ["ACTIONS", "MAX_ACTION_BYTES", "Actions", "Call", "refuse_read_only"]

#: The API operations the console may call, each with the members it may pass.
ACTIONS: dict[str, tuple[str, ...]] = {
    "StartExecution": ("stateMachineArn", "name", "input"),
    "StopExecution": ("executionArn", "error", "cause"),
    "RedriveExecution": ("executionArn",),
    "SendTaskSuccess": ("taskToken", "output"),
    "SendTaskFailure": ("taskToken", "error", "cause"),
}

#: An action's body at most (the API's own limit on a request is 1 MiB).
MAX_ACTION_BYTES = 1 << 20

#: Calls the API operation named by the first argument with the body.
Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"__type": code, "message": message}, status)


def refuse_read_only() -> JSONResponse:
    """What ``asl ui`` answers to an action."""
    return _refusal(
        403,
        "ReadOnlyConsole",
        "This console is read-only (asl ui, or asl serve --ui --secret, whose API needs "
        "signatures a page cannot make): run asl serve --ui to start, stop or redrive "
        "executions from the browser.",
    )


@dataclass(slots=True)
class Actions:
    """The console's door to the API operations, with its anti-forgery token."""

    call: Call
    #: Written into each page; required in the ``x-console-token`` header of a POST.
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    #: Answers a waiting task: the token of (execution ARN, entered event id, attempt).
    task_token: Callable[[str, int, int], str] | None = None

    def forged(self, request: Request) -> str | None:
        """Why ``request`` is not from the console's own page, or None."""
        sent = request.headers.get("x-console-token", "")
        if not hmac.compare_digest(sent.encode(), self.token.encode()):
            return "the x-console-token header is missing or wrong: reload the console page"
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            return f"the body must be application/json, not {kind or 'untyped'}"
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin is not None and origin != f"{request.url.scheme}://{host}":
            return f"the request comes from {origin}, not from this console"
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return f"the request comes from a {site} page, not from this console"
        return None

    async def answer(self, request: Request) -> JSONResponse:
        """``POST /actions/<Operation>``: the API's answer, or why it was refused."""
        operation = request.path_params["operation"]
        allowed = ACTIONS.get(operation)
        if allowed is None:
            return _refusal(404, "UnknownAction", f"The console has no action {operation[:100]}.")
        why = self.forged(request)
        if why is not None:
            return _refusal(403, "ForbiddenRequest", f"Refused {operation}: {why}.")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():  # stop reading at the limit, not after
            size += len(chunk)
            if size > MAX_ACTION_BYTES:
                return _refusal(
                    413, "RequestTooLarge", f"The body is over {MAX_ACTION_BYTES} bytes."
                )
            chunks.append(chunk)
        raw = b"".join(chunks)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return _refusal(400, "SerializationException", f"The body is not JSON: {exc}.")
        if not isinstance(body, dict):
            return _refusal(400, "SerializationException", "The body is not a JSON object.")
        try:
            body = self._task(operation, body)
        except ValueError as exc:
            return _refusal(400, "ValidationException", str(exc))
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            return _refusal(
                400, "ValidationException", f"{operation} takes no {', '.join(unknown)[:200]}."
            )
        try:
            result = await self.call(operation, body)
        except StepFunctionsApiError as exc:
            return JSONResponse({"__type": exc.code, "message": exc.message}, status_of(exc))
        return JSONResponse(result)

    def _task(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """A SendTask* body naming the task by execution, entered event and attempt gets
        its token here: the pages never hold a token."""
        if not operation.startswith("SendTask") or "taskToken" in body:
            return body
        rest = dict(body)
        arn, entered, attempt = (rest.pop(k, None) for k in ("executionArn", "entered", "attempt"))
        if not isinstance(arn, str) or type(entered) is not int or type(attempt) is not int:
            raise ValueError(
                f"{operation} needs taskToken, or executionArn (text), entered and "
                "attempt (integers)."
            )
        if self.task_token is None:
            raise ValueError("This console cannot make task tokens.")
        rest["taskToken"] = self.task_token(arn, entered, attempt)
        return rest
