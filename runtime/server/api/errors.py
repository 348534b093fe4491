"""The Step Functions API's errors, by AWS's names (botocore's ``stepfunctions`` model).

Each becomes ``{"__type": "<code>", "message": ...}`` with HTTP 400, which botocore turns
into ``client.exceptions.<code>``. The callback and activity errors
(``InvalidToken``, ``TaskTimedOut``, ``TaskDoesNotExist``, ``InvalidOutput``,
``ValidationException``, ``ActivityDoesNotExist``, ``InvalidArn``, ``InvalidName``) live
in :mod:`runtime.callbacks.registry` and are re-exported here::

    StepFunctionsApiError           (runtime.callbacks.registry)
    ├── StateMachineDoesNotExist    no state machine has this ARN
    ├── StateMachineAlreadyExists   a state machine has this name, with another definition
    ├── StateMachineTypeNotSupported the operation does not apply to this type
    ├── ExecutionDoesNotExist       no execution has this ARN
    ├── ExecutionAlreadyExists      the name is taken by another execution
    ├── ExecutionNotRedrivable      RedriveExecution of an execution that cannot be
    ├── InvalidDefinition           the definition fails validation
    ├── InvalidExecutionInput       the input is not JSON
    ├── MissingRequiredParameter    UpdateStateMachine without anything to change
    ├── ResourceNotFound            a tagged resource, version or alias does not exist
    ├── ConflictException           a stale revision, a version an alias uses...
    ├── TooManyTags                 a resource would have more than 50 tags
    ├── UnknownOperationException   the X-Amz-Target names no operation
    └── SerializationException      the body is not a JSON object
"""

from __future__ import annotations

from runtime.callbacks.registry import (
    ActivityDoesNotExist,
    InvalidArn,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    StepFunctionsApiError,
    TaskDoesNotExist,
    TaskTimedOut,
    ValidationException,
)
from runtime.server.guard import SerializationException

__all__ = [
    "ActivityDoesNotExist",
    "ConflictException",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionNotRedrivable",
    "InvalidArn",
    "InvalidDefinition",
    "InvalidExecutionInput",
    "InvalidName",
    "InvalidOutput",
    "InvalidToken",
    "MissingRequiredParameter",
    "ResourceNotFound",
    "SerializationException",
    "StateMachineAlreadyExists",
    "StateMachineDoesNotExist",
    "StateMachineTypeNotSupported",
    "StepFunctionsApiError",
    "TaskDoesNotExist",
    "TaskTimedOut",
    "TooManyTags",
    "UnknownOperationException",
    "ValidationException",
]


class StateMachineDoesNotExist(StepFunctionsApiError):
    """Raised when a state machine ARN names no stored state machine."""

    code = "StateMachineDoesNotExist"


class StateMachineAlreadyExists(StepFunctionsApiError):
    """Raised when CreateStateMachine reuses a name with a different definition or role."""

    code = "StateMachineAlreadyExists"


class StateMachineTypeNotSupported(StepFunctionsApiError):
    """Raised when an operation does not apply to the state machine's type."""

    code = "StateMachineTypeNotSupported"


class ExecutionDoesNotExist(StepFunctionsApiError):
    """Raised when an execution ARN names no stored execution."""

    code = "ExecutionDoesNotExist"


class ExecutionAlreadyExists(StepFunctionsApiError):
    """Raised when StartExecution reuses the name of a closed execution, or of a running
    one with another input."""

    code = "ExecutionAlreadyExists"


class InvalidDefinition(StepFunctionsApiError):
    """Raised when a definition fails validation (the message lists the diagnostics)."""

    code = "InvalidDefinition"


class InvalidExecutionInput(StepFunctionsApiError):
    """Raised when StartExecution's input is not JSON text."""

    code = "InvalidExecutionInput"


class ResourceNotFound(StepFunctionsApiError):
    """Raised when a tag operation names a resource that does not exist."""

    code = "ResourceNotFound"


class TooManyTags(StepFunctionsApiError):
    """Raised when a resource would carry more tags than AWS allows (50)."""

    code = "TooManyTags"


class UnknownOperationException(StepFunctionsApiError):
    """Raised when ``X-Amz-Target`` names no operation of this server."""

    code = "UnknownOperationException"


class MissingRequiredParameter(StepFunctionsApiError):
    """Raised when UpdateStateMachine changes nothing (no definition, role or configuration)."""

    code = "MissingRequiredParameter"


class ConflictException(StepFunctionsApiError):
    """Raised when a version or alias change conflicts with the current state (a stale
    revision, a version an alias routes to, an alias that exists with other routing)."""

    code = "ConflictException"


class ExecutionNotRedrivable(StepFunctionsApiError):
    """Raised when RedriveExecution names an execution that succeeded, is running, or
    stopped more than 14 days ago."""

    code = "ExecutionNotRedrivable"
