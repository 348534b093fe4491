"""A Data Pipeline ``Schedule`` object as an EventBridge Scheduler CreateSchedule request.

Data Pipeline ("Schedule" object reference): ``period`` ("N minutes|hours|days|weeks|
months|years", at least 15 minutes), ``startDateTime`` (UTC) or ``startAt:
FIRST_ACTIVATION_DATE_TIME``, ``endDateTime`` or ``occurrences``. ``scheduleType``
(pipeline wide) ``cron`` runs each interval at its start, ``timeseries`` (the default)
at its end; ``ondemand`` has no schedule.

EventBridge Scheduler: ``rate(N minutes|hours|days)`` counts from StartDate (else from
creation), ``cron(...)`` for calendar months and years; a firing is on or after StartDate
and before EndDate. So a timeseries schedule starts one period later, and ``occurrences``
becomes the EndDate just after the last run.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asl.datapipeline.pipeline import PipelineError, PipelineObject

__all__ = ["Period", "ScheduleConversion", "convert_schedule", "parse_period"]

_PERIOD = re.compile(r"^\s*(\d+)\s*(minute|hour|day|week|month|year)s?\s*$", re.IGNORECASE)
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}


@dataclass(frozen=True, slots=True)
class Period:
    """``count`` of ``unit`` (minute, hour, day, week, month, year)."""

    count: int
    unit: str

    @property
    def seconds(self) -> int | None:
        """Its length, or None for calendar months and years."""
        per = _SECONDS.get(self.unit)
        return None if per is None else self.count * per


@dataclass(frozen=True, slots=True)
class ScheduleConversion:
    """The CreateSchedule request, the period, and what was not carried over."""

    request: dict[str, Any]
    period: Period
    notes: tuple[str, ...]


def parse_period(text: str, where: str) -> Period:
    """``"1 day"`` → Period(1, "day"); anything else is an error naming ``where``."""
    matched = _PERIOD.match(text)
    if matched is None or int(matched.group(1)) < 1:
        raise PipelineError(
            f"{where}: field 'period' must be like '1 day' or '15 minutes', not {text!r}"
        )
    period = Period(int(matched.group(1)), matched.group(2).lower())
    if period.seconds is not None and period.seconds < 900:
        raise PipelineError(f"{where}: field 'period' must be at least 15 minutes, not {text!r}")
    return period


def _date(obj: PipelineObject, key: str) -> datetime | None:
    text = obj.text(key)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PipelineError(
            f"object '{obj.id}': field '{key}' must be a date-time like 2026-01-01T00:00:00, "
            f"not {text!r}"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(moment: datetime, period: Period, times: int) -> datetime:
    if period.seconds is not None:
        return moment + timedelta(seconds=period.seconds * times)
    months = period.count * times * (12 if period.unit == "year" else 1)
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    # Joda's plusMonths (Data Pipeline's): a day the month lacks becomes its last day.
    last = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last))


def _expression(period: Period, anchor: datetime | None) -> str:
    if period.unit == "week":
        return f"rate({period.count * 7} days)"
    if period.seconds is not None:
        unit = period.unit + ("s" if period.count > 1 else "")
        return f"rate({period.count} {unit})"
    at = anchor or datetime(2000, 1, 1, tzinfo=UTC)
    if period.unit == "month":
        months = f"{at.month}/{period.count}" if period.count > 1 else "*"
        return f"cron({at.minute} {at.hour} {at.day} {months} ? *)"
    years = f"{at.year}/{period.count}" if period.count > 1 else "*"
    return f"cron({at.minute} {at.hour} {at.day} {at.month} ? {years})"


def convert_schedule(
    schedule: PipelineObject,
    schedule_type: str,
    name: str,
    state_machine_arn: str,
    execution_input: dict[str, Any],
) -> ScheduleConversion:
    """The CreateSchedule request of ``schedule`` (see the module doc)."""
    where = f"object '{schedule.id}'"
    period_text = schedule.text("period")
    if period_text is None:
        raise PipelineError(f"{where}: field 'period' is required for a Schedule")
    period = parse_period(period_text, where)
    start = _date(schedule, "startDateTime")
    start_at = schedule.text("startAt")
    if start is None and start_at != "FIRST_ACTIVATION_DATE_TIME":
        raise PipelineError(
            f"{where}: a Schedule needs 'startDateTime' or 'startAt': FIRST_ACTIVATION_DATE_TIME"
        )
    if start is not None and start_at is not None:
        raise PipelineError(f"{where}: 'startDateTime' and 'startAt' cannot both be set")
    end = _date(schedule, "endDateTime")
    occurrences = schedule.text("occurrences")
    if end is not None and occurrences is not None:
        raise PipelineError(f"{where}: 'endDateTime' and 'occurrences' cannot both be set")
    notes: list[str] = []
    late = schedule_type != "cron"  # timeseries: each run at the end of its interval
    first = None if start is None else _add(start, period, 1) if late else start
    request: dict[str, Any] = {
        "Name": name,
        # Calendar periods repeat on the start's day and time of day.
        "ScheduleExpression": _expression(period, start),
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "ActionAfterCompletion": "NONE",
    }
    if first is not None:
        request["StartDate"] = _rfc3339(first)
        if period.seconds is None and start is not None and start.day > 28:
            notes.append(
                f"cron on day {start.day}: months without that day have no run (Data "
                "Pipeline ran on their last day)"
            )
    else:
        notes.append(
            "startAt FIRST_ACTIVATION_DATE_TIME: the schedule starts when it is created"
            + (" (a timeseries run waits one period in Data Pipeline)" if late else "")
        )
        if period.seconds is None:
            notes.append(
                "a calendar period with FIRST_ACTIVATION_DATE_TIME: the cron expression "
                "fires on day 1 at 00:00 UTC; edit it to the day you activate"
            )
    if occurrences is not None:
        if not occurrences.isdigit() or int(occurrences) < 1:
            raise PipelineError(f"{where}: field 'occurrences' must be a positive integer")
        if first is None:
            notes.append(
                f"occurrences {occurrences} without a start date: EventBridge Scheduler "
                "cannot stop after a count; set --end-date when you create the schedule"
            )
        else:
            # The last run is at first + (n-1) periods; EndDate is exclusive.
            last = _add(first, period, int(occurrences) - 1)
            request["EndDate"] = _rfc3339(last + timedelta(seconds=1))
    elif end is not None:
        request["EndDate"] = _rfc3339(_add(end, period, 1) if late else end)
    request["Target"] = {
        "Arn": state_machine_arn,
        "Input": json.dumps(execution_input, indent=None, separators=(", ", ": ")),
    }
    return ScheduleConversion(request, period, tuple(notes))
