"""TestState: one state run offline, as :mod:`runtime.testing.teststate` runs it.

A Task without a ``mock`` calls its service as an API execution's tasks do (through
boto3, with the server's credentials); with one, nothing is called.
"""

from __future__ import annotations

import json
from typing import Any

from runtime.server.api.backend import Backend
from runtime.server.api.errors import (
    InvalidDefinition,
    InvalidExecutionInput,
    StepFunctionsApiError,
    ValidationException,
)
from runtime.server.api.executions import launch_options
from runtime.server.api.protocol import flag, one_of, optional, required

__all__ = ["OPERATIONS"]

_ERRORS: dict[str, type[StepFunctionsApiError]] = {
    "InvalidDefinition": InvalidDefinition,
    "ValidationException": ValidationException,
}


def _json(body: dict[str, Any], name: str, error: type[StepFunctionsApiError]) -> Any:
    text = optional(body, name)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise error(f"Invalid '{name}': {exc}") from None


async def test_state(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """TestState (``definition``, ``stateName``, ``input``, ``variables``, ``context``,
    ``mock``, ``stateConfiguration``, ``inspectionLevel``, ``revealSecrets``)."""
    from runtime.durable.launch import services_from
    from runtime.testing.teststate import StateTestError, run_test_state
    from runtime.testing.teststate_mocks import configuration_from

    required(body, "definition")
    definition = _json(body, "definition", InvalidDefinition)
    if not isinstance(definition, dict):
        raise InvalidDefinition("Invalid State Machine Definition: 'not a JSON object'")
    payload = _json(body, "input", InvalidExecutionInput)
    variables = _json(body, "variables", ValidationException)
    if variables is not None and not isinstance(variables, dict):
        raise ValidationException("'variables' must be a JSON object")
    context = _json(body, "context", ValidationException)
    level = one_of(body, "inspectionLevel", ("INFO", "DEBUG", "TRACE")) or "INFO"
    mock = body.get("mock")
    if mock is not None and not isinstance(mock, dict):
        raise ValidationException("'mock' must be an object")
    services = None
    if not mock:
        options = launch_options(b, None)
        services = services_from(options, callbacks=b.callbacks, activities=b.activities)
    try:
        result = await run_test_state(
            definition,
            {} if payload is None else payload,
            state_name=optional(body, "stateName"),
            variables=variables,
            mock=mock,
            configuration=configuration_from(body.get("stateConfiguration")),
            context=context,
            reveal_secrets=flag(body, "revealSecrets", False),
            services=services,
        )
    except StateTestError as exc:
        raise _ERRORS.get(exc.code, ValidationException)(exc.message) from None
    return result.to_aws(level)


OPERATIONS = {"TestState": test_state}
