"""The live trace ``asl exec`` prints on stderr, and its summary table.

>>> trace = LiveTrace(machine, virtual=True)          # doctest: +SKIP
>>> result = run_sync(machine, observers=[trace.observe])  # doctest: +SKIP
>>> trace.close(); trace.summary(result)               # doctest: +SKIP
"""

from __future__ import annotations

from runtime.trace.format import format_duration, shorten
from runtime.trace.live import LiveTrace

__all__ = ["LiveTrace", "format_duration", "shorten"]
