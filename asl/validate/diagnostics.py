"""Diagnostics: located validation findings shaped like AWS ValidateStateMachineDefinition's.

AWS codes are used where AWS has one (API ValidateStateMachineDefinitionDiagnostic); the
project's own codes cover what AWS reports under a generic code or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CODES", "Diagnostic", "Severity", "error", "warning"]

Severity = Literal["ERROR", "WARNING"]

#: Every code :func:`asl.validate.validate` can emit, with what it means.
CODES: dict[str, str] = {
    # AWS's own codes (API ValidateStateMachineDefinitionDiagnostic).
    "SCHEMA_VALIDATION_FAILED": "A field is missing, unknown, of the wrong type or out of range.",
    "MISSING_TRANSITION_TARGET": "A Next/Default/StartAt names no state of its scope, or a "
    "state is not reachable (AWS reports both under this code).",
    "DUPLICATE_STATE_NAME": "The same state name appears more than once in the machine.",
    "INVALID_STATE_NAME": "A state name is empty or longer than 80 characters.",
    "MISSING_END_STATE": "A States object has no terminal state.",
    "INVALID_RESOURCE": "A Task or ItemReader/ResultWriter Resource is not an ARN.",
    "DUPLICATE_LABEL_NAME": "Two Map states use the same Label.",
    "INVALID_LABEL_NAME": "A Map Label is too long or has a forbidden character.",
    "TOO_DEEPLY_NESTED": "Parallel/Map states are nested too deeply.",
    "NO_DOLLAR": "A value looks like a JSONPath or intrinsic call but its key lacks '.$'.",
    "NO_PATH": "A value looks like a path but the field name does not end with 'Path'.",
    "PASS_RESULT_IS_STATIC": "A Pass state's Result uses a path, which Result never evaluates.",
    # Project codes.
    "INVALID_JSON_PATH": "A path or reference path does not parse or is not allowed there.",
    "INVALID_INTRINSIC": "An intrinsic function call does not parse or is misused.",
    "INVALID_JSONATA": "A {% %} JSONata expression does not parse or is misused.",
    "INVALID_ERROR_NAME": "A user error name starts with 'States.' but is not predefined "
    "(a warning: AWS accepts it).",
    "INVALID_VARIABLE_NAME": "An Assign key is not a valid variable name.",
    "DUPLICATE_FIELD_NAME": "Two payload template keys are equal once '.$' is removed.",
    "UNDEFINED_VARIABLE": "A variable is read where no path from StartAt can have assigned it "
    "(AWS accepts the definition; the read fails at run time).",
    "SHADOWED_VARIABLE": "A Parallel branch or Map processor assigns a variable that an "
    "enclosing scope assigns.",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a definition."""

    #: ``"ERROR"`` (AWS would refuse the definition) or ``"WARNING"`` (it would accept it).
    severity: Severity
    #: A stable code from :data:`CODES`.
    code: str
    #: A sentence for humans; names the field and what was expected.
    message: str
    #: JSON Pointer to the offending value, e.g. ``/States/Pay/Next`` ("" = the whole machine).
    location: str = ""

    def to_json(self) -> dict[str, str]:
        """Return the AWS ``ValidateStateMachineDefinitionDiagnostic`` shape."""
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "location": self.location,
        }

    def __str__(self) -> str:
        return f"{self.location or '/'}: {self.severity} {self.code}: {self.message}"


def error(code: str, message: str, location: str) -> Diagnostic:
    """Build an ERROR diagnostic."""
    return Diagnostic("ERROR", code, message, location)


def warning(code: str, message: str, location: str) -> Diagnostic:
    """Build a WARNING diagnostic."""
    return Diagnostic("WARNING", code, message, location)
