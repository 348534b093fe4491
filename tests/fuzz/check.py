"""Run one fuzz case and judge it: the only acceptable outcomes are an execution result
(whatever its status) whose output and history are strict JSON, a definition refused with
its diagnostics, an input refused with a ValueError, or a command that ends with an exit
status and no traceback. Anything else is a finding, returned with its traceback.

``python -m tests.fuzz.check`` is the worker the harness starts: it reads one case per
line on stdin and answers one verdict per line on stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

__all__ = ["check", "main"]

Verdict = dict[str, Any]


def _strict(value: Any, what: str) -> str | None:
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, TypeError) as exc:
        return f"{what} is not strict JSON: {exc}"
    return None


def _mocks(case: dict[str, Any]) -> Any:
    from tests.conformance_cases import _mock_config

    config = _mock_config({"mocks": case.get("mocks")}) if case.get("mocks") else None
    return config.test_case("Recorded", "conformance") if config else None


def _library(definition: Any, data: Any, mocks: Any) -> Verdict:
    from asl.errors import ASLError
    from runtime import VirtualClock, run_sync

    try:
        result = run_sync(
            definition, data, clock=VirtualClock(), mocks=mocks, state_machine_name="conformance"
        )
    except ASLError as exc:  # a refused definition or mock configuration
        return {"outcome": f"refused: {type(exc).__name__}"}
    except ValueError as exc:  # documented for one thing only: an input over 256 KiB
        if "262,144 bytes" not in str(exc):
            raise
        return {"outcome": "refused: input over 256 KiB"}
    problem = _strict(result.output, "the output") or _strict(result.history_json(), "the history")
    if problem:
        return {"finding": problem}
    return {"outcome": f"{result.status} {result.error or ''}".strip()}


def _command(case: dict[str, Any]) -> Verdict:
    from runtime.cli import main as asl

    with tempfile.TemporaryDirectory() as folder:
        machine = Path(folder) / "machine.asl.json"
        machine.write_text(json.dumps(case["definition"]), "utf-8")
        given = Path(folder) / "input.json"
        given.write_text(json.dumps(case["input"]), "utf-8")
        argv = {
            "exec": ["exec", str(machine), "--input", str(given), "--no-store", "--json"],
            "validate": ["validate", str(machine)],
            "graph": ["graph", str(machine), "-f", "svg"],
        }[case["via"]]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = asl([*argv, "--clock", "virtual"] if case["via"] == "exec" else argv)
    if "Traceback" in err.getvalue():
        return {"finding": f"asl {case['via']} printed a traceback:\n{err.getvalue()[-3000:]}"}
    if case["via"] == "exec" and status == 0:
        try:
            json.loads(out.getvalue(), parse_constant=_not_json)
        except ValueError as exc:
            return {"finding": f"asl exec --json printed something that is not JSON: {exc}"}
    return {"outcome": f"exit {status}"}


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} in the output")


def check(case: dict[str, Any]) -> Verdict:
    """Judge one case; never raises (a raised exception is the finding)."""
    try:
        if case["kind"] == "expression":
            from tests.fuzz.cases import machine_for

            return _library(machine_for(case), case["input"], None)
        if case["via"] != "library":
            return _command(case)
        return _library(case["definition"], case["input"], _mocks(case))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {"finding": "".join(traceback.format_exception(exc))[-4000:]}


#: JSONata's own bound on one evaluation is 10 s (asl.jsonata.engine), the harness's bound
#: on a whole case too: a worker lowers it so that an endless JSONata loop ends as the
#: D1012 evaluation error it is, inside the case's 10 s.
JSONATA_SECONDS = 3.0


def main() -> int:
    """Worker loop: one case per stdin line, one verdict per stdout line."""
    from asl.jsonata import engine
    from runtime.cli import exec as _exec  # noqa: F401  (imported before the first case)
    from tests.fuzz import cases as _cases  # noqa: F401

    engine.EVALUATION_TIMEOUT_SECONDS = JSONATA_SECONDS
    # Start-up is not a case's time: the harness starts the clock after this line.
    sys.stdout.write('{"ready": true}\n')
    sys.stdout.flush()
    for line in sys.stdin:
        start = time.perf_counter()
        verdict = check(json.loads(line))
        verdict["seconds"] = time.perf_counter() - start
        verdict["rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sys.stdout.write(json.dumps(verdict) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
