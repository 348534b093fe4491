"""``asl exec``: run one execution with a live trace.

The ``--json`` contract is the one ``../shared/conformance/run.py`` reads: exactly one
JSON document on stdout, ``{"status", "output", "error", "cause", "events"}``. User
mistakes print one red line and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from asl.commandline import CommandParser, write_whole

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # as a shell reports SIGINT


def _parser() -> argparse.ArgumentParser:
    ex = CommandParser(prog="asl exec", description="Run one execution.")
    ex.add_argument(
        "definition",
        nargs="?",
        help="the definition (JSON or YAML), or a template holding it (not with --on aws)",
    )
    from asl.templates import add_arguments

    add_arguments(ex)
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
    ex.add_argument("--report", metavar="OUT", help="write an offline HTML report here")
    ex.add_argument("--mock-config", metavar="FILE", help="a Step Functions Local MockConfigFile")
    ex.add_argument("--test-case", metavar="NAME", help="the test case of the mock config")
    ex.add_argument(
        "--state-machine",
        metavar="NAME",
        help="state machine name in the mock config (default: the file's stem)",
    )
    cloud = ex.add_argument_group("running on AWS Step Functions")
    cloud.add_argument(
        "--on",
        choices=("local", "aws"),
        default="local",
        help="run here (default), or on AWS Step Functions (with --state-machine-arn)",
    )
    cloud.add_argument(
        "--state-machine-arn",
        metavar="ARN",
        help="with --on aws: the state machine, version or alias to start (asl deploy prints it)",
    )
    cloud.add_argument(
        "--poll-seconds",
        type=float,
        default=1.0,
        help="with --on aws: how often GetExecutionHistory is read (default: 1)",
    )
    tasks = ex.add_argument_group("tasks")
    tasks.add_argument(
        "--lambda",
        dest="lambdas",
        metavar="NAME=TARGET",
        action="append",
        default=[],
        help="run Lambda NAME locally: module:function or path/file.py:handler (repeatable)",
    )
    tasks.add_argument(
        "--activity",
        dest="activity_commands",
        metavar="NAME=COMMAND",
        action="append",
        default=[],
        help="work activity NAME by running COMMAND for each task, as asl worker does: input "
        "JSON on stdin, output JSON on stdout (repeatable)",
    )
    tasks.add_argument(
        "--config",
        metavar="FILE",
        help="project config (TOML) with a [lambda] table of NAME = TARGET",
    )
    tasks.add_argument(
        "--machine",
        dest="machines",
        metavar="NAME=FILE",
        action="append",
        default=[],
        help="a state machine that states:startExecution may run (repeatable)",
    )
    tasks.add_argument(
        "--bucket",
        dest="buckets",
        metavar="NAME=DIR",
        action="append",
        default=[],
        help="serve S3 bucket NAME from local directory DIR for Distributed Map ItemReader "
        "and ResultWriter (repeatable)",
    )
    tasks.add_argument(
        "--offline",
        action="store_true",
        help="never call AWS: tasks need a mock or a local function",
    )
    tasks.add_argument(
        "--allow-aws",
        action="store_true",
        help="with --mock-config, let Tasks that have no mock call AWS (default: refused)",
    )
    tasks.add_argument("--region", help="AWS region for service calls")
    tasks.add_argument(
        "--endpoint-url",
        dest="endpoints",
        metavar="[SERVICE=]URL",
        action="append",
        default=[],
        help="endpoint for one boto3 service, or all (LocalStack, moto server)",
    )
    tasks.add_argument(
        "--endpoint-port",
        type=int,
        metavar="PORT",
        help="serve SendTaskSuccess/Failure/Heartbeat and GetActivityTask on "
        "127.0.0.1:PORT (0 picks a free port)",
    )
    tasks.add_argument(
        "--secret",
        metavar="SECRET",
        help="with --endpoint-port: require requests SigV4-signed with SECRET as the secret "
        "access key (default: $ASL_ENDPOINT_SECRET; prefer it, a flag shows in ps)",
    )
    part = ex.add_argument_group("partial runs")
    part.add_argument("--start-at", metavar="STATE", help="start at this top-level state")
    part.add_argument(
        "--stop-after", metavar="STATE", help="succeed with this top-level state's output"
    )
    part.add_argument(
        "--variables", metavar="JSON|@FILE", help="variables set before the first state"
    )
    part.add_argument(
        "--context",
        metavar="JSON|@FILE",
        help='context object fields, e.g. {"Execution": {"Name": "run-1"}}',
    )
    store = ex.add_mutually_exclusive_group()
    store.add_argument(
        "--store",
        metavar="PATH",
        help="execution store (default: $ASL_STORE, else $XDG_STATE_HOME/asl-runtime/store.db)",
    )
    store.add_argument("--no-store", action="store_true", help="do not record this execution")
    ex.add_argument("--seed", type=int, help="seed for jitter and random intrinsics")
    ex.add_argument(
        "--processes",
        type=_processes,
        metavar="N",
        help="processes running Distributed Map children that never wait "
        "(default: every core; 1 runs them in this process)",
    )
    ex.add_argument("--quiet", action="store_true", help="no live trace")
    ex.add_argument(
        "--inspect", action="store_true", help="show each state's input and output in the trace"
    )
    ex.add_argument(
        "--json",
        action="store_true",
        help='print one JSON document: {"status","output","error","cause","events"}',
    )
    return ex


def _error(message: str) -> None:
    """Each line of ``message`` as one red ``error:`` line (one line per problem)."""
    from rich.console import Console
    from rich.markup import escape

    from asl.graph.text import visible

    console = Console(stderr=True, soft_wrap=True)
    for line in message.splitlines() or [""]:
        console.print(f"[bold red]error:[/] {escape(visible(line))}", highlight=False, markup=True)


class UsageError(Exception):
    """A mistake in the command line or its files: one red line, exit 2."""


def main(argv: list[str]) -> int:
    """Run ``asl exec`` with ``argv`` (without the subcommand); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.on == "aws":
        return _on_aws(parser, args, argv)
    if args.definition is None:
        parser.error("the following arguments are required: definition")
    try:
        prepared = _prepare(args)
    except UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    return _run(args, *prepared)


#: Options of a local run that mean nothing on AWS: refused with --on aws, not ignored.
_LOCAL_ONLY = (
    "--mock-config",
    "--test-case",
    "--lambda",
    "--config",
    "--machine",
    "--bucket",
    "--offline",
    "--allow-aws",
    "--endpoint-port",
    "--start-at",
    "--stop-after",
    "--variables",
    "--context",
    "--inspect",
    "--seed",
    "--resource",
    "--sub",
)


def _on_aws(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str]) -> int:
    """``asl exec --on aws``: checks what only a local run takes, then runs on AWS."""
    check_on_aws(parser, args, argv)
    try:
        payload = _read_input(args)
        _check_writable(args)
    except (OSError, ValueError) as exc:
        _error(f"cannot read the input: {exc}")
        return EXIT_USAGE
    except UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    from runtime.cli.cloud import exec_on_aws

    return exec_on_aws(args, payload)


def check_on_aws(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str]
) -> None:
    """Refuse what ``--on aws`` cannot honour, naming the flag (a usage error, exit 2)."""
    if args.definition is not None:
        parser.error(
            "--on aws runs a deployed state machine: give --state-machine-arn (asl deploy "
            f"prints it), not the definition {args.definition!r}"
        )
    if not args.state_machine_arn:
        parser.error("--on aws needs --state-machine-arn ARN")
    for flag in _LOCAL_ONLY:
        if any(arg == flag or arg.startswith(flag + "=") for arg in argv):
            parser.error(f"{flag} is for a local run: AWS runs the Tasks itself (--on aws)")


def _read_input(args: argparse.Namespace) -> Any:
    from runtime.engine.errors import input_limit_problem
    from runtime.engine.events import loads

    if args.input_json is not None:
        text = args.input_json
    elif args.input is None:
        return {}
    else:
        text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text("utf-8")
    # AWS measures the text the caller sends (StartExecution's input string).
    too_big = input_limit_problem(len(text.encode("utf-8", "surrogatepass")))
    if too_big:
        raise ValueError(too_big)
    return loads(text) if text.strip() else {}


def _check_writable(args: argparse.Namespace) -> None:
    """Refuse an output file that cannot be written before anything runs."""
    for flag, name in (("--history", "history"), ("--report", "report")):
        target = getattr(args, name, None)
        if not target:
            continue
        folder = Path(target).resolve().parent
        if Path(target).is_dir():
            raise UsageError(f"cannot write {flag} {target}: it is a folder")
        if not folder.is_dir():
            raise UsageError(f"cannot write {flag} {target}: no folder {folder}")
        if not os.access(folder, os.W_OK) or (
            Path(target).exists() and not os.access(target, os.W_OK)
        ):
            raise UsageError(f"cannot write {flag} {target}: permission denied")


def _prepare(args: argparse.Namespace) -> tuple[Any, Any, str, Any, Any]:
    from asl.errors import ASLError, DefinitionError, SourceError
    from asl.templates import print_messages, read_definition

    try:
        read = read_definition(args.definition, resource=args.resource, subs=args.subs)
    except SourceError as exc:
        raise UsageError(str(exc)) from exc
    print_messages(read, sys.stderr)
    definition = read.document.value
    try:
        payload = _read_input(args)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the input: {exc}") from exc
    _check_writable(args)
    from runtime.api import load_machine

    try:
        machine = load_machine(definition)
    except DefinitionError as exc:
        lines = [
            f"{args.definition}: {d.location}: {d.message} [{d.code}]" for d in exc.diagnostics
        ]
        raise UsageError("\n".join(lines)) from exc
    sm_name = args.state_machine or read.resource or Path(args.definition).stem.split(".")[0]
    _check_names(args, sm_name)
    _partial_run(args, machine)
    try:
        mocks = _mocks(args, sm_name)
        problems = _problems(args, machine, mocks)
        if problems:
            raise UsageError("\n".join(problems))
        services = _services(args)
    except ASLError as exc:
        raise UsageError(str(exc)) from exc
    return machine, payload, sm_name, mocks, services


def _check_names(args: argparse.Namespace, sm_name: str) -> None:
    """--name and the state machine name as AWS accepts names (StartExecution,
    CreateStateMachine): 1 to 80 characters, none of white space, brackets, wildcards,
    ``" # % \\ ^ | ~ ` $ & , ; : /`` or control characters."""
    from runtime.callbacks.registry import name_problem

    checks = [("--name", args.name)] if args.name else []
    if args.state_machine:
        checks.append(("--state-machine", args.state_machine))
    else:  # from --resource or the file name
        checks.append(("the state machine name (set it with --state-machine)", sm_name))
    for where, value in checks:
        problem = name_problem(value)
        if problem is not None:
            raise UsageError(f"{where} {value!r}: {problem}")


def _partial_run(args: argparse.Namespace, machine: Any) -> None:
    """Read --variables and --context (into ``args``) and check the run's bounds."""
    from runtime.api import partial_run_problems

    for flag in ("variables", "context"):
        text = getattr(args, flag)
        if isinstance(text, str):
            setattr(args, flag, _json_option(f"--{flag}", text))
    problems = [
        f"--{option.replace('_', '-')} {message}"
        for option, message in partial_run_problems(
            machine, args.start_at, args.stop_after, args.context
        )
    ]
    if args.variables is not None and not isinstance(args.variables, dict):
        problems.append("--variables: expected a JSON object of variable names")
    if problems:
        raise UsageError("\n".join(problems))


def _json_option(flag: str, text: str) -> Any:
    """JSON text, or ``@FILE`` holding it."""
    try:
        if text.startswith("@"):
            text = Path(text[1:]).read_text("utf-8")
        return json.loads(text)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{flag}: {exc}") from exc


def _problems(args: argparse.Namespace, machine: Any, mocks: Any) -> list[str]:
    """What is wrong before the run: mocked states and bindings that match nothing."""
    from runtime.durable.launch import activity_problems, binding_problems

    problems = mocks.check(machine) if mocks is not None else []
    return problems + binding_problems(vars(args), machine) + activity_problems(vars(args), machine)


def _mocks(args: argparse.Namespace, sm_name: str) -> Any:
    from runtime.durable.launch import mocks_from

    return mocks_from(vars(args), sm_name)


def _services(args: argparse.Namespace) -> Any:
    from runtime.durable.launch import services_from

    return services_from(vars(args), callbacks=_callbacks(args))


def _callbacks(args: argparse.Namespace) -> Any:
    from runtime.callbacks.registry import CallbackRegistry

    # Answers come from outside the process when the endpoint runs: virtual time must
    # then wait for them instead of jumping to a timeout.
    return CallbackRegistry(external=args.endpoint_port is not None)


def _open_store(args: argparse.Namespace) -> Any:
    if args.no_store:  # nothing to open: the store's modules (and sqlite3) stay unimported
        return None
    from runtime.durable.store import Store, StoreError, resolve_store_path

    path = resolve_store_path(args.store, args.no_store)
    if path is None:
        return None
    try:
        return Store.open(path)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc


#: The exec options a resumed execution needs again (paths made absolute).
RESUME_OPTIONS = (
    "clock",
    "mock_config",
    "test_case",
    "state_machine",
    "lambdas",
    "config",
    "machines",
    "buckets",
    "offline",
    "allow_aws",
    "region",
    "endpoints",
    "endpoint_port",
    "activity_commands",
    "seed",
    "start_at",
    "stop_after",
    "variables",
    "context",
)
_PATH_OPTIONS = ("mock_config", "config")


def launch_options(args: argparse.Namespace) -> dict[str, Any]:
    """What ``asl resume`` must know of how this execution was started."""
    options: dict[str, Any] = {name: getattr(args, name, None) for name in RESUME_OPTIONS}
    for name in _PATH_OPTIONS:
        value = options[name]
        if value:
            options[name] = str(Path(value).resolve())
    options["lambdas"] = [_absolute_spec(spec) for spec in options["lambdas"] or []]
    options["machines"] = [_absolute_spec(spec) for spec in options["machines"] or []]
    options["buckets"] = [_absolute_dir(spec) for spec in options["buckets"] or []]
    return options


def _absolute_spec(spec: str) -> str:
    """NAME=TARGET with a file target made absolute (module targets are kept)."""
    name, sep, target = spec.partition("=")
    path, colon, rest = target.partition(":") if ".py:" in target else (target, "", "")
    if sep and (path.endswith((".py", ".json", ".yaml", ".yml")) and Path(path).exists()):
        return f"{name}={Path(path).resolve()}{colon}{rest}"
    return spec


def _absolute_dir(spec: str) -> str:
    """NAME=DIR with DIR made absolute."""
    name, sep, target = spec.partition("=")
    return f"{name}={Path(target).resolve()}" if sep and target else spec


def _processes(text: str) -> int:
    """``--processes``: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _run(
    args: argparse.Namespace, machine: Any, payload: Any, sm_name: str, mocks: Any, services: Any
) -> int:
    from runtime.api import run_sync
    from runtime.cli.streams import handler_output_to_stderr
    from runtime.engine.clock import RealClock, VirtualClock

    clock = VirtualClock() if args.clock == "virtual" else RealClock()
    try:
        store = _open_store(args)
    except UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    # The store's errors are caught only when there is a store (``except ()`` catches
    # nothing): a run with --no-store never imports the store's modules.
    store_errors: tuple[type[Exception], ...] = ()
    if store is not None:  # task tokens are signed with the store's secret
        from runtime.durable.store import StoreError

        store_errors = (StoreError,)
        try:
            services.callbacks.signer = store.token_signer()
        except StoreError as exc:
            store.close()
            _error(str(exc))
            return EXIT_FAILED
    try:
        # Opened first: the port it got (--endpoint-port 0) is kept for asl resume.
        endpoint = _endpoint(args, services)
    except UsageError as exc:
        if store is not None:
            store.close()
        _error(str(exc))
        return EXIT_USAGE
    observers: list[Any] = []
    if store is not None:
        from runtime.durable.store import StoreRecorder

        observers.append(StoreRecorder(store, options=launch_options(args)))
    trace = None
    if not args.quiet and not args.json:
        from runtime.trace import LiveTrace

        trace = LiveTrace(machine, virtual=clock.virtual, inspect=args.inspect)
        observers.append(trace.observe)
    try:
        with handler_output_to_stderr():
            result = run_sync(
                machine,
                payload,
                clock=clock,
                mocks=mocks,
                services=services,
                name=args.name,
                state_machine_name=sm_name,
                observers=observers,
                seed=args.seed,
                region=args.region or "us-east-1",
                inspect=args.inspect or bool(args.report),
                allow_aws=args.allow_aws,
                start_at=args.start_at,
                stop_after=args.stop_after,
                variables=args.variables,
                context=args.context,
                processes=args.processes or _default_processes(machine),
                activities=_activities(args),
            )
    except store_errors as exc:
        stored = observers[0].stored_name if store is not None else None
        # A store that stops taking writes mid-run (a full disk) leaves the execution as it
        # last committed it: RUNNING, and resumable once the store can be written again.
        hint = (
            f"; the execution stays RUNNING in the store: `asl resume {stored}` finishes it "
            "once the store can be written"
            if stored
            else ""
        )
        _error(f"{exc}{hint}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        if trace is not None:
            trace.close()
        _interrupted(observers[0] if store is not None else None)
        return EXIT_INTERRUPTED
    finally:
        if trace is not None:
            trace.close()
        if endpoint is not None:
            endpoint.stop()
        if store is not None:
            store.close()
    if trace is not None:
        trace.summary(result)
    written = _write_files(args, machine, result)
    code = _print_outcome(args, result)
    if not written:
        return EXIT_USAGE
    if args.stop_after and not _reached(result, args.stop_after):
        _error(f"--stop-after {args.stop_after}: the execution ended without reaching it")
        return EXIT_FAILED
    return code


def _default_processes(machine: Any) -> int:
    """Every core for the children of a Distributed Map (``--processes`` unset); 1 when the
    definition has none, where the number changes nothing (only a Distributed Map of this
    execution uses it) and ``runtime.distributed`` need not be imported."""
    if not any(
        getattr(getattr(state, "processor", None), "mode", None) == "DISTRIBUTED"
        for state in machine.all_states.values()
    ):
        return 1
    from runtime.distributed.workers import default_processes

    return default_processes()


def _activities(args: argparse.Namespace) -> Any:
    """``--activity`` bindings as ``run(activities=...)`` takes them (None without any)."""
    if not args.activity_commands:
        return None
    from runtime.durable.launch import activities_from

    return activities_from(vars(args))


def _interrupted(recorder: Any) -> None:
    """Ctrl-C: say what became of the execution and how to go on with it."""
    info = getattr(recorder, "info", None)
    if info is None:
        _error("interrupted: the execution was not recorded in a store; nothing can resume it")
        return
    where = f" --store {shlex.quote(str(recorder.store.path))}"
    _error(
        f"interrupted: execution {info.name!r} is left RUNNING in the store; "
        f"`asl resume {shlex.quote(info.name)}{where}` continues it, "
        f"`asl stop {shlex.quote(info.name)}{where}` ends it"
    )


def _reached(result: Any, state: str) -> bool:
    return any(
        e.type.endswith("StateExited") and (e.details or {}).get("name") == state
        for e in result.history
    )


def _endpoint(args: argparse.Namespace, services: Any) -> Any:
    """Start the local endpoint of ``--endpoint-port`` (None without it); the port it got
    is written back to ``args.endpoint_port``. Raises UsageError when it cannot bind."""
    if args.endpoint_port is None:
        return None
    from runtime.server.endpoint import LocalEndpoint
    from runtime.server.guard import secret_from

    endpoint = LocalEndpoint(
        services.callbacks,
        services.activities,
        port=args.endpoint_port,
        # asl resume and redrive rebuild these options without --secret: the environment's.
        secret=secret_from(getattr(args, "secret", None)),
    )
    try:
        endpoint.start()
    except OSError as exc:
        raise UsageError(
            f"--endpoint-port {args.endpoint_port}: cannot listen on 127.0.0.1:"
            f"{args.endpoint_port}: {exc.strerror or exc}"
        ) from exc
    args.endpoint_port = int(endpoint.url.rsplit(":", 1)[1])
    print(f"Step Functions endpoint: {endpoint.url}", file=sys.stderr)
    return endpoint


def _write_files(args: argparse.Namespace, machine: Any, result: Any) -> bool:
    """Write --history and --report; False (after one line) when one cannot be written."""
    try:
        _write_outputs(args, machine, result)
    except OSError as exc:
        _error(f"cannot write {exc.filename or 'an output file'}: {exc.strerror or exc}")
        return False
    return True


def _write_outputs(args: argparse.Namespace, machine: Any, result: Any) -> None:
    if args.history:
        write_whole(args.history, json.dumps({"events": result.history_json()}, indent=2))
    if args.report:
        from runtime.report import write_report

        write_report(args.report, result, machine.definition)


def _print_outcome(args: argparse.Namespace, result: Any) -> int:
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
