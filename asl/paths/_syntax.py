"""Parse ASL path text (Jayway JsonPath syntax) into a tuple of steps.

Grammar, as Jayway reads it (SPEC §Paths, §Reference Paths)::

    path    := root step*
    root    := "$$" | "$" identifier | "$"        context object | variable | input
    step    := "." name | ".*" | ".." (name | "*" | bracket) | bracket
    bracket := "[" ( "*" | quoted ("," quoted)* | int ("," int)* | [int] ":" [int]
                   | "?(" predicate ")" ) "]"

A dot-name runs to the next ``.`` or ``[``; like Jayway we accept dashes, unicode and most
punctuation in it, but not blanks (Jayway: "Use bracket notion ['my prop'] ...") or
parentheses (Jayway path functions such as ``length()`` are not supported). ``\\.`` is
not an escape in Jayway: ``$.store\\.book`` names the property ``store\\`` and then
``book``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from asl.errors import ExpressionSyntaxError
from asl.paths._steps import Filter, Index, Prop, Scan, Slice, Step, Wildcard

__all__ = ["Parsed", "parse"]

Root = Literal["input", "context", "variable"]

_INDICES = re.compile(r"\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\]")
_SLICE = re.compile(r"\s*(-?\d+)?\s*:\s*(-?\d+)?\s*\]")
_NAME_STOP = frozenset(".[")
_NAME_FORBIDDEN = frozenset("()]'\"")


@dataclass(frozen=True, slots=True)
class Parsed:
    """The parts of a path text."""

    root: Root
    """What the path starts from."""
    variable: str | None
    """The variable name when ``root == "variable"``."""
    steps: tuple[Step, ...]
    """The steps applied to the root value."""


class _Parser:
    """A one-pass recursive-descent reader over ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, position: int | None = None) -> ExpressionSyntaxError:
        where = self.pos if position is None else position
        return ExpressionSyntaxError(f"Invalid JSONPath: {message}", self.text, where)

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def parse(self) -> Parsed:
        root, variable = self.root()
        steps: list[Step] = []
        while self.pos < len(self.text):
            steps.append(self.step())
        return Parsed(root, variable, tuple(steps))

    def root(self) -> tuple[Root, str | None]:
        if not self.text.startswith("$"):
            raise self.fail("a path must start with '$'", 0)
        if self.text.startswith("$$"):
            self.pos = 2
            return "context", None
        self.pos = 1
        end = 1
        # Variable names are Unicode identifiers (SPEC §State Machine Variables).
        while end < len(self.text) and self.text[1 : end + 1].isidentifier():
            end += 1
        if end == 1:
            return "input", None
        self.pos = end
        return "variable", self.text[1:end]

    def step(self) -> Step:
        char = self.peek()
        if char == "[":
            return self.bracket()
        if char != ".":
            raise self.fail(f"unexpected character {char!r}")
        if self.peek(1) == ".":
            self.pos += 2
            return Scan(self.scan_inner())
        self.pos += 1
        if self.peek() == "*":
            self.pos += 1
            return Wildcard()
        return Prop((self.name(),))

    def scan_inner(self) -> Prop | Index | Slice | Wildcard | Filter:
        char = self.peek()
        if char == "[":
            inner = self.bracket()
            assert not isinstance(inner, Scan)
            return inner
        if char == "*":
            self.pos += 1
            return Wildcard()
        return Prop((self.name(),))

    def name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _NAME_STOP:
            char = self.text[self.pos]
            if char.isspace():
                raise self.fail("use bracket notation ['my prop'] for blanks in a name")
            if char in _NAME_FORBIDDEN:
                raise self.fail(f"unexpected character {char!r} in a property name")
            self.pos += 1
        if self.pos == start:
            raise self.fail("expected a property name")
        return self.text[start : self.pos]

    def bracket(self) -> Step:
        self.pos += 1  # "["
        self.skip_blanks()
        char = self.peek()
        if char == "*":
            self.pos += 1
            self.close()
            return Wildcard()
        if char in "'\"":
            return self.quoted_names()
        if char == "?":
            return self.filter()
        return self.numbers()

    def skip_blanks(self) -> None:
        while self.peek().isspace() and self.peek():
            self.pos += 1

    def close(self) -> None:
        self.skip_blanks()
        if self.peek() != "]":
            raise self.fail("expected ']'")
        self.pos += 1

    def quoted_names(self) -> Prop:
        names = [self.quoted()]
        self.skip_blanks()
        while self.peek() == ",":
            self.pos += 1
            self.skip_blanks()
            if self.peek() not in ("'", '"') or not self.peek():
                raise self.fail("expected a quoted property name")
            names.append(self.quoted())
            self.skip_blanks()
        self.close()
        return Prop(tuple(names))

    def quoted(self) -> str:
        quote = self.peek()
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                chars.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if char == quote:
                return "".join(chars)
            chars.append(char)
        raise self.fail("unterminated quoted name", start)

    def numbers(self) -> Index | Slice:
        match = _INDICES.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return Index(tuple(int(item) for item in match.group(1).split(",")))
        match = _SLICE.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            start, stop = match.group(1), match.group(2)
            return Slice(_int_or_none(start), _int_or_none(stop))
        at = self.pos
        while at < len(self.text) and self.text[at] in "0123456789-,: ":
            at += 1
        if at > self.pos:
            raise self.fail("expected ']' after an index or slice", at)
        raise self.fail("expected an index, a slice, '*', a quoted name or a filter")

    def filter(self) -> Filter:
        start = self.pos
        if self.peek(1) != "(":
            raise self.fail("expected '(' after '?'", self.pos + 1)
        end = _closing_paren(self.text, self.pos + 1)
        if end < 0:
            raise self.fail("unbalanced parentheses in filter", start)
        predicate = self.text[self.pos + 2 : end]
        self.pos = end + 1
        self.close()
        return Filter(predicate, _compile_predicate(predicate, self, start))


def _int_or_none(text: str | None) -> int | None:
    return None if text is None else int(text)


def _closing_paren(text: str, open_at: int) -> int:
    """Return the index of the ``)`` matching ``text[open_at]``, skipping quoted strings."""
    depth, quote, pos = 0, "", open_at
    while pos < len(text):
        char = text[pos]
        if quote:
            if char == "\\":
                pos += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    return -1


def _compile_predicate(predicate: str, parser: _Parser, start: int) -> tuple[Any, ...]:
    """Compile a filter predicate once with ``jsonpath_ng.ext`` (which parses ``&&``/``||``)."""
    from jsonpath_ng.ext.filter import Filter as NgFilter
    from jsonpath_ng.ext.parser import parse as ext_parse

    try:
        with warnings.catch_warnings():
            # jsonpath-ng deprecates some spellings (``&``); the text is the user's, not ours.
            warnings.simplefilter("ignore")
            compiled = ext_parse(f"$[?({predicate})]")
    except Exception as error:  # jsonpath-ng raises bare Exception subclasses on bad input
        raise parser.fail(f"invalid filter predicate ({error})", start) from None
    node = getattr(compiled, "right", None)
    if not isinstance(node, NgFilter) or not node.expressions:
        raise parser.fail("invalid filter predicate", start)
    return tuple(node.expressions)


def parse(text: str) -> Parsed:
    """Parse ``text``; raise :class:`ExpressionSyntaxError` pointing at the bad character."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError("Invalid JSONPath: a path must be a string", repr(text), 0)
    return _Parser(text).parse()
