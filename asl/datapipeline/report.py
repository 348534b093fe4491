"""The migration report: every pipeline object, what it became, what was not carried over."""

from __future__ import annotations

from asl.datapipeline.build import Converted

__all__ = ["render_report"]


def render_report(converted: Converted, name: str, written: list[str]) -> str:
    """The report as text, one block per pipeline object in file order."""
    states = len(converted.machine["States"])
    lines = [
        f"Data Pipeline '{name}': {len(converted.entries)} objects -> {states} top-level states",
        "written: " + ", ".join(written),
        "",
    ]
    lost = 0
    for entry in converted.entries:
        kind = entry.obj.type or "Default"
        lines.append(f"{entry.obj.id} ({kind})")
        for text in entry.became:
            lines.append(f"  -> {text}")
        for text in entry.lost:
            lines.append(f"  !! not carried over: {text}")
            lost += 1
    lines += ["", f"{lost} item(s) not carried over (marked !!)."]
    return "\n".join(lines)
