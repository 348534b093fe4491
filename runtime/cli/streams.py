"""Keeping a command's standard output for its own result.

Local handlers write logs with ``print()`` as Lambda functions do (Lambda sends them to
CloudWatch Logs, not to the caller). While an execution runs, :func:`handler_output_to_stderr`
sends everything written to standard output, by Python code or by child processes, to
standard error, so ``asl exec --json`` prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["handler_output_to_stderr"]


@contextlib.contextmanager
def handler_output_to_stderr() -> Iterator[None]:
    """Within the block, standard output (``sys.stdout`` and file descriptor 1) goes to
    standard error; both are restored afterwards, whatever happens in the block."""
    saved_stream = sys.stdout
    saved_fd = _redirect_fd()
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        sys.stdout = saved_stream
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


def _redirect_fd() -> int | None:
    """Point descriptor 1 at descriptor 2; return a copy of the old descriptor 1."""
    try:
        sys.stdout.flush()
        if sys.stdout.fileno() != 1 or sys.stderr.fileno() != 2:
            return None  # a test harness or an embedding replaced the streams
    except (AttributeError, OSError, ValueError):
        return None
    saved = os.dup(1)
    os.dup2(2, 1)
    return saved
