"""The argument parser of every ``asl`` command: a mistake is one red line, never usage text.

:class:`CommandParser` is :class:`argparse.ArgumentParser` with two differences. A usage
mistake prints one line, ``error: asl exec: unrecognized arguments: --mock (did you mean
--mock-config?)``, in red on a terminal, and exits ``2``. And an option is never matched
by a prefix of its name (``--mock`` is not taken as ``--mock-config``): a mistyped flag
is an error, not a silent guess. ``--help`` still prints the full help. It imports
nothing heavy, so ``asl validate`` stays quick to start.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn, TextIO

__all__ = ["CommandParser", "did_you_mean", "error_line", "write_whole"]

EXIT_USAGE = 2
_UNRECOGNIZED = re.compile(r"^unrecognized arguments: (?P<args>.+)$")
_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")


def write_whole(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: into a temporary file beside it,
    flushed to disk, then renamed over it (a crash or Ctrl-C never leaves half a file).
    The file gets the permissions a plain ``open(path, "w")`` would (``0o666`` less the
    umask), not the temporary file's ``0o600``."""
    import tempfile

    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The one of ``choices`` that ``word`` most likely meant: the only choice it is a
    prefix of, else the closest spelling when one is close enough to suggest."""
    options = list(choices)
    prefixed = [choice for choice in options if word and choice.startswith(word)]
    if len(prefixed) == 1:
        return prefixed[0]
    import difflib  # only for a mistyped word

    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return found[0] if found else None


def error_line(message: str, stream: TextIO | None = None) -> None:
    """Print ``error: MESSAGE`` on one line of ``stream`` (stderr), red on a terminal."""
    stream = sys.stderr if stream is None else stream
    text = " ".join(message.split())
    try:
        color = stream.isatty() and not os.environ.get("NO_COLOR")
    except (AttributeError, ValueError):
        color = False
    prefix = "\x1b[1;31merror:\x1b[0m" if color else "error:"
    stream.write(f"{prefix} {text}\n")
    stream.flush()


class CommandParser(argparse.ArgumentParser):
    """An ``asl`` command's parser: one red line per mistake, no prefix matching."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        # An unknown flag is the mistake to report, before argparse's complaint about a
        # required argument that the misspelt flag was probably meant to give.
        argv = list(sys.argv[1:] if args is None else args)
        unknown = _unknown_flags(argv, _option_strings(self))
        if unknown:
            self.error("unrecognized arguments: " + " ".join(unknown))
        return super().parse_known_args(argv, namespace)

    def error(self, message: str) -> NoReturn:
        error_line(f"{self.prog}: {self._with_suggestion(message)}")
        raise SystemExit(EXIT_USAGE)

    def _with_suggestion(self, message: str) -> str:
        matched = _UNRECOGNIZED.match(message)
        if matched is None:
            return message
        options = sorted(_option_strings(self))
        hints = []
        unknown = [arg.split("=", 1)[0] for arg in matched.group("args").split()]
        flags = [name for name in unknown if name.startswith("-")]
        for name in flags:
            close = did_you_mean(name, options)
            if close is not None:
                hints.append((name, close))
        if len(flags) == 1 and hints:
            return f"{message} (did you mean {hints[0][1]}?)"
        named = "; ".join(f"{name}: did you mean {close}?" for name, close in hints)
        return f"{message} ({named})" if hints else message


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option of ``parser`` and of its subcommands' parsers."""
    found: set[str] = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _option_strings(sub)
    return found


def _unknown_flags(argv: Sequence[str], known: set[str]) -> list[str]:
    """The tokens of ``argv`` (up to ``--``) that look like flags and name none."""
    found = []
    for token in argv:
        if token == "--":
            break
        if not token.startswith("-") or token == "-" or _NUMBER.match(token):
            continue
        if token.split("=", 1)[0] not in known:
            found.append(token)
    return found
