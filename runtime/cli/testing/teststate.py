"""``asl test-state``: run one state as the TestState API does and print its answer.

Flags are named after the API's fields. ``--definition`` and the JSON flags take a file
path or inline JSON text. Exit 0 for any answer (the status is in it), 2 for a request
TestState would refuse (one red line).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from asl.commandline import CommandParser

__all__ = ["main"]


def _json(text: str | None, flag: str) -> Any:
    """Inline JSON, or the JSON (or YAML, for a definition) of a file."""
    if text is None:
        return None
    path = Path(text)
    if not text.lstrip().startswith(("{", "[", '"')) and path.is_file():
        if path.suffix in (".yaml", ".yml"):
            from asl.source import load_file

            return load_file(path).value
        text = path.read_text("utf-8")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SystemExit(_fail(f"{flag}: not JSON ({exc})")) from None


def _fail(message: str) -> int:
    from runtime.cli.exec import _error

    _error(message)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="asl test-state", description=__doc__.splitlines()[0])
    parser.add_argument("--definition", required=True, help="a state, or a state machine")
    parser.add_argument("--state-name", help="the state to run, in a state machine definition")
    parser.add_argument("--input", help="the state's input (JSON; default {})")
    parser.add_argument("--variables", help="variables in scope (a JSON object)")
    parser.add_argument("--mock", help='{"result": "<JSON text>"} or {"errorOutput": {...}}')
    parser.add_argument("--state-configuration", help='e.g. {"retrierRetryCount": 1} (JSON)')
    parser.add_argument("--context", help="the context object's Execution/StateMachine (JSON)")
    parser.add_argument(
        "--reveal-secrets", action="store_true", help="refused with --mock, as by AWS"
    )
    parser.add_argument("--inspection-level", choices=("INFO", "DEBUG", "TRACE"), default="INFO")
    parser.add_argument(
        "--connections",
        metavar="FILE",
        help="EventBridge connections (JSON: ARN -> AuthorizationType, AuthParameters): an "
        "HTTP Task without --mock sends its request, shown at --inspection-level TRACE",
    )
    return parser


def main(argv: list[str]) -> int:
    """Run ``asl test-state``; return the exit code."""
    import anyio

    from runtime.testing.teststate import StateTestError, run_test_state
    from runtime.testing.teststate_mocks import configuration_from

    args = _parser().parse_args(argv)
    definition = _json(args.definition, "--definition")
    if not isinstance(definition, dict):
        return _fail("--definition: not a JSON object")
    configuration = _json(args.state_configuration, "--state-configuration")
    services = None
    if args.connections:
        from runtime.adapters import Services
        from runtime.adapters.http import load_connections

        try:
            services = Services.create(connections=load_connections(args.connections))
        except ValueError as exc:
            return _fail(f"--connections {exc}")

    async def run() -> Any:
        return await run_test_state(
            definition,
            _json(args.input, "--input") or {},
            state_name=args.state_name,
            variables=_json(args.variables, "--variables"),
            mock=_json(args.mock, "--mock"),
            configuration=configuration_from(configuration),
            context=_json(args.context, "--context"),
            reveal_secrets=args.reveal_secrets,
            services=services,
        )

    try:
        result = anyio.run(run)
    except StateTestError as exc:
        return _fail(f"{exc.code}: {exc.message}")
    print(json.dumps(result.to_aws(args.inspection_level), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
