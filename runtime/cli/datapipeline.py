"""``asl import-datapipeline PIPELINE.json --out DIR``: an AWS Data Pipeline as a state machine.

Writes ``DIR/machine.asl.json``, ``DIR/schedule.json`` (a CreateSchedule request, for
``asl schedule create --cli-input-json``) when the pipeline has a schedule, with
``--emit-mocks`` ``DIR/MockConfigFile.json`` (state machine ``machine``, test case
``Default``) and ``DIR/input.json`` (the execution input of a manual run), and prints the
migration report. The conversion is in :mod:`asl.datapipeline`; this module reads,
checks and writes.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from asl.commandline import CommandParser, error_line

__all__ = ["main"]

EXIT_OK, EXIT_ERROR = 0, 2


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="asl import-datapipeline", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("pipeline", metavar="PIPELINE.json", help="the pipeline definition")
    parser.add_argument("--out", required=True, metavar="DIR", help="where to write the files")
    parser.add_argument(
        "--emit-mocks", action="store_true", help="also write MockConfigFile.json and input.json"
    )
    parser.add_argument("--name", help="state machine and schedule name (default: file stem)")
    parser.add_argument(
        "--shell-runner",
        choices=("activity", "batch", "ecs"),
        default="activity",
        help="ShellCommandActivity as an activity task for asl worker (default), or a "
        "batch:submitJob.sync / ecs:runTask.sync task",
    )
    parser.add_argument("--region", default="us-east-1", help="region of the ARNs written")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: list[str]) -> int:
    """``asl import-datapipeline ...``."""
    from asl.datapipeline import PipelineError, convert_pipeline, read_pipeline, render_report
    from asl.validate import validate

    args = _parser().parse_args(argv)
    source = Path(args.pipeline)
    try:
        document = json.loads(source.read_text("utf-8"))
    except OSError as exc:
        error_line(f"asl import-datapipeline: {source}: {exc.strerror or exc}")
        return EXIT_ERROR
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        error_line(f"asl import-datapipeline: {source}: not JSON: {exc}")
        return EXIT_ERROR
    name = args.name or source.name.split(".")[0].replace(".", "-")
    try:
        pipeline = read_pipeline(document)
        converted = convert_pipeline(
            pipeline, name, shell_runner=args.shell_runner, region=args.region
        )
    except PipelineError as exc:
        error_line(f"asl import-datapipeline: {source}: {exc}")
        return EXIT_ERROR
    problems = [d for d in validate(converted.machine) if d.severity == "ERROR"]
    if problems:  # a bug of the converter, never the user's: say so, write nothing
        first = problems[0]
        error_line(
            "asl import-datapipeline: the converted definition is invalid (a converter bug): "
            f"{first}"
        )
        return EXIT_ERROR
    if converted.schedule is not None:
        problem = _check_schedule(converted.schedule)
        if problem:
            error_line(f"asl import-datapipeline: {source}: the schedule: {problem}")
            return EXIT_ERROR
    files = {"machine.asl.json": converted.machine}
    if converted.schedule is not None:
        files["schedule.json"] = converted.schedule
    if args.emit_mocks:
        files["MockConfigFile.json"] = converted.mocks
        files["input.json"] = converted.execution_input
    out = Path(args.out)
    try:
        _write_all(out, files)
    except OSError as exc:
        error_line(f"asl import-datapipeline: {out}: {exc.strerror or exc}")
        return EXIT_ERROR
    written = [str(out / name) for name in files]
    if args.json:
        print(json.dumps(_report_json(converted, written), indent=2))
    else:
        print(render_report(converted, name, written))
    return EXIT_OK


def _check_schedule(request: dict[str, Any]) -> str | None:
    """The schedule's expression and dates as ``asl schedule create`` checks them."""
    from runtime.schedules.errors import ScheduleError
    from runtime.schedules.expressions import parse_expression

    try:
        parse_expression(request["ScheduleExpression"])
    except ScheduleError as exc:
        return str(exc)
    return None


def _write_all(out: Path, files: dict[str, Any]) -> None:
    """Every file or none: each is written beside its place, then renamed over it."""
    out.mkdir(parents=True, exist_ok=True)
    mask = os.umask(0)
    os.umask(mask)
    staged: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            handle, temp_name = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            staged.append((name, Path(temp_name)))
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(data, stream, indent=2)
                stream.write("\n")
            os.chmod(temp_name, 0o666 & ~mask)  # as open(..., "w") makes it, not 0o600
    except BaseException:
        for _, staged_file in staged:
            staged_file.unlink(missing_ok=True)
        raise
    for name, staged_file in staged:
        os.replace(staged_file, out / name)


def _report_json(converted: Any, written: list[str]) -> dict[str, Any]:
    return {
        "written": written,
        "objects": [
            {
                "id": entry.obj.id,
                "type": entry.obj.type or "Default",
                "became": entry.became,
                "notCarriedOver": entry.lost,
            }
            for entry in converted.entries
        ],
    }
