"""The ``asl`` command: ``asl validate`` and ``asl exec``.

Imports are lazy so that ``asl validate`` starts fast (no anyio, boto3 or rich unless
printing needs it). User mistakes print one red line and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asl", description="Run, test and validate AWS Step Functions state machines."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("validate", help="check definitions", add_help=False)
    ex = sub.add_parser("exec", help="run a state machine")
    ex.add_argument("definition", help="the state machine definition (JSON or YAML)")
    src = ex.add_mutually_exclusive_group()
    src.add_argument("--input", metavar="FILE", help="execution input file, or - for stdin")
    src.add_argument("--input-json", metavar="TEXT", help="execution input as JSON text")
    ex.add_argument(
        "--clock",
        choices=("real", "virtual"),
        default="real",
        help="real time, or virtual time that skips waits (default: real)",
    )
    ex.add_argument("--name", default="", help="execution name")
    ex.add_argument("--history", metavar="FILE", help="write the AWS-shaped history here")
    ex.add_argument("--mock-config", metavar="FILE", help="a Step Functions Local MockConfigFile")
    ex.add_argument("--test-case", metavar="NAME", help="the test case of the mock config")
    ex.add_argument(
        "--state-machine",
        metavar="NAME",
        help="state machine name in the mock config (default: the file's stem)",
    )
    ex.add_argument("--seed", type=int, help="seed for jitter and random intrinsics")
    ex.add_argument("--quiet", action="store_true", help="no live trace")
    ex.add_argument(
        "--inspect", action="store_true", help="show each state's input and output in the trace"
    )
    ex.add_argument(
        "--json",
        action="store_true",
        help='print one JSON document: {"status","output","error","cause","events"}',
    )
    return parser


def _error(message: str) -> None:
    try:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    except ImportError:  # pragma: no cover - rich is a dependency
        print(f"error: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``asl`` console script."""
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["validate"]:
        from asl.validate.cli import main as validate_main

        return validate_main(args_list[1:])
    args = _parser().parse_args(args_list)
    try:
        return _exec(args)
    except KeyboardInterrupt:
        return 130


def _read_input(args: argparse.Namespace) -> Any:
    if args.input_json is not None:
        return json.loads(args.input_json)
    if args.input is None:
        return {}
    text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text("utf-8")
    return json.loads(text) if text.strip() else {}


def _exec(args: argparse.Namespace) -> int:
    from asl.errors import DefinitionError, SourceError

    try:
        from asl.source import load_file

        definition = load_file(args.definition).value
        payload = _read_input(args)
    except SourceError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        _error(f"cannot read the input: {exc}")
        return EXIT_USAGE
    from runtime.adapters.mock_config import MockConfig, MockConfigError
    from runtime.api import load_machine

    try:
        machine = load_machine(definition)
    except DefinitionError as exc:
        for diag in exc.diagnostics:
            _error(f"{args.definition}: {diag.location}: {diag.message} [{diag.code}]")
        return EXIT_USAGE
    sm_name = args.state_machine or Path(args.definition).stem.split(".")[0]
    mocks = None
    if args.mock_config:
        if not args.test_case:
            _error("--mock-config needs --test-case")
            return EXIT_USAGE
        try:
            config = MockConfig.load(args.mock_config)
            wanted = args.state_machine or sm_name
            if wanted not in config.test_cases and not args.state_machine:
                wanted = next(iter(config.test_cases)) if len(config.test_cases) == 1 else wanted
            mocks = config.test_case(args.test_case, wanted)
        except MockConfigError as exc:
            _error(str(exc))
            return EXIT_USAGE
    return _run(args, machine, payload, sm_name, mocks)


def _run(args: argparse.Namespace, machine: Any, payload: Any, sm_name: str, mocks: Any) -> int:
    from runtime.api import run_sync
    from runtime.clock import RealClock, VirtualClock

    clock = VirtualClock() if args.clock == "virtual" else RealClock()
    observers = []
    trace = None
    if not args.quiet and not args.json:
        from runtime.trace import LiveTrace

        trace = LiveTrace(machine, virtual=clock.virtual, inspect=args.inspect)
        observers.append(trace.observe)
    try:
        result = run_sync(
            machine,
            payload,
            clock=clock,
            mocks=mocks,
            name=args.name,
            state_machine_name=sm_name,
            observers=observers,
            seed=args.seed,
        )
    finally:
        if trace is not None:
            trace.close()
    if trace is not None:
        trace.summary(result)
    if args.history:
        Path(args.history).write_text(json.dumps({"events": result.history_json()}, indent=2))
    if args.json:
        doc = {
            "status": result.status,
            "output": result.output,
            "error": result.error,
            "cause": result.cause,
            "events": result.event_types,
        }
        sys.stdout.write(json.dumps(doc) + "\n")
    elif result.succeeded:
        sys.stdout.write(json.dumps(result.output, indent=2) + "\n")
    else:
        detail = ": ".join(str(part) for part in (result.error, result.cause) if part)
        _error(f"{result.status}: {detail}" if detail else result.status)
    return EXIT_OK if result.succeeded else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
