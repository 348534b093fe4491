"""A schedule, with the fields and names of EventBridge Scheduler's ``GetSchedule``.

The target is a state machine: a definition file (read at each firing, as AWS reads the
state machine its ARN names at each invocation) and its ``Input``, with the task options
(mocks, local functions, offline...) its executions run with. ``Input`` is text in which
the Scheduler's context attributes are substituted before it is parsed as JSON:
``<aws.scheduler.schedule-arn>``, ``<aws.scheduler.scheduled-time>`` (the firing time,
``2022-03-22T18:59:43Z``), ``<aws.scheduler.execution-id>`` (one id per attempt) and
``<aws.scheduler.attempt-number>``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from runtime.schedules.errors import ValidationException
from runtime.schedules.expressions import AtExpression, parse_expression
from runtime.schedules.times import FiringTimes, zone

__all__ = ["RetryPolicy", "Schedule", "Target", "parse_date", "rfc3339"]

ACCOUNT = "123456789012"
#: Execution names are at most 80 characters (StartExecution).
_NAME_LIMIT = 80


def rfc3339(epoch: float) -> str:
    """``2022-03-22T18:59:43Z``: whole seconds, UTC."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(text: str, field_name: str) -> int:
    """An ISO 8601 date-time (UTC when it has no offset) as whole epoch seconds, rounded up."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationException(
            f"invalid {field_name} {text!r}: expected an ISO 8601 date-time, "
            "e.g. 2030-01-01T00:00:00Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return math.ceil(value.timestamp())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``RetryPolicy``: how long and how often a failed start of the target is retried."""

    #: 0 to 185 (AWS's default 185).
    maximum_retry_attempts: int = 185
    #: 60 to 86400 seconds after the firing time (AWS's default 86400).
    maximum_event_age_in_seconds: int = 86400

    def check(self) -> None:
        """Raise :class:`ValidationException` outside AWS's ranges."""
        if not 0 <= self.maximum_retry_attempts <= 185:
            raise ValidationException("RetryPolicy.MaximumRetryAttempts must be 0 to 185")
        if not 60 <= self.maximum_event_age_in_seconds <= 86400:
            raise ValidationException("RetryPolicy.MaximumEventAgeInSeconds must be 60 to 86400")


@dataclass(frozen=True, slots=True)
class Target:
    """``Target``: the state machine a firing starts, and its input."""

    #: The state machine definition file (absolute path).
    definition_file: str
    #: ``arn:aws:states:<region>:<account>:stateMachine:<name>``.
    arn: str
    #: The execution input as JSON text, context attributes not yet substituted.
    input: str = "{}"
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    #: ``DeadLetterConfig.Arn``: here a local file that gets one JSON line per firing
    #: that could not start; None for none (the store keeps them all the same).
    dead_letter: str | None = None
    #: The task options of ``asl exec`` its executions run with (mocks, local functions).
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def state_machine_name(self) -> str:
        """The ARN's last part."""
        return self.arn.rsplit(":", 1)[-1]

    @property
    def region(self) -> str:
        """The ARN's region."""
        return self.arn.split(":")[3]


@dataclass(frozen=True, slots=True)
class Schedule:
    """One schedule, as ``GetSchedule`` describes it (see :meth:`to_aws`)."""

    name: str
    #: ``rate(...)``, ``cron(...)`` or ``at(...)``.
    expression: str
    target: Target
    #: IANA zone the expression is read in.
    timezone: str = "UTC"
    #: Epoch seconds (whole).
    start_date: int | None = None
    end_date: int | None = None
    #: ``OFF``, or ``FLEXIBLE`` with ``flexible_window_minutes`` (1 to 1440).
    flexible_mode: str = "OFF"
    flexible_window_minutes: int | None = None
    #: ``ENABLED`` or ``DISABLED``.
    state: str = "ENABLED"
    #: ``NONE`` or ``DELETE``: what happens once the schedule has no firing left.
    action_after_completion: str = "NONE"
    description: str = ""
    group_name: str = "default"
    #: Epoch seconds (fractions kept).
    creation_date: float = 0.0
    last_modification_date: float = 0.0

    @property
    def arn(self) -> str:
        """``arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>``."""
        return (
            f"arn:aws:scheduler:{self.target.region}:{ACCOUNT}:schedule/"
            f"{self.group_name}/{self.name}"
        )

    def check(self, *, allow_seconds: bool = False) -> None:
        """Every field against AWS's rules; raises :class:`ValidationException`."""
        if (
            not self.name
            or len(self.name) > 64
            or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in self.name)
        ):
            raise ValidationException(
                f"invalid Name {self.name!r}: 1 to 64 letters, digits, '-', '_' or '.'"
            )
        parse_expression(self.expression, allow_seconds=allow_seconds)
        zone(self.timezone)
        if self.state not in ("ENABLED", "DISABLED"):
            raise ValidationException(f"invalid State {self.state!r}: ENABLED or DISABLED")
        if self.action_after_completion not in ("NONE", "DELETE"):
            raise ValidationException(
                f"invalid ActionAfterCompletion {self.action_after_completion!r}: NONE or DELETE"
            )
        self._check_window()
        start, end = self.start_date, self.end_date
        if start is not None and end is not None and end <= start:
            raise ValidationException("EndDate must be after StartDate")
        self.target.retry_policy.check()
        try:
            json.loads(self.input_for(0, 1))
        except ValueError as exc:
            raise ValidationException(f"invalid Target.Input: not JSON ({exc})") from None

    def _check_window(self) -> None:
        if self.flexible_mode == "OFF":
            if self.flexible_window_minutes is not None:
                raise ValidationException(
                    "FlexibleTimeWindow.MaximumWindowInMinutes is only allowed with Mode FLEXIBLE"
                )
        elif self.flexible_mode == "FLEXIBLE":
            minutes = self.flexible_window_minutes
            if minutes is None or not 1 <= minutes <= 1440:
                raise ValidationException(
                    "FlexibleTimeWindow.MaximumWindowInMinutes must be 1 to 1440 with FLEXIBLE"
                )
        else:
            raise ValidationException(
                f"invalid FlexibleTimeWindow.Mode {self.flexible_mode!r}: OFF or FLEXIBLE"
            )

    @property
    def one_time(self) -> bool:
        """An ``at(...)`` schedule."""
        return isinstance(parse_expression(self.expression, allow_seconds=True), AtExpression)

    def firing_times(self) -> FiringTimes:
        """The schedule's firing times (a rate counts from the start date, else from when
        the schedule was last created or updated)."""
        return FiringTimes(
            parse_expression(self.expression, allow_seconds=True),
            self.timezone,
            None if self.one_time else self.start_date,
            None if self.one_time else self.end_date,
            anchor=math.ceil(self.last_modification_date),
        )

    def window_seconds(self) -> int:
        """The flexible time window in seconds (0 when OFF)."""
        return 60 * (self.flexible_window_minutes or 0) if self.flexible_mode == "FLEXIBLE" else 0

    def offset(self, scheduled: int) -> int:
        """Seconds after ``scheduled`` at which this firing starts its target: 0 when the
        window is OFF, else a fixed point of the window derived from the schedule and the
        time, so every process (and every restart) picks the same one."""
        window = self.window_seconds()
        if not window:
            return 0
        return _digest(f"{self.arn}|{scheduled}", 8) % window

    def execution_name(self, scheduled: int) -> str:
        """The execution a firing starts: ``<schedule>-<yyyymmddThhmmssZ>``, so that a
        second attempt to start the same firing finds it already there."""
        stamp = datetime.fromtimestamp(scheduled, UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{self.name}-{stamp}"
        if len(name) > _NAME_LIMIT:
            keep = _NAME_LIMIT - len(stamp) - 10
            name = f"{self.name[:keep]}-{_digest(self.name, 4):08x}-{stamp}"
        return name

    def execution_id(self, scheduled: int, attempt: int) -> str:
        """``<aws.scheduler.execution-id>``: one id per attempt, the same on every process."""
        return f"{_digest(f'{self.arn}|{scheduled}|{attempt}', 8):016x}"

    def input_for(self, scheduled: int, attempt: int) -> str:
        """The target's ``Input`` with the context attributes substituted."""
        text = self.target.input
        for key, value in (
            ("schedule-arn", self.arn),
            ("scheduled-time", rfc3339(scheduled)),
            ("execution-id", self.execution_id(scheduled, attempt)),
            ("attempt-number", str(attempt)),
        ):
            text = text.replace(f"<aws.scheduler.{key}>", value)
        return text

    def with_changes(self, **changes: Any) -> Schedule:
        """A copy with some fields changed."""
        return replace(self, **changes)

    # -- the AWS shape ---------------------------------------------------------------

    def to_aws(self) -> dict[str, Any]:
        """This schedule as ``GetSchedule`` returns it (dates as RFC 3339 text)."""
        window: dict[str, Any] = {"Mode": self.flexible_mode}
        if self.flexible_window_minutes is not None:
            window["MaximumWindowInMinutes"] = self.flexible_window_minutes
        target: dict[str, Any] = {
            "Arn": self.target.arn,
            "Input": self.target.input,
            "RetryPolicy": {
                "MaximumEventAgeInSeconds": self.target.retry_policy.maximum_event_age_in_seconds,
                "MaximumRetryAttempts": self.target.retry_policy.maximum_retry_attempts,
            },
            "DefinitionFile": self.target.definition_file,
            "LaunchOptions": dict(self.target.options),
        }
        if self.target.dead_letter:
            target["DeadLetterConfig"] = {"Arn": self.target.dead_letter}
        out: dict[str, Any] = {
            "ActionAfterCompletion": self.action_after_completion,
            "Arn": self.arn,
            "CreationDate": _iso(self.creation_date),
            "Description": self.description,
            "FlexibleTimeWindow": window,
            "GroupName": self.group_name,
            "LastModificationDate": _iso(self.last_modification_date),
            "Name": self.name,
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": self.timezone,
            "State": self.state,
            "Target": target,
        }
        if self.start_date is not None:
            out["StartDate"] = rfc3339(self.start_date)
        if self.end_date is not None:
            out["EndDate"] = rfc3339(self.end_date)
        return out

    @classmethod
    def from_aws(cls, data: Mapping[str, Any]) -> Schedule:
        """The inverse of :meth:`to_aws`."""
        target = data["Target"]
        retry = target.get("RetryPolicy") or {}
        window = data.get("FlexibleTimeWindow") or {"Mode": "OFF"}
        return cls(
            name=data["Name"],
            expression=data["ScheduleExpression"],
            timezone=data.get("ScheduleExpressionTimezone") or "UTC",
            start_date=_date(data.get("StartDate")),
            end_date=_date(data.get("EndDate")),
            flexible_mode=window.get("Mode", "OFF"),
            flexible_window_minutes=window.get("MaximumWindowInMinutes"),
            state=data.get("State", "ENABLED"),
            action_after_completion=data.get("ActionAfterCompletion", "NONE"),
            description=data.get("Description", ""),
            group_name=data.get("GroupName", "default"),
            creation_date=_epoch(data["CreationDate"]),
            last_modification_date=_epoch(data["LastModificationDate"]),
            target=Target(
                definition_file=target["DefinitionFile"],
                arn=target["Arn"],
                input=target.get("Input", "{}"),
                retry_policy=RetryPolicy(
                    retry.get("MaximumRetryAttempts", 185),
                    retry.get("MaximumEventAgeInSeconds", 86400),
                ),
                dead_letter=(target.get("DeadLetterConfig") or {}).get("Arn"),
                options=target.get("LaunchOptions") or {},
            ),
        )


def _digest(text: str, size: int) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:size], "big")


def _iso(epoch: float) -> str:
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _date(text: str | None) -> int | None:
    return None if text is None else math.ceil(_epoch(text))
