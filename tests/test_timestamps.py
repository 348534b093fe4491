"""Tests for asl.timestamps: the timestamp grammar AWS accepts, instants and printing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asl.timestamps import format_timestamp, is_timestamp, parse_timestamp, timestamp_key

# Accepted by AWS (conformance cases) or by Java's ISO_OFFSET_DATE_TIME, which AWS names.
VALID = [
    "2012-10-09T19:00:55Z",  # conformance timestamp_operators.*
    "2012-10-09T19:00:55+01:00",
    "2016-03-05T21:29:29.243167252Z",  # conformance wait_timestamp_path.nanoseconds
    "2016-03-14T01:59:00Z",
    "2016-03-14t01:59:00z",  # the formatter parses case-insensitively
    "2016-03-14T01:59Z",  # seconds are optional in ISO_LOCAL_TIME
    "2016-03-14T01:59:00.5-05:30",
    "2016-03-14T01:59:00+18:00",
    "2016-03-14T01:59:00-00:00",
    "2016-03-14T01:59:00+05:30:15",
    "2024-02-29T23:59:59.999999999Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
]

INVALID = [
    "2012-10-09T19:00:55",  # conformance wait_timestamp_jsonata.no_z
    "2016-12-05 21:29:29Z",  # no_t
    "2016-13-05T21:29:29Z",  # invalid_date
    "2016-12-05T25:29:29Z",  # invalid_time
    "05-12-2016T21:29:29Z",  # invalid_iso
    "2023-02-24",
    "2023-02-24 12:15:56.832957",
    "2023-02-29T00:00:00Z",
    "2016-12-05T21:29:60Z",
    "2016-12-05T24:00:00Z",
    "2016-12-05T21:29:29.1234567890Z",  # ten fraction digits
    "2016-12-05T21:29:29+18:01",
    "2016-12-05T21:29:29+01",
    "2016-12-05T21:29:29+0100",
    "2016-12-05T21:29:29 Z",
    " 2016-12-05T21:29:29Z",
    "2016-12-05T21:29:29Z ",
    "2016-12-05T21:29:29Z\n",
    "+2016-12-05T21:29:29Z",
    "0000-01-01T00:00:00Z",
    "20161205T212929Z",
    "2016-W01-1T00:00:00Z",
    "２０１６-12-05T21:29:29Z",  # fullwidth digits are not ASCII digits
    "",
    "Z",
    "HelloWorld",
]


@pytest.mark.parametrize("text", VALID)
def test_accepts(text: str) -> None:
    assert parse_timestamp(text) is not None
    assert timestamp_key(text) is not None
    assert is_timestamp(text)


@pytest.mark.parametrize("text", INVALID)
def test_rejects(text: str) -> None:
    assert parse_timestamp(text) is None
    assert timestamp_key(text) is None
    assert not is_timestamp(text)


@pytest.mark.parametrize("value", [None, 0, 1.5, True, [], {}, ["2012-10-09T19:00:55Z"]])
def test_non_strings_are_not_timestamps(value: object) -> None:
    assert not is_timestamp(value)
    assert timestamp_key(value) is None  # type: ignore[arg-type]


def test_parse_keeps_the_offset_and_truncates_to_microseconds() -> None:
    parsed = parse_timestamp("2016-03-05T21:29:29.243167252+01:30")
    zone = timezone(timedelta(hours=1, minutes=30))
    assert parsed == datetime(2016, 3, 5, 21, 29, 29, 243167, tzinfo=zone)
    assert parsed is not None and parsed.utcoffset() == timedelta(hours=1, minutes=30)


def test_parse_of_z_is_utc() -> None:
    assert parse_timestamp("2012-10-09T19:00:55Z") == datetime(2012, 10, 9, 19, 0, 55, tzinfo=UTC)


def test_keys_compare_instants_across_offsets() -> None:
    assert timestamp_key("2012-10-09T19:00:55+01:00") == timestamp_key("2012-10-09T18:00:55Z")
    assert timestamp_key("2025-01-01T07:00:00.000-05:00") == timestamp_key("2025-01-01T12:00:00Z")
    earlier, later = timestamp_key("2012-10-09T19:00:55Z"), timestamp_key("2012-10-09T19:00:56Z")
    assert earlier is not None and later is not None and earlier < later


def test_keys_keep_nanoseconds() -> None:
    low = timestamp_key("2016-03-05T21:29:29.000000001Z")
    zero = timestamp_key("2016-03-05T21:29:29Z")
    assert low is not None and zero is not None and low == zero + 1


def test_keys_near_the_ends_of_the_calendar_do_not_overflow() -> None:
    first = timestamp_key("0001-01-01T00:00:00+01:00")
    last = timestamp_key("9999-12-31T23:59:59-18:00")
    assert first is not None and last is not None and first < last


def test_format_like_aws_context_object() -> None:
    assert format_timestamp(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00.000Z"
    moment = datetime(2019, 3, 26, 20, 14, 13, 192999, tzinfo=UTC)
    assert format_timestamp(moment) == "2019-03-26T20:14:13.192Z"


def test_format_converts_to_utc_and_takes_naive_as_utc() -> None:
    zone = timezone(timedelta(hours=2))
    assert format_timestamp(datetime(2024, 1, 1, 2, 0, tzinfo=zone)) == "2024-01-01T00:00:00.000Z"
    assert format_timestamp(datetime(2024, 1, 1, 5, 6, 7)) == "2024-01-01T05:06:07.000Z"


def test_format_round_trips_through_parse() -> None:
    text = "2019-03-26T20:14:13.192Z"
    parsed = parse_timestamp(text)
    assert parsed is not None and format_timestamp(parsed) == text


@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    parsed = parse_timestamp(text)
    assert (parsed is None) == (timestamp_key(text) is None)


@given(st.text(alphabet="0123456789-:.+TtZz ", max_size=40))
def test_near_miss_text_never_raises(text: str) -> None:
    parsed = parse_timestamp(text)
    assert (parsed is None) == (timestamp_key(text) is None)


@given(st.datetimes(timezones=st.just(UTC)))
def test_formatted_datetimes_parse_back(moment: datetime) -> None:
    parsed = parse_timestamp(format_timestamp(moment))
    assert parsed == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_long_input_is_rejected_quickly() -> None:
    assert parse_timestamp("2016-03-05T21:29:29." + "1" * 1_000_000 + "Z") is None
