"""``asl mock init``: write a MockConfigFile with a test case per path worth testing.

The file goes to stdout, or to ``--out FILE`` (written whole or not at all; an existing
file is kept unless ``--force``). What each test case tests and how it ends, and the paths
that could not be forced, are reported on stderr. User mistakes are one red line, exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from asl.commandline import CommandParser, did_you_mean, error_line, write_whole
from asl.errors import ASLError

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
ACTIONS = ("init",)


def _parser() -> argparse.ArgumentParser:
    cmd = CommandParser(
        prog="asl mock init",
        description="Write a MockConfigFile (AWS Step Functions Local's format) with one "
        "test case per path worth testing: the happy path, each Catch, each Retry, each "
        "Choice outcome the mocked answers can force. Each test case is run before it "
        "is written.",
    )
    cmd.add_argument("definition", help="the definition (JSON or YAML), or a template holding it")
    from asl.templates import add_arguments

    add_arguments(cmd)
    cmd.add_argument(
        "--state-machine",
        metavar="NAME",
        help="the state machine's key in the file (default: the template resource, else the "
        "definition file's stem, as asl exec looks it up)",
    )
    cmd.add_argument("--out", metavar="FILE", help="write the file here (default: stdout)")
    cmd.add_argument("--force", action="store_true", help="replace an existing --out file")
    cmd.add_argument(
        "--expectations",
        action="store_true",
        help="with --out X.json, also write X.expect.yaml: each test case's outcome as it "
        "ran, so that asl test X.json checks them",
    )
    given = cmd.add_mutually_exclusive_group()
    given.add_argument(
        "--input", metavar="FILE", help="the execution input the test cases run with"
    )
    given.add_argument("--input-json", metavar="TEXT", help="the same, as JSON text")
    cmd.add_argument(
        "--bucket",
        dest="buckets",
        metavar="NAME=DIR",
        action="append",
        default=[],
        help="S3 bucket NAME as local folder DIR, for a Distributed Map's ResultWriter or "
        "an ItemReader left unmocked, as asl exec takes it; the runs use a copy, DIR is "
        "not written (repeatable)",
    )
    return cmd


class _Usage(Exception):
    """A mistake in the command line or its files."""


def main(argv: list[str]) -> int:
    """Run ``asl mock ACTION ...`` with ``argv`` (without ``mock``)."""
    if argv and argv[0] in ("-h", "--help"):
        print("usage: asl mock init DEFINITION [options]   (asl mock init --help)")
        return EXIT_OK
    if not argv:
        error_line("asl mock: name the action: asl mock init DEFINITION")
        return EXIT_USAGE
    if argv[0] not in ACTIONS:
        close = did_you_mean(argv[0], ACTIONS)
        hint = f" (did you mean {close!r}?)" if close else ""
        error_line(f"asl mock: unknown action {argv[0]!r}{hint}; the action is: init")
        return EXIT_USAGE
    args = _parser().parse_args(argv[1:])
    try:
        return _init(args)
    except _Usage as exc:
        for line in str(exc).splitlines():
            error_line(line)
        return EXIT_USAGE


def _init(args: argparse.Namespace) -> int:
    from asl.errors import DefinitionError, SourceError
    from asl.templates import print_messages, read_definition

    try:
        read = read_definition(args.definition, resource=args.resource, subs=args.subs)
    except SourceError as exc:
        raise _Usage(str(exc)) from exc
    print_messages(read, sys.stderr)
    payload = _input(args)
    _check_out(args)
    from runtime.api import load_machine

    try:
        machine = load_machine(read.document.value)
    except DefinitionError as exc:
        raise _Usage(
            "\n".join(
                f"{args.definition}: {d.location}: {d.message} [{d.code}]" for d in exc.diagnostics
            )
        ) from exc
    name = args.state_machine or read.resource or Path(args.definition).stem.split(".")[0]
    from runtime.testing.mockinit import generate

    with _bucket_copies(args.buckets) as buckets:
        from runtime.durable.launch import services_from

        try:
            services = services_from({"buckets": buckets, "offline": True})
        except ASLError as exc:
            raise _Usage(str(exc)) from exc
        made = generate(machine, payload, name, services)
    if not made.cases:
        error_line(f"asl mock init: nothing written: {made.notes[0]}")
        return EXIT_FAILED
    text = json.dumps(made.document, indent=2) + "\n"
    if args.out:
        _write(Path(args.out), text)
        if args.expectations:
            sidecar = _sidecar_path(Path(args.out))
            _write(sidecar, _expectations(made, name, args, payload, sidecar))
    else:
        sys.stdout.write(text)
    _report(made, name, args)
    return EXIT_OK


@contextlib.contextmanager
def _bucket_copies(specs: list[str]) -> Iterator[list[str]]:
    """``NAME=DIR`` specs pointing at temporary copies of the folders (the generator's
    runs may write results there many times)."""
    with tempfile.TemporaryDirectory(prefix="asl-mock-init-") as scratch:
        copies: list[str] = []
        for spec in specs:
            name, sep, folder = spec.partition("=")
            if not sep or not name or not Path(folder).is_dir():
                raise _Usage(f"--bucket {spec}: expected NAME=DIR with an existing folder")
            target = Path(scratch) / f"{len(copies)}-{name}"
            shutil.copytree(folder, target)
            copies.append(f"{name}={target}")
        yield copies


def _input(args: argparse.Namespace) -> Any:
    from runtime.engine.events import loads

    try:
        if args.input_json is not None:
            return loads(args.input_json)
        if args.input is not None:
            text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text("utf-8")
            return loads(text) if text.strip() else {}
    except (OSError, ValueError) as exc:
        flag = "--input-json" if args.input_json is not None else f"--input {args.input}"
        raise _Usage(f"{flag}: cannot read the input: {exc}") from exc
    return {}


def _sidecar_path(out: Path) -> Path:
    """``X.expect.yaml`` beside ``X.json`` (the name ``asl test`` looks for)."""
    return out.with_name(out.name.removesuffix(out.suffix) + ".expect.yaml")


def _expectations(
    made: Any, name: str, args: argparse.Namespace, payload: Any, sidecar: Path
) -> str:
    """The sidecar of the generated file: the definition, the input, and per test case the
    status, error and states its run showed."""

    import yaml

    doc: dict[str, Any] = {
        "definition": os.path.relpath(Path(args.definition).resolve(), sidecar.resolve().parent),
        "state_machine": name,
    }
    if args.resource:
        doc["resource"] = args.resource
    if args.subs:
        doc["subs"] = dict(sub.partition("=")[::2] for sub in args.subs)
    if payload is not None:
        doc["input"] = payload
    cases: dict[str, Any] = {}
    for case in made.cases:
        expect: dict[str, Any] = {"status": case.status}
        if case.error is not None:
            expect["error"] = case.error
        expect["visited"] = list(dict.fromkeys(case.path))
        cases[case.name] = {"description": case.purpose, "expect": expect}
    doc["cases"] = cases
    head = (
        f"# The outcomes asl mock init saw for the test cases of {sidecar.name.split('.')[0]}"
        ".json;\n# asl test runs them again.\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _check_out(args: argparse.Namespace) -> None:
    if args.expectations and not args.out:
        raise _Usage("--expectations writes beside the --out file; there is no --out")
    if args.out and args.expectations:
        sidecar = _sidecar_path(Path(args.out))
        if sidecar.exists() and not args.force:
            raise _Usage(f"--expectations: {sidecar} exists (--force replaces it)")
    if not args.out:
        if args.force:
            raise _Usage("--force replaces an --out file; there is no --out")
        return
    out = Path(args.out)
    if out.is_dir():
        raise _Usage(f"--out {out}: it is a folder")
    if not out.resolve().parent.is_dir():
        raise _Usage(f"--out {out}: no folder {out.resolve().parent}")
    if out.exists() and not args.force:
        raise _Usage(f"--out {out}: the file exists (--force replaces it)")


def _write(out: Path, text: str) -> None:
    """Write ``text`` to ``out`` whole: into a temporary file beside it, then renamed."""
    try:
        write_whole(out, text)
    except OSError as exc:
        raise _Usage(f"--out {out}: {exc.strerror or exc}") from exc


def _report(made: Any, name: str, args: argparse.Namespace) -> None:
    """What each test case tests and how it ends; what could not be tested."""
    write = sys.stderr.write
    target = args.out or "stdout"
    write(f"{len(made.cases)} test case(s) for state machine {name!r} in {target}:\n")
    for case in made.cases:
        end = case.status
        if case.status != "SUCCEEDED":
            end += f" at {case.path[-1]} ({case.error}), as the definition intends"
        write(f"  {case.name}: {case.purpose}; ends {end}\n")
    for note in made.notes:
        write(f"  not tested: {note}\n")
