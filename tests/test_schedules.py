"""Schedule expressions and firing times, against EventBridge Scheduler's documented rules.

Each case gives the expected UTC firing times, worked out from the calendar and the
time zone rules (not from the code): rate from its start or creation, cron's six AWS
fields (1=SUN..7=SAT, ``?``, ``L``, ``W``, ``LW``, ``#``, ranges, lists, increments,
names, the year), ``at()``, daylight saving ("skipped" in spring, "only once" in autumn)
and start/end dates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from runtime.schedules.errors import ValidationException
from runtime.schedules.expressions import parse_expression
from runtime.schedules.model import RetryPolicy, Schedule, Target, parse_date, rfc3339
from runtime.schedules.times import FiringTimes, zone

NEW_YEAR = "2026-01-01T00:00:00Z"


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def firings(
    expression: str,
    tz: str = "UTC",
    *,
    after: str = NEW_YEAR,
    start: str | None = None,
    end: str | None = None,
    anchor: str = NEW_YEAR,
    count: int = 3,
) -> list[str]:
    times = FiringTimes(
        parse_expression(expression, allow_seconds=True),
        tz,
        None if start is None else epoch(start),
        None if end is None else epoch(end),
        anchor=epoch(anchor),
    )
    found: list[str] = []
    current: float = epoch(after)
    while len(found) < count:
        nxt = times.next_after(current)
        if nxt is None:
            break
        found.append(rfc3339(nxt))
        current = nxt
    return found


BEFORE_NEW_YEAR = "2025-12-31T23:59:59Z"

# (id, expression, timezone, options, expected UTC firing times)
CASES: list[tuple[str, str, str, dict[str, str], list[str]]] = [
    # -- rate: from the start date, else from creation ("starts invoking immediately")
    (
        "rate-minutes-now",
        "rate(5 minutes)",
        "UTC",
        {"after": BEFORE_NEW_YEAR},
        ["2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"],
    ),
    (
        "rate-one-minute",
        "rate(1 minute)",
        "UTC",
        {"after": BEFORE_NEW_YEAR},
        ["2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"],
    ),
    (
        "rate-hours",
        "rate(2 hours)",
        "UTC",
        {"after": BEFORE_NEW_YEAR},
        ["2026-01-01T00:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T04:00:00Z"],
    ),
    (
        "rate-from-start",
        "rate(15 minutes)",
        "UTC",
        {"start": "2026-01-01T10:07:00Z", "after": "2026-01-01T10:30:00Z"},
        ["2026-01-01T10:37:00Z", "2026-01-01T10:52:00Z", "2026-01-01T11:07:00Z"],
    ),
    (
        "rate-day-is-24h-spring",
        "rate(1 day)",
        "America/New_York",
        {"start": "2026-03-07T12:00:00Z", "after": "2026-03-01T00:00:00Z"},
        ["2026-03-07T12:00:00Z", "2026-03-08T12:00:00Z", "2026-03-09T12:00:00Z"],
    ),
    (
        "rate-day-is-24h-autumn",
        "rate(1 day)",
        "Europe/Paris",
        {"start": "2026-10-24T10:00:00Z", "after": "2026-10-01T00:00:00Z"},
        ["2026-10-24T10:00:00Z", "2026-10-25T10:00:00Z", "2026-10-26T10:00:00Z"],
    ),
    (
        "rate-until-end",
        "rate(7 days)",
        "UTC",
        {"start": "2026-01-05T09:00:00Z", "end": "2026-01-20T00:00:00Z", "count": "5"},
        ["2026-01-05T09:00:00Z", "2026-01-12T09:00:00Z", "2026-01-19T09:00:00Z"],
    ),
    (
        "rate-end-is-exclusive",
        "rate(1 hour)",
        "UTC",
        {"end": "2026-01-01T03:00:00Z", "after": BEFORE_NEW_YEAR, "count": "5"},
        ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"],
    ),
    # -- cron in UTC
    (
        "cron-daily",
        "cron(0 12 * * ? *)",
        "UTC",
        {},
        ["2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z", "2026-01-03T12:00:00Z"],
    ),
    (
        "cron-weekday-names",
        "cron(0 18 ? * MON-FRI *)",
        "UTC",
        {},
        ["2026-01-01T18:00:00Z", "2026-01-02T18:00:00Z", "2026-01-05T18:00:00Z"],
    ),
    (
        "cron-increment",
        "cron(0/15 * * * ? *)",
        "UTC",
        {},
        ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z"],
    ),
    (
        "cron-range-increment",
        "cron(5-10/5 8-9 1 * ? *)",
        "UTC",
        {"count": "4"},
        [
            "2026-01-01T08:05:00Z",
            "2026-01-01T08:10:00Z",
            "2026-01-01T09:05:00Z",
            "2026-01-01T09:10:00Z",
        ],
    ),
    (
        "cron-first-of-month",
        "cron(0 8 1 * ? *)",
        "UTC",
        {},
        ["2026-01-01T08:00:00Z", "2026-02-01T08:00:00Z", "2026-03-01T08:00:00Z"],
    ),
    (
        "cron-month-list",
        "cron(0 0 1 JAN,JUL ? *)",
        "UTC",
        {},
        ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"],
    ),
    (
        "cron-leap-day",
        "cron(0 0 29 2 ? *)",
        "UTC",
        {},
        ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"],
    ),
    # day-of-week: AWS's 1 is Sunday and 7 Saturday (cron's 0 and 6)
    (
        "dow-1-is-sunday",
        "cron(0 9 ? * 1 *)",
        "UTC",
        {},
        ["2026-01-04T09:00:00Z", "2026-01-11T09:00:00Z", "2026-01-18T09:00:00Z"],
    ),
    (
        "dow-7-is-saturday",
        "cron(0 9 ? * 7 *)",
        "UTC",
        {},
        ["2026-01-03T09:00:00Z", "2026-01-10T09:00:00Z", "2026-01-17T09:00:00Z"],
    ),
    (
        "dow-range-2-6-weekdays",
        "cron(0 9 ? * 2-6 *)",
        "UTC",
        {},
        ["2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z"],
    ),
    (
        "dow-name-list",
        "cron(0 9 ? * SUN,WED *)",
        "UTC",
        {},
        ["2026-01-04T09:00:00Z", "2026-01-07T09:00:00Z", "2026-01-11T09:00:00Z"],
    ),
    (
        "dow-L-is-saturday",
        "cron(0 9 ? * L *)",
        "UTC",
        {},
        ["2026-01-03T09:00:00Z", "2026-01-10T09:00:00Z", "2026-01-17T09:00:00Z"],
    ),
    # '#': the nth weekday of the month
    (
        "hash-first-monday",
        "cron(0 9 ? * 2#1 *)",
        "UTC",
        {},
        ["2026-01-05T09:00:00Z", "2026-02-02T09:00:00Z", "2026-03-02T09:00:00Z"],
    ),
    (
        "hash-third-friday",
        "cron(0 9 ? * 6#3 *)",
        "UTC",
        {},
        ["2026-01-16T09:00:00Z", "2026-02-20T09:00:00Z", "2026-03-20T09:00:00Z"],
    ),
    (
        "hash-named-second-tuesday",
        "cron(0 10 ? * TUE#2 *)",
        "UTC",
        {},
        ["2026-01-13T10:00:00Z", "2026-02-10T10:00:00Z", "2026-03-10T10:00:00Z"],
    ),
    (
        "hash-fifth-thursday-skips-months",
        "cron(0 10 ? * 5#5 *)",
        "UTC",
        {},
        ["2026-01-29T10:00:00Z", "2026-04-30T10:00:00Z", "2026-07-30T10:00:00Z"],
    ),
    # 'L': the last day of the month; 'nL': the month's last day n of the week
    (
        "L-last-day",
        "cron(0 9 L * ? *)",
        "UTC",
        {},
        ["2026-01-31T09:00:00Z", "2026-02-28T09:00:00Z", "2026-03-31T09:00:00Z"],
    ),
    (
        "6L-last-friday",
        "cron(0 9 ? * 6L *)",
        "UTC",
        {},
        ["2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-27T09:00:00Z"],
    ),
    # 'W': the weekday nearest the day, within the month; 'LW' the last weekday
    (
        "W-nearest-weekday",
        "cron(0 9 15W * ? *)",
        "UTC",
        {},
        ["2026-01-15T09:00:00Z", "2026-02-16T09:00:00Z", "2026-03-16T09:00:00Z"],
    ),
    (
        "1W-stays-in-month",
        "cron(0 9 1W * ? *)",
        "UTC",
        {"after": "2026-07-15T00:00:00Z"},
        ["2026-08-03T09:00:00Z", "2026-09-01T09:00:00Z", "2026-10-01T09:00:00Z"],
    ),
    (
        "LW-last-weekday",
        "cron(0 9 LW * ? *)",
        "UTC",
        {},
        ["2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-31T09:00:00Z"],
    ),
    (
        "LW-every-five-minutes",
        "cron(0/5 23 LW * ? *)",
        "UTC",
        {"after": "2026-02-01T00:00:00Z"},
        ["2026-02-27T23:00:00Z", "2026-02-27T23:05:00Z", "2026-02-27T23:10:00Z"],
    ),
    (
        "LW-every-minute",
        "cron(* * LW * ? *)",
        "UTC",
        {"after": "2026-03-01T00:00:00Z"},
        ["2026-03-31T00:00:00Z", "2026-03-31T00:01:00Z", "2026-03-31T00:02:00Z"],
    ),
    # the year field
    (
        "year-range",
        "cron(0 12 1 1 ? 2027-2029)",
        "UTC",
        {"count": "5"},
        ["2027-01-01T12:00:00Z", "2028-01-01T12:00:00Z", "2029-01-01T12:00:00Z"],
    ),
    (
        "year-increment",
        "cron(0 12 1 1 ? 2026/2)",
        "UTC",
        {},
        ["2026-01-01T12:00:00Z", "2028-01-01T12:00:00Z", "2030-01-01T12:00:00Z"],
    ),
    ("year-single", "cron(0 12 1 1 ? 2027)", "UTC", {"count": "5"}, ["2027-01-01T12:00:00Z"]),
    # start and end dates with cron
    (
        "cron-start-inclusive",
        "cron(0 12 * * ? *)",
        "UTC",
        {"start": "2026-01-03T12:00:00Z"},
        ["2026-01-03T12:00:00Z", "2026-01-04T12:00:00Z", "2026-01-05T12:00:00Z"],
    ),
    (
        "cron-start-after-a-time",
        "cron(0 12 * * ? *)",
        "UTC",
        {"start": "2026-01-03T12:00:01Z"},
        ["2026-01-04T12:00:00Z", "2026-01-05T12:00:00Z", "2026-01-06T12:00:00Z"],
    ),
    (
        "cron-end-exclusive",
        "cron(0 12 * * ? *)",
        "UTC",
        {"end": "2026-01-03T12:00:00Z"},
        ["2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z"],
    ),
    # time zones and daylight saving
    (
        "tz-half-hour-offset",
        "cron(0 12 * * ? *)",
        "Asia/Kolkata",
        {},
        ["2026-01-01T06:30:00Z", "2026-01-02T06:30:00Z", "2026-01-03T06:30:00Z"],
    ),
    (
        "tz-paris-spring-offset-changes",
        "cron(0 9 * * ? *)",
        "Europe/Paris",
        {"after": "2026-03-27T12:00:00Z"},
        ["2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"],
    ),
    (
        "tz-ny-spring-gap-skipped",
        "cron(30 2 * * ? *)",
        "America/New_York",
        {"after": "2026-03-07T00:00:00Z"},
        ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"],
    ),
    (
        "tz-paris-spring-gap-skipped",
        "cron(30 2 * * ? *)",
        "Europe/Paris",
        {"after": "2026-03-28T00:00:00Z"},
        ["2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"],
    ),
    (
        "tz-ny-hourly-spring",
        "cron(0 * * * ? *)",
        "America/New_York",
        {"after": "2026-03-08T05:30:00Z"},
        ["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"],
    ),
    (
        "tz-ny-autumn-once",
        "cron(30 1 * * ? *)",
        "America/New_York",
        {"after": "2026-10-31T00:00:00Z"},
        ["2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"],
    ),
    (
        "tz-ny-autumn-repeated-hour-once",
        "cron(0/30 1 * * ? *)",
        "America/New_York",
        {"after": "2026-11-01T04:00:00Z", "count": "4"},
        [
            "2026-11-01T05:00:00Z",
            "2026-11-01T05:30:00Z",
            "2026-11-02T06:00:00Z",
            "2026-11-02T06:30:00Z",
        ],
    ),
    (
        "tz-ny-hourly-autumn",
        "cron(0 * * * ? *)",
        "America/New_York",
        {"after": "2026-11-01T04:30:00Z"},
        ["2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"],
    ),
    (
        "tz-paris-autumn-once",
        "cron(30 2 * * ? *)",
        "Europe/Paris",
        {"after": "2026-10-24T00:00:00Z"},
        ["2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"],
    ),
    (
        "tz-sydney-autumn-in-april",
        "cron(0 3 ? * 1 *)",
        "Australia/Sydney",
        {"after": "2026-04-01T00:00:00Z"},
        ["2026-04-04T17:00:00Z", "2026-04-11T17:00:00Z", "2026-04-18T17:00:00Z"],
    ),
    # at(): one time, in the zone; start and end dates do not apply
    (
        "at-in-zone",
        "at(2026-06-01T09:00:00)",
        "Europe/Paris",
        {"count": "3"},
        ["2026-06-01T07:00:00Z"],
    ),
    (
        "at-ignores-start-end",
        "at(2026-01-15T12:00:00)",
        "UTC",
        {"start": "2027-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
        ["2026-01-15T12:00:00Z"],
    ),
    (
        "at-repeated-hour-first",
        "at(2026-11-01T01:30:00)",
        "America/New_York",
        {},
        ["2026-11-01T05:30:00Z"],
    ),
    ("at-in-the-past", "at(2025-06-01T00:00:00)", "UTC", {}, []),
]


@pytest.mark.parametrize(
    ("expression", "tz", "options", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_firing_times(
    expression: str, tz: str, options: dict[str, str], expected: list[str]
) -> None:
    # Asking for one more than expected (3 at least) shows where a series ends.
    count = int(options.get("count", "3"))
    bounds = {key: value for key, value in options.items() if key != "count"}
    assert firings(expression, tz, count=count, **bounds) == expected


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("expression", "tz", "before", "expected"),
    [
        ("cron(0 12 * * ? *)", "UTC", "2026-01-05T12:00:00Z", "2026-01-04T12:00:00Z"),
        ("cron(30 2 * * ? *)", "America/New_York", "2026-03-09T00:00:00Z", "2026-03-07T07:30:00Z"),
        ("cron(0 9 ? * 6L *)", "UTC", "2026-03-01T00:00:00Z", "2026-02-27T09:00:00Z"),
        # 06:10Z is 01:10 EST, in the repeated hour: 01:30 EDT (05:30Z) came before it
        ("cron(30 1 * * ? *)", "America/New_York", "2026-11-01T06:10:00Z", "2026-11-01T05:30:00Z"),
        ("cron(* * LW * ? *)", "UTC", "2026-04-02T00:00:00Z", "2026-03-31T23:59:00Z"),
        ("cron(* * LW * ? *)", "UTC", "2026-03-31T00:00:00Z", "2026-02-27T23:59:00Z"),
        ("rate(10 minutes)", "UTC", "2026-01-01T00:25:00Z", "2026-01-01T00:20:00Z"),
        ("rate(10 minutes)", "UTC", "2026-01-01T00:20:00Z", "2026-01-01T00:10:00Z"),
    ],
)
def test_previous_firing_time(expression: str, tz: str, before: str, expected: str) -> None:
    times = FiringTimes(parse_expression(expression), tz, anchor=epoch(NEW_YEAR))
    found = times.previous_before(epoch(before))
    assert found is not None and rfc3339(found) == expected


def test_a_rate_has_no_firing_before_its_origin() -> None:
    times = FiringTimes(parse_expression("rate(1 hour)"), anchor=epoch(NEW_YEAR))
    assert times.previous_before(epoch(NEW_YEAR)) is None


# -- errors: one line naming the field -----------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(61 12 ? * * *)", "minutes field '61': 61 is outside 0-59"),
        ("cron(0 24 ? * * *)", "hours field '24': 24 is outside 0-23"),
        ("cron(0 12 32 * ? *)", "day-of-month field '32': 32 is outside 1-31"),
        ("cron(0 12 ? 13 MON *)", "month field '13': 13 is outside 1-12"),
        ("cron(0 12 ? * 8 *)", "day-of-week field '8': 8 is outside 1-7"),
        ("cron(0 12 ? * 0 *)", "day-of-week field '0': 0 is outside 1-7"),
        ("cron(0 12 ? * FUN *)", "day-of-week field 'FUN': 'FUN' is not a value"),
        ("cron(0 12 ? * 2#6 *)", "day-of-week field '2#6': '#6' must be #1 to #5"),
        ("cron(0 12 ? * 2/2 *)", "day-of-week field '2/2': '/' is not allowed"),
        ("cron(0 12 1 * 2 *)", "one of the day-of-month and day-of-week fields must be '?'"),
        ("cron(0 12 * * * *)", "one of the day-of-month and day-of-week fields must be '?'"),
        ("cron(? 12 1 * ? *)", "minutes field '?': '?' is allowed only in day-of-month"),
        ("cron(0 12 1 * ? 1969)", "year field '1969': 1969 is outside 1970-2199"),
        ("cron(0 12 1 * ? 2150)", "year field '2150': years after 2099 are not supported"),
        ("cron(0 12 * * ?)", "expected 6 fields"),
        ("cron(0/0 12 * * ? *)", "minutes field '0/0': bad increment '0'"),
        ("rate(0 minutes)", "the value must be a positive whole number"),
        ("rate(5 weeks)", "the unit must be minutes, hours or days"),
        ("rate(5 seconds)", "the unit must be minutes, hours or days"),
        ("rate(five minutes)", "the value must be a positive whole number"),
        ("at(2026-01-01 10:00)", "expected at(yyyy-mm-ddThh:mm:ss)"),
        ("every(5 minutes)", "expected rate(...), cron(...) or at(...)"),
    ],
)
def test_bad_expressions_say_which_field(expression: str, message: str) -> None:
    with pytest.raises(ValidationException) as info:
        parse_expression(expression)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_seconds_are_a_test_mode_only() -> None:
    assert parse_expression("rate(2 seconds)", allow_seconds=True).seconds == 2  # type: ignore[union-attr]


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationException, match="'Mars/Base': not an IANA time zone"):
        zone("Mars/Base")


def test_dates_are_utc_unless_they_say_otherwise() -> None:
    assert parse_date("2026-01-01T00:00:00", "StartDate") == epoch(NEW_YEAR)
    assert parse_date("2026-01-01T01:00:00+01:00", "StartDate") == epoch(NEW_YEAR)
    with pytest.raises(ValidationException, match="invalid EndDate 'soon'"):
        parse_date("soon", "EndDate")


# -- the schedule: names, context attributes, flexible windows --------------------------


def schedule(**changes: object) -> Schedule:
    target = Target(
        definition_file="/tmp/m.json",
        arn="arn:aws:states:eu-west-1:123456789012:stateMachine:M",
        input='{"at": "<aws.scheduler.scheduled-time>", "id": "<aws.scheduler.execution-id>", '
        '"arn": "<aws.scheduler.schedule-arn>", "attempt": <aws.scheduler.attempt-number>}',
    )
    base = Schedule(name="nightly", expression="cron(0 2 * * ? *)", target=target)
    return base.with_changes(**changes)


def test_context_attributes_are_substituted_in_the_input() -> None:
    sched = schedule()
    at = epoch("2026-03-22T18:59:00Z")
    payload = json.loads(sched.input_for(at, 2))
    assert payload["at"] == "2026-03-22T18:59:00Z"
    assert payload["arn"] == "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/nightly"
    assert payload["attempt"] == 2
    assert len(payload["id"]) == 16
    assert payload["id"] == sched.execution_id(at, 2) != sched.execution_id(at, 1)


def test_execution_names_derive_from_schedule_and_time() -> None:
    at = epoch("2026-03-22T02:00:00Z")
    assert schedule().execution_name(at) == "nightly-20260322T020000Z"
    long = schedule(name="n" * 64).execution_name(at)
    assert len(long) <= 80 and long.endswith("-20260322T020000Z")
    assert long != schedule(name="n" * 63 + "m").execution_name(at)


def test_the_flexible_offset_is_fixed_and_inside_the_window() -> None:
    sched = schedule(flexible_mode="FLEXIBLE", flexible_window_minutes=15)
    offsets = [sched.offset(epoch(NEW_YEAR) + day * 86400) for day in range(200)]
    assert all(0 <= o < 900 for o in offsets)
    assert len(set(offsets)) > 50
    assert offsets == [sched.offset(epoch(NEW_YEAR) + d * 86400) for d in range(200)]
    assert schedule().offset(epoch(NEW_YEAR)) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "has space"}, "invalid Name 'has space'"),
        ({"timezone": "Nowhere/City"}, "invalid ScheduleExpressionTimezone"),
        ({"state": "PAUSED"}, "invalid State 'PAUSED'"),
        ({"flexible_mode": "FLEXIBLE"}, "MaximumWindowInMinutes must be 1 to 1440"),
        ({"flexible_mode": "FLEXIBLE", "flexible_window_minutes": 1441}, "must be 1 to 1440"),
        ({"flexible_window_minutes": 5}, "only allowed with Mode FLEXIBLE"),
        ({"action_after_completion": "ARCHIVE"}, "invalid ActionAfterCompletion"),
        ({"start_date": 200, "end_date": 100}, "EndDate must be after StartDate"),
        ({"expression": "cron(0 2 * * ?)"}, "expected 6 fields"),
    ],
)
def test_invalid_fields_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationException, match=message.replace("(", r"\(")):
        schedule(**changes).check()


def test_retry_policy_ranges() -> None:
    with pytest.raises(ValidationException, match="MaximumRetryAttempts must be 0 to 185"):
        RetryPolicy(186).check()
    with pytest.raises(ValidationException, match="MaximumEventAgeInSeconds must be 60"):
        RetryPolicy(3, 59).check()


def test_the_input_must_be_json_once_substituted() -> None:
    sched = schedule()
    bad = sched.with_changes(target=Target("/m.json", sched.target.arn, input="{not json"))
    with pytest.raises(ValidationException, match=r"invalid Target\.Input: not JSON"):
        bad.check()


def test_the_aws_shape_round_trips() -> None:
    sched = schedule(
        timezone="Europe/Paris",
        start_date=epoch("2026-02-01T00:00:00Z"),
        end_date=epoch("2027-02-01T00:00:00Z"),
        flexible_mode="FLEXIBLE",
        flexible_window_minutes=10,
        creation_date=epoch(NEW_YEAR) + 0.25,
        last_modification_date=epoch(NEW_YEAR) + 0.5,
    )
    shape = sched.to_aws()
    assert shape["StartDate"] == "2026-02-01T00:00:00Z"
    assert shape["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    assert shape["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 86400,
        "MaximumRetryAttempts": 185,
    }
    assert Schedule.from_aws(json.loads(json.dumps(shape))) == sched


def test_a_utc_time_is_rfc3339_with_z() -> None:
    assert rfc3339(datetime(2026, 3, 22, 18, 59, 43, tzinfo=UTC).timestamp()) == (
        "2026-03-22T18:59:43Z"
    )
