"""Schedule expressions as EventBridge Scheduler reads them: ``rate()``, ``cron()``, ``at()``.

The grammar checked here is the one of the Scheduler's user guide ("Schedule types"):

* ``rate(value unit)``: a positive whole number and ``minute(s)``, ``hour(s)`` or
  ``day(s)``; a day is 24 hours on the clock, whatever daylight saving does.
* ``cron(minutes hours day-of-month month day-of-week year)``: six fields; day-of-month
  takes ``, - * ? / L W``, day-of-week ``, - * ? L #`` with 1=SUN..7=SAT, and exactly one
  of the two must be ``?`` ("You can't specify the Day-of-month and Day-of-week fields in
  the same cron expression").
* ``at(yyyy-mm-ddThh:mm:ss)``: one wall-clock time in the schedule's time zone.

Cron expressions are checked field by field here (so an error names its field) and then
translated for croniter, which computes the times: croniter counts days of the week from
0=SUN and writes "the last Friday" ``L5`` where AWS writes ``6L``, has no ``LW`` and no
year field of its own (its seven-field form puts seconds first and the year last).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from runtime.schedules.errors import ValidationException

__all__ = [
    "AtExpression",
    "CronExpression",
    "Expression",
    "RateExpression",
    "parse_expression",
]

#: Seconds in each rate unit. ``second(s)`` exists only in the test mode (see
#: :func:`parse_expression`); AWS's finest rate is one minute.
_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "second": 1}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
#: croniter's seven-field form covers years up to 2099; AWS accepts up to 2199.
_CRONITER_LAST_YEAR = 2099


@dataclass(frozen=True, slots=True)
class RateExpression:
    """``rate(value unit)``: every ``seconds`` seconds from the schedule's start."""

    #: The period in seconds.
    seconds: int
    #: The expression as written.
    text: str


@dataclass(frozen=True, slots=True)
class CronExpression:
    """``cron(...)``: the AWS fields, and their translation for croniter."""

    #: The expression as written.
    text: str
    #: croniter's seven fields (seconds first, year last), AWS's numbering translated.
    croniter_fields: str
    #: ``LW`` in day-of-month (the last weekday of the month), which croniter lacks:
    #: croniter then runs every day and the times are filtered.
    last_weekday: bool = False


@dataclass(frozen=True, slots=True)
class AtExpression:
    """``at(...)``: one wall-clock time, read in the schedule's time zone."""

    #: The wall-clock time, without a zone.
    when: datetime
    #: The expression as written.
    text: str


Expression = RateExpression | CronExpression | AtExpression

_FORM = re.compile(r"^\s*(rate|cron|at)\((.*)\)\s*$", re.DOTALL)


def parse_expression(text: str, *, allow_seconds: bool = False) -> Expression:
    """Check and parse a ``ScheduleExpression``.

    ``allow_seconds`` accepts ``rate(N seconds)``: a test mode only, so that tests on
    the real clock see many firings in a few seconds. Raises :class:`ValidationException`
    with one line that names the faulty field.
    """
    match = _FORM.match(text)
    if match is None:
        raise ValidationException(
            f"invalid ScheduleExpression {text!r}: expected rate(...), cron(...) or at(...)"
        )
    kind, body = match.group(1), match.group(2).strip()
    if kind == "rate":
        return _rate(text, body, allow_seconds)
    if kind == "at":
        return _at(text, body)
    return _cron(text, body)


def _rate(text: str, body: str, allow_seconds: bool) -> RateExpression:
    parts = body.split()
    if len(parts) != 2:
        raise ValidationException(f"invalid rate expression {text!r}: expected rate(value unit)")
    value, unit = parts
    if not value.isdigit() or int(value) <= 0:
        raise ValidationException(
            f"invalid rate expression {text!r}: the value must be a positive whole number"
        )
    singular = unit.lower().removesuffix("s")
    if singular not in _UNITS or (singular == "second" and not allow_seconds):
        raise ValidationException(
            f"invalid rate expression {text!r}: the unit must be minutes, hours or days"
        )
    return RateExpression(int(value) * _UNITS[singular], text)


def _at(text: str, body: str) -> AtExpression:
    try:
        when = datetime.strptime(body, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise ValidationException(
            f"invalid at expression {text!r}: expected at(yyyy-mm-ddThh:mm:ss)"
        ) from None
    return AtExpression(when, text)


# -- cron ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    #: The special characters the field takes besides ``, - * /`` (AWS's table).
    special: str = ""
    step: bool = True


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, special="?LW"),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS, special="?L#", step=False),
    _Field("year", 1970, 2199),
)


def _cron(text: str, body: str) -> CronExpression:
    values = body.split()
    if len(values) != 6:
        raise ValidationException(
            f"invalid cron expression {text!r}: expected 6 fields (minutes hours day-of-month "
            f"month day-of-week year), got {len(values)}"
        )
    out = []
    for field, value in zip(_FIELDS, values, strict=True):
        try:
            out.append(_translate(field, value))
        except ValueError as exc:
            raise ValidationException(
                f"invalid cron expression {text!r}: {field.name} field {value!r}: {exc}"
            ) from None
    day_of_month, day_of_week = values[2], values[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValidationException(
            f"invalid cron expression {text!r}: one of the day-of-month and day-of-week "
            "fields must be '?' and the other not"
        )
    minutes, hours, dom, month, dow, year = out
    last_weekday = day_of_month.upper() == "LW"
    if last_weekday:
        dom = "*"
    return CronExpression(text, f"0 {minutes} {hours} {dom} {month} {dow} {year}", last_weekday)


def _translate(field: _Field, value: str) -> str:
    """Check one field against AWS's table; return it in croniter's terms."""
    value = value.upper()
    if value == "?":
        if "?" not in field.special:
            raise ValueError("'?' is allowed only in day-of-month and day-of-week")
        return "*"
    return ",".join(_item(field, item) for item in value.split(","))


def _item(field: _Field, item: str) -> str:
    if not item:
        raise ValueError("empty list item")
    if field.name == "day-of-month" and (item in ("L", "LW") or item.endswith("W")):
        if item in ("L", "LW"):
            return item
        return f"{_number(field, item[:-1])}W"
    if field.name == "day-of-week":
        return _day_of_week(field, item)
    base, slash, step = item.partition("/")
    if slash:
        if not field.step:
            raise ValueError("'/' is not allowed in this field")
        if not step.isdigit() or int(step) == 0:
            raise ValueError(f"bad increment {step!r}")
        return f"{_range(field, base, star=True)}/{int(step)}"
    return _range(field, base, star=True)


def _range(field: _Field, text: str, *, star: bool) -> str:
    if text == "*" and star:
        return "*"
    low, dash, high = text.partition("-")
    if dash:
        return f"{_number(field, low)}-{_number(field, high)}"
    return str(_number(field, text))


def _number(field: _Field, text: str) -> int:
    if text in field.names:
        value = field.names.index(text) + field.low
    elif text.isdigit():
        value = int(text)
    else:
        raise ValueError(f"{text!r} is not a value of this field")
    if not field.low <= value <= field.high:
        raise ValueError(f"{value} is outside {field.low}-{field.high}")
    if field.name == "year" and value > _CRONITER_LAST_YEAR:
        raise ValueError(f"years after {_CRONITER_LAST_YEAR} are not supported here")
    return value


def _day_of_week(field: _Field, item: str) -> str:
    """AWS counts 1=SUN..7=SAT, croniter 0=SUN..6=SAT; ``L`` alone is the week's last
    day (SAT); ``6L`` (the month's last Friday) is croniter's ``L5``."""
    if item == "L":
        return "6"
    if "/" in item:
        raise ValueError("'/' is not allowed in day-of-week")
    if item.endswith("L"):
        return f"L{_number(field, item[:-1]) - 1}"
    day, hash_, nth = item.partition("#")
    if hash_:
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ValueError(f"'#{nth}' must be #1 to #5")
        return f"{_number(field, day) - 1}#{int(nth)}"
    if item == "*":
        return "*"
    low, dash, high = item.partition("-")
    if dash:
        return f"{_number(field, low) - 1}-{_number(field, high) - 1}"
    return str(_number(field, item) - 1)
