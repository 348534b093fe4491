"""Run the recorded AWS executions of ``../shared/conformance`` in-process.

The same comparison as ``../shared/conformance/run.py`` (which drives ``asl exec``), but
through the library, so the whole corpus runs in seconds inside ``make test``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime import MockConfig, VirtualClock, run_sync

SHARED = Path(os.environ.get("ASL_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CASES = SHARED / "conformance" / "cases"


@dataclass
class Outcome:
    id: str
    ok: bool
    why: str = ""
    cause_ok: bool | None = None
    events_ok: bool | None = None


def case_files() -> list[Path]:
    return sorted(CASES.glob("*.json")) if CASES.is_dir() else []


def _mock_config(case: dict[str, Any]) -> MockConfig | None:
    mocks = case.get("mocks") or {}
    if not mocks:
        return None
    responses, test_case = {}, {}
    for i, (state, results) in enumerate(sorted(mocks.items())):
        name = f"Recorded{i}"
        test_case[state] = name
        responses[name] = {str(n): r for n, r in enumerate(results)}
    return MockConfig.parse(
        {
            "StateMachines": {"conformance": {"TestCases": {"Recorded": test_case}}},
            "MockedResponses": responses,
        }
    )


def _same_json(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str) and a != b:
        try:
            return bool(json.loads(a) == json.loads(b))
        except ValueError:
            return False
    return bool(a == b)


def run_case(path: Path) -> Outcome:
    case = json.loads(path.read_text())
    exp = case["expected"]
    config = _mock_config(case)
    mocks = config.test_case("Recorded", "conformance") if config else None
    try:
        got = run_sync(
            case["definition"],
            case.get("input", {}),
            clock=VirtualClock(),
            mocks=mocks,
            state_machine_name="conformance",
        )
    except Exception as exc:  # report, do not crash the corpus
        return Outcome(case["id"], False, f"raised {type(exc).__name__}: {exc}")
    out = Outcome(case["id"], False)
    if got.status != exp["status"]:
        out.why = (
            f"status {got.status} {got.error} {str(got.cause)[:200]}, expected {exp['status']}"
        )
        return out
    if got.status == "SUCCEEDED":
        if not _same_json(got.output, exp.get("output")):
            out.why = (
                f"output {json.dumps(got.output)[:300]} expected "
                f"{json.dumps(exp.get('output'))[:300]}"
            )
            return out
    else:
        if exp.get("error") is not None and got.error != exp.get("error"):
            out.why = f"error {got.error!r}, expected {exp.get('error')!r} ({got.cause})"
            return out
        if exp.get("cause") is not None:
            out.cause_ok = _same_json(got.cause, exp.get("cause"))
    if case.get("events"):
        out.events_ok = got.event_types == list(case["events"])
    out.ok = True
    return out


def run_all(filter: str = "") -> Iterator[Outcome]:
    for path in case_files():
        if filter in path.stem:
            yield run_case(path)


if __name__ == "__main__":
    import sys

    results = list(run_all(sys.argv[1] if len(sys.argv) > 1 else ""))
    for r in results:
        if not r.ok:
            print(f"FAIL {r.id}: {r.why}")
        elif r.cause_ok is False:
            print(f"CAUSE {r.id}")
        elif r.events_ok is False:
            print(f"EVENTS {r.id}")
    ok = sum(r.ok for r in results)
    causes = [r.cause_ok for r in results if r.cause_ok is not None]
    events = [r.events_ok for r in results if r.events_ok is not None]
    print(f"causes {sum(causes)}/{len(causes)} events {sum(events)}/{len(events)}")
    print(f"{ok} passed, {len(results) - ok} failed")
