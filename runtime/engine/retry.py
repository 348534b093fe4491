"""Retry and Catch: which retrier or catcher handles an error, and how long to back off.

SPEC §Errors and §Retrying after an error; DG "Handling errors in Step Functions
workflows". AWS-only rules: ``States.TaskFailed`` in ErrorEquals matches every error but
``States.Timeout``; ``States.Runtime`` and ``States.DataLimitExceeded`` are terminal and
matched by nothing, not even ``States.ALL``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from asl.model import Catcher, Retrier

__all__ = ["backoff_delay", "find_catcher", "find_retrier", "matches"]


def matches(error_equals: Sequence[str], error: str, heartbeat: bool = False) -> bool:
    """True when an ``ErrorEquals`` list handles ``error``.

    Terminal errors raised by the interpreter never reach here (see
    :func:`runtime.engine.recovery.with_recovery`); one reported by a service does, and only a
    catcher naming it exactly, ``States.ALL`` or ``States.TaskFailed`` handles it.
    """
    for name in error_equals:
        if name == error or name == "States.ALL":
            return True
        if name == "States.TaskFailed" and error != "States.Timeout":
            return True
        # States.HeartbeatTimeout is a matching-only name for a missed heartbeat,
        # which AWS records as States.Timeout (SPEC.md A.10).
        if name == "States.HeartbeatTimeout" and heartbeat:
            return True
    return False


def find_retrier(retriers: Sequence[Retrier], error: str, heartbeat: bool = False) -> int | None:
    """Index of the first retrier whose ErrorEquals matches ``error``."""
    for index, retrier in enumerate(retriers):
        if matches(retrier.error_equals, error, heartbeat):
            return index
    return None


def find_catcher(catchers: Sequence[Catcher], error: str, heartbeat: bool = False) -> int | None:
    """Index of the first catcher whose ErrorEquals matches ``error``."""
    for index, catcher in enumerate(catchers):
        if matches(catcher.error_equals, error, heartbeat):
            return index
    return None


def backoff_delay(retrier: Retrier, retries_done: int, rng: random.Random) -> float:
    """Seconds to wait before retry number ``retries_done + 1`` of this retrier.

    ``IntervalSeconds × BackoffRate^retries_done``, capped by ``MaxDelaySeconds``, then
    drawn uniformly from ``[0, delay]`` under ``JitterStrategy: FULL``.
    """
    delay = retrier.interval_seconds * retrier.backoff_rate**retries_done
    if retrier.max_delay_seconds is not None:
        delay = min(delay, retrier.max_delay_seconds)
    if retrier.jitter_full:
        delay = rng.uniform(0, delay)
    return float(delay)
