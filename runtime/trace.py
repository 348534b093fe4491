"""Placeholder replaced by the live trace; prints nothing."""

from __future__ import annotations

from typing import Any


class LiveTrace:
    def __init__(self, machine: Any, virtual: bool = False) -> None:
        pass

    def observe(self, event: Any, frame: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def summary(self, result: Any) -> None:
        pass
