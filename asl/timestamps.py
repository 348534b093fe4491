"""RFC 3339 timestamps as AWS Step Functions reads and prints them.

AWS parses timestamps (Choice ``Timestamp*``/``IsTimestamp``, Wait ``Timestamp``/
``TimestampPath``) as "the ISO-8601 extended offset date-time format": its failure cause
reads "...cannot be parsed as an ISO-8601 extended offset date-time format string"
(conformance ``base_scenarios.wait_timestamp_*``), which is the wording of Java's
``DateTimeFormatter.ISO_OFFSET_DATE_TIME``. That grammar, which this module follows, is::

    YYYY-MM-DD ('T'|'t') hh:mm [':' ss ['.' 0-9 digits]] ('Z'|'z'| ('+'|'-') hh:mm [':' ss])

- the offset is mandatory (``2016-12-05T21:29:29`` fails, conformance ``no_z``), a space
  is not a separator (``no_t``), dates and times are checked strictly (``2016-13-05``,
  ``25:29:29`` fail), up to nine fraction digits are accepted (``nanoseconds``);
- letters are case-insensitive (Java parses this formatter case-insensitively);
- offsets are at most 18 hours (Java's ``ZoneOffset`` range).

Years outside 0001-9999 (Java accepts ``+10000-...`` and ``-0001-...``) cannot be held by
Python's ``datetime``; they are reported as not timestamps.

The parser never raises and runs in constant time: input longer than the longest
timestamp is rejected at once, and the rest goes through one regular expression of
fixed-width fields that cannot backtrack. Only ASCII ``0``-``9`` count as digits.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

__all__ = ["format_timestamp", "is_timestamp", "parse_timestamp", "timestamp_key"]

#: ``YYYY-MM-DDThh:mm:ss.nnnnnnnnn+hh:mm:ss`` is the longest accepted text.
_MAX_LENGTH = 38
#: ``YYYY-MM-DDThh:mmZ`` is the shortest.
_MIN_LENGTH = 17
_MAX_OFFSET_SECONDS = 18 * 3600
_MAX_FRACTION_DIGITS = 9
_SECONDS_PER_DAY = 86_400

# Fixed-width fields and no nested repetition: the match cannot backtrack, and the length
# check before it bounds the work. ``[0-9]`` rather than ``\d``, which matches any
# Unicode digit.
_GRAMMAR = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]{0,9}))?)?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)"
)

# The parsed fields: day ordinal, hour, minute, second, nanosecond, offset in seconds.
_Fields = tuple[int, int, int, int, int, int]


def parse_timestamp(text: str) -> datetime | None:
    """Return ``text`` as an aware ``datetime`` in its own offset, or None if not a timestamp.

    Fraction digits beyond microseconds are truncated (use :func:`timestamp_key` to
    compare instants at full nanosecond precision).
    """
    fields = _scan(text)
    if fields is None:
        return None
    days, hour, minute, second, nanos, offset = fields
    zone = UTC if offset == 0 else timezone(timedelta(seconds=offset))
    moment = datetime.combine(date.fromordinal(days), time(hour, minute, second, nanos // 1000))
    return moment.replace(tzinfo=zone)


def timestamp_key(text: str) -> int | None:
    """Return the instant ``text`` denotes, in nanoseconds on a fixed scale, or None.

    Two timestamps denote the same instant exactly when their keys are equal, and
    order as their keys do: this is what the Choice ``Timestamp*`` operators compare.
    Integer arithmetic avoids both ``datetime`` overflow near year 1/9999 and the
    loss of the digits beyond microseconds.
    """
    fields = _scan(text)
    if fields is None:
        return None
    days, hour, minute, second, nanos, offset = fields
    seconds = days * _SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset
    return seconds * 1_000_000_000 + nanos


def is_timestamp(value: Any) -> bool:
    """True when ``value`` is a string AWS accepts as a timestamp (Choice ``IsTimestamp``)."""
    return isinstance(value, str) and _scan(value) is not None


def format_timestamp(dt: datetime) -> str:
    """Print ``dt`` the way AWS prints timestamps: UTC, milliseconds, ``Z``.

    AWS shows context-object times as ``2019-03-26T20:14:13.192Z`` (DG: context object).
    Sub-millisecond digits are truncated, not rounded; a naive ``dt`` is taken as UTC.
    """
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T"
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}.{dt.microsecond // 1000:03d}Z"
    )


def _scan(text: Any) -> _Fields | None:
    """Split ``text`` into checked fields, or None when it is not a timestamp."""
    if not isinstance(text, str) or not _MIN_LENGTH <= len(text) <= _MAX_LENGTH:
        return None
    return _scan_short(text)


@lru_cache(maxsize=4096)
def _scan_short(text: str) -> _Fields | None:
    """:func:`_scan` for a string of plausible length; cached, as loops re-read the same times."""
    match = _GRAMMAR.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, oh, om, os_ = match.groups()
    offset = 0 if zulu else _offset_seconds(sign, oh, om, os_)
    seconds = int(second) if second else 0
    if offset is None or int(hour) > 23 or int(minute) > 59 or seconds > 59:
        return None
    days = _day_number(int(year), int(month), int(day))
    if days is None:
        return None
    # Java's fraction parser takes 0 to 9 digits after the point.
    nanos = int(fraction.ljust(_MAX_FRACTION_DIGITS, "0")) if fraction else 0
    return days, int(hour), int(minute), seconds, nanos, offset


def _offset_seconds(sign: str, hours: str, minutes: str, seconds: str | None) -> int | None:
    """The signed offset in seconds, or None beyond Java's ``ZoneOffset`` range."""
    h, m, s = int(hours), int(minutes), int(seconds) if seconds else 0
    total = h * 3600 + m * 60 + s
    if h > 23 or m > 59 or s > 59 or total > _MAX_OFFSET_SECONDS:
        return None
    return -total if sign == "-" else total


def _day_number(year: int, month: int, day: int) -> int | None:
    """The proleptic ordinal of the date, or None when it does not exist (2023-02-30)."""
    try:
        return date(year, month, day).toordinal()
    except ValueError:
        return None
