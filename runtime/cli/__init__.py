"""The ``asl`` command: a dispatcher to one module per subcommand.

Each subcommand's module is imported only when it runs, so ``asl validate`` starts fast
(no anyio, boto3 or rich unless printing needs them).
"""

from __future__ import annotations

import importlib
import sys

from asl.errors import ASLError

__all__ = ["SUBCOMMANDS", "main"]

#: subcommand -> (module with ``main(argv) -> int``, passes the subcommand name, summary)
SUBCOMMANDS: dict[str, tuple[str, bool, str]] = {
    "exec": ("runtime.cli.exec", False, "run a state machine, with a live trace"),
    "validate": ("asl.validate.cli", False, "check definitions as AWS would"),
    "graph": ("asl.graph.cli", False, "draw a definition (mermaid, dot, svg, ascii)"),
    "report": ("runtime.cli.report", False, "an offline HTML report of an execution history"),
    "executions": ("runtime.cli.store", True, "list the executions in the store"),
    "history": ("runtime.cli.store", True, "print an execution's history"),
    "describe": ("runtime.cli.store", True, "describe an execution"),
    "resume": ("runtime.cli.resume", False, "continue a RUNNING execution after a crash"),
    "redrive": ("runtime.cli.resume", False, "rerun a failed execution from its failed state"),
    "start": ("runtime.cli.serve", False, "store a new execution for asl serve to run"),
    "stop": ("runtime.cli.stop", False, "abort a RUNNING execution (StopExecution)"),
    "serve": ("runtime.cli.serve", False, "run the store's executions, surviving restarts"),
    "schedule": ("runtime.cli.schedule", False, "schedules (EventBridge Scheduler) fired by serve"),
    "test-state": (
        "runtime.cli.testing.teststate",
        False,
        "run one state as the TestState API does",
    ),
    "worker": ("runtime.cli.worker", False, "run a command for each task of an activity"),
    "send-task-success": ("runtime.cli.task", False, "answer a callback task with its output"),
    "send-task-failure": ("runtime.cli.task", False, "fail a callback task"),
    "send-task-heartbeat": ("runtime.cli.task", False, "report progress of a callback task"),
    "deploy": ("runtime.cli.cloud", False, "create or update the state machine on AWS"),
    "diff": ("runtime.cli.cloud", False, "compare two runs state by state"),
    "ui": ("runtime.cli.ui", False, "a web console of the store's executions (read-only)"),
    "import-datapipeline": (
        "runtime.cli.datapipeline",
        False,
        "an AWS Data Pipeline definition as a state machine and schedule",
    ),
    "test": ("runtime.cli.testing.suite", False, "run test suites: expectations, JUnit, coverage"),
    "mock": ("runtime.cli.testing.mock", False, "write a MockConfigFile of test cases (mock init)"),
}


#: Words people try for a command, and the command they mean.
_ALIASES = {
    "run": "exec",
    "execute": "exec",
    "list": "executions",
    "ls": "executions",
    "show": "describe",
    "logs": "history",
    "check": "validate",
    "lint": "validate",
    "draw": "graph",
}


def _usage() -> str:
    lines = [
        "usage: asl COMMAND [ARGS...]",
        "",
        "Run, test and debug AWS Step Functions state machines locally.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<11} {summary}" for name, (_, _, summary) in SUBCOMMANDS.items()]
    lines += ["", "asl COMMAND --help shows a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``asl`` console script."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    entry = SUBCOMMANDS.get(args[0])
    if entry is None:
        from asl.commandline import did_you_mean, error_line

        close = _ALIASES.get(args[0]) or did_you_mean(args[0], SUBCOMMANDS)
        hint = f" (did you mean {close!r}?)" if close else ""
        error_line(f"asl: unknown command {args[0]!r}{hint}; `asl --help` lists the commands")
        return 2
    module, with_name, _ = entry
    loaded = importlib.import_module(module)
    command = getattr(loaded, f"{args[0].replace('-', '_')}_main", None) or loaded.main
    try:
        return int(command(args if with_name else args[1:]))
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:  # a usage mistake or --help, from the command's parser
        return exc.code if isinstance(exc.code, int) else 2
    except BrokenPipeError:
        # The reader went away (``asl history X | head``): nothing more to say to it.
        _silence_stdout()
        return 141
    except (ASLError, OSError) as exc:
        # What a command did not turn into its own message still gets one line.
        from asl.commandline import error_line

        error_line(f"asl {args[0]}: {_describe(exc)}")
        return 2


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return str(exc) or type(exc).__name__


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's flush at exit does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
