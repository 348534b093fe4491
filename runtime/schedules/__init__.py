"""Schedules after Amazon EventBridge Scheduler: expressions, firing times, and the firing
step ``asl serve`` calls.

>>> from runtime.schedules.expressions import parse_expression
>>> from runtime.schedules.times import FiringTimes
>>> times = FiringTimes(parse_expression("cron(0 12 ? * 6L *)"))  # the last Friday, noon
>>> from runtime.schedules.model import rfc3339
>>> rfc3339(times.next_after(1767225600))  # after 2026-01-01T00:00:00Z
'2026-01-30T12:00:00Z'
"""

from __future__ import annotations
