"""``asl graph FILE --format mermaid|dot|svg|ascii [-o OUT]``: draw a definition.

Exit status: 0 when drawn, 2 when the file cannot be read or parsed. The definition need
not be valid: a graph of a broken machine (a Next to nowhere, an unreachable state) is
how one finds the mistake.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from asl.commandline import CommandParser
from asl.errors import SourceError
from asl.graph import FORMATS, build_graph, render
from asl.templates import add_arguments, print_messages, read_definition

__all__ = ["main"]

EXIT_OK = 0
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="asl graph", description="Draw a state machine definition.")
    parser.add_argument(
        "definition", help="the definition (JSON or YAML), or a template holding it"
    )
    parser.add_argument(
        "--format",
        "-f",
        choices=tuple(FORMATS),
        default="mermaid",
        help="output format (default: mermaid)",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``asl graph``; returns the exit status."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        read = read_definition(args.definition, resource=args.resource, subs=args.subs)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print_messages(read, sys.stderr)
    definition = read.document.value
    if not isinstance(definition, Mapping):
        print(f"error: {args.definition}: a definition is a JSON object", file=sys.stderr)
        return EXIT_USAGE
    text = render(build_graph(definition), args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
