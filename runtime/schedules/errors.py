"""Errors of schedules, named after EventBridge Scheduler's exceptions where it has one.

::

    ASLError
    └── ScheduleError                a schedule cannot be created, read or fired
        ├── ValidationException      a field is invalid (expression, time zone, dates...)
        ├── ResourceNotFoundException no schedule has this name
        └── ConflictException        a schedule with this name already exists
"""

from __future__ import annotations

from asl.errors import ASLError

__all__ = [
    "ConflictException",
    "ResourceNotFoundException",
    "ScheduleError",
    "ValidationException",
]


class ScheduleError(ASLError):
    """Raised when a schedule cannot be created, read, changed or fired."""


class ValidationException(ScheduleError):
    """Raised when a schedule field is invalid; the message names the field."""


class ResourceNotFoundException(ScheduleError):
    """Raised when no schedule of the store has the name asked for."""


class ConflictException(ScheduleError):
    """Raised when a schedule is created under a name the store already holds."""
