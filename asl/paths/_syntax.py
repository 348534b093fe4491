"""Parse ASL path text (Jayway JsonPath syntax) into a tuple of steps.

Grammar, as Jayway reads it (SPEC §Paths, §Reference Paths)::

    path    := root step* blank*
    root    := "$$" | "$" identifier | "$"        context object | variable | input
    step    := "." name | ".*" | "." bracket | ".." (name | "*" | bracket) | bracket
    bracket := "[" ( "*" | quoted ("," quoted)* | int ("," int)* | [int] ":" [int]
                   | "(" "@.length" ["-" int] ")" | "?(" predicate ")" ) "]"

A dot-name runs to the next ``.`` or ``[``; like Jayway we accept dashes, unicode and most
punctuation in it, but not blanks (Jayway: "Use bracket notion ['my prop'] ...") or
parentheses (path functions such as ``length()``: AWS does not support them). ``\\.`` is
not an escape in Jayway: ``$.store\\.book`` names the property ``store\\`` and then
``book``. A dot may precede a bracket (``$.a.[0]``, ``$.abc.['def ghi']`` in AWS's paths
page), and trailing blanks are ignored (Jayway trims the path; AWS accepts
``"$$.Execution.Name "``). Inside a filter, a dot-name also ends at a blank, ``)``, an
operator character or ``&&``/``||``; the predicate grammar is in
:mod:`asl.paths._predicate_syntax`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from asl.errors import ExpressionSyntaxError
from asl.paths._evaluate import Plan
from asl.paths._predicate import PathOperand
from asl.paths._predicate_syntax import PredicateReader
from asl.paths._steps import (
    Filter,
    FromEnd,
    Index,
    Prop,
    Scan,
    Slice,
    Step,
    Wildcard,
    lookup_keys,
)
from asl.paths._text import closing_quote, unescape

__all__ = ["Parsed", "parse"]

Root = Literal["input", "context", "variable"]

_INDICES = re.compile(r"\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\]")
_SLICE = re.compile(r"\s*(-?\d+)?\s*:\s*(-?\d+)?\s*\]")
_SCRIPT = re.compile(r"\(\s*@\.length\s*(?:-\s*(\d+)\s*)?\)")
_NAME_STOP = frozenset(".[")
_NAME_FORBIDDEN = frozenset("()]'\"")
#: Where a dot-name ends inside a filter (Jayway's ``readPath`` stops at these too).
_FILTER_NAME_STOP = frozenset(")<>=!~&|")


@dataclass(frozen=True, slots=True)
class Parsed:
    """The parts of a path text."""

    root: Root
    """What the path starts from."""
    variable: str | None
    """The variable name when ``root == "variable"``."""
    steps: tuple[Step, ...]
    """The steps applied to the root value."""


class _Parser(PredicateReader):
    """A one-pass recursive-descent reader over ``text``."""

    def __init__(self, text: str) -> None:
        self.source = text
        """The path as written, shown in errors."""
        self.text = text.rstrip()
        """What is parsed: trailing blanks dropped, so positions match ``source``."""
        self.pos = 0
        self.filters = 0
        """How many filters the cursor is inside (dot-names end earlier there)."""

    def fail(self, message: str, position: int | None = None) -> ExpressionSyntaxError:
        where = self.pos if position is None else position
        return ExpressionSyntaxError(f"Invalid JSONPath: {message}", self.source, where)

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
        if self.peek() == "[":  # Jayway reads `.[0]` and `.['a']` as `[0]` and `['a']`
            return self.bracket()
        return Prop((self.name(),))

    def scan_inner(self) -> Prop | Index | FromEnd | Slice | Wildcard | Filter:
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
        text = self.text
        while self.pos < len(text) and text[self.pos] not in _NAME_STOP:
            char = text[self.pos]
            if self.filters and (char.isspace() or char in _FILTER_NAME_STOP):
                break
            if char.isspace():
                raise self.fail("use bracket notation ['my prop'] for blanks in a name")
            if char == "(":
                raise self.fail("path functions such as length() are not supported")
            if char in _NAME_FORBIDDEN:
                raise self.fail(f"unexpected character {char!r} in a property name")
            self.pos += 1
        if self.pos == start:
            raise self.fail("expected a property name")
        return text[start : self.pos]

    def bracket(self) -> Step:
        self.pos += 1  # "["
        char = self.blanks()
        if char == "*":
            self.pos += 1
            self.close()
            return Wildcard()
        if char in ("'", '"'):
            return self.quoted_names()
        if char == "?":
            return self.filter()
        if char == "(":
            return self.script()
        return self.numbers()

    def close(self) -> None:
        if self.blanks() != "]":
            raise self.fail("expected ']'")
        self.pos += 1

    def quoted_names(self) -> Prop:
        names = [self.quoted()]
        while self.blanks() == ",":
            self.pos += 1
            if self.blanks() not in ("'", '"'):
                raise self.fail("expected a quoted property name")
            names.append(self.quoted())
        self.close()
        return Prop(tuple(names))

    def quoted(self) -> str:
        start = self.pos
        end = closing_quote(self.text, start)
        if end < 0:
            raise self.fail("unterminated quoted name", start)
        try:
            name = unescape(self.text[start + 1 : end])
        except ValueError as error:
            raise self.fail(str(error), start) from None
        self.pos = end + 1
        return name

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
        raise self.fail("expected an index, a slice, '*', a quoted name, a filter or (@.length-N)")

    def script(self) -> FromEnd:
        """``[(@.length-N)]``, the one script expression Jayway's README shows."""
        match = _SCRIPT.match(self.text, self.pos)
        if match is None:
            raise self.fail("the only script expression supported is (@.length-N)")
        self.pos = match.end()
        self.close()
        return FromEnd(int(match.group(1) or 0))

    def filter(self) -> Filter:
        start = self.pos
        self.pos += 1
        if self.blanks() != "(":  # Jayway allows blanks in `[ ? ( ... ) ]`
            raise self.fail("expected '(' after '?'")
        opened = self.pos
        self.pos += 1
        self.filters += 1
        try:
            predicate = self.predicate()
            if self.blanks() != ")":
                raise self.fail("expected '&&', '||' or ')' in filter")
        except ExpressionSyntaxError:
            if _closing_paren(self.text, opened) == -1:
                raise self.fail("unbalanced parentheses in filter", start) from None
            raise
        self.filters -= 1
        self.pos += 1
        text = self.text[opened + 1 : self.pos - 1]
        self.close()
        return Filter(text, predicate)

    def operand_path(self) -> PathOperand:
        """A sub-path inside a filter: ``@`` (the item) or ``$`` (the document) and steps."""
        start = self.pos
        kind: Literal["item", "root"] = "item" if self.peek() == "@" else "root"
        if kind == "root" and self.peek(1) == "$":
            raise self.fail("'$$' (the Context Object) cannot be used inside a filter", start)
        if kind == "root" and self.peek(1).isidentifier():
            raise self.fail("a variable cannot be used inside a filter", start)
        self.pos += 1
        steps: list[Step] = []
        while self.peek() in (".", "["):
            steps.append(self.step())
        return PathOperand(kind, Plan.of(tuple(steps)), lookup_keys(tuple(steps)))


def _int_or_none(text: str | None) -> int | None:
    return None if text is None else int(text)


def _closing_paren(text: str, open_at: int) -> int:
    """Return the index of the ``)`` matching ``text[open_at]``, skipping quoted strings and
    ``/regex/`` literals: -1 when there is none, -2 when a quote or regex is not closed."""
    depth, pos = 0, open_at
    while pos < len(text):
        char = text[pos]
        if char in "'\"/":
            pos = closing_quote(text, pos)
            if pos < 0:
                return -2
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    return -1


def parse(text: str) -> Parsed:
    """Parse ``text``; raise :class:`ExpressionSyntaxError` pointing at the bad character."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError("Invalid JSONPath: a path must be a string", repr(text), 0)
    parser = _Parser(text)
    try:
        return parser.parse()
    except RecursionError:
        raise parser.fail("the path is nested too deeply") from None
