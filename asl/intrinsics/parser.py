"""Parse intrinsic function text into a call tree, once, when the machine is loaded.

Grammar (DG:intrinsic-functions; LS ``ASLIntrinsicParser.g4``)::

    call     := NAME '(' [ argument (',' argument)* ] ')'
    argument := STRING | NUMBER | 'true' | 'false' | 'null' | PATH | call
    STRING   := "'" ( '\\' one of ' { } \\  |  any other character )* "'"
    PATH     := '$' …   ($ input, $$ context object, $name workflow variable)

Whitespace may surround every token except the first: the text must start with the function
name. AWS's own linter refuses ``" States.Array('Foo', $.xyz, 'Bar', 2.3)"`` as "not a
JSONPath or intrinsic function expression" (awslabs/statelint, spec/statelint_spec.rb,
fixture ``test/states-array-invocation-leftpad.json``), so a leading blank makes the text a
non-expression for every field that takes one. Calls nest at most ten deep. Text AWS rejects
when the machine is created (unknown function, bad escape, unbalanced quotes...) raises
``ExpressionSyntaxError`` with the column; wrong argument counts and bad argument values
are run-time failures, as on AWS.
"""

from __future__ import annotations

import math
import re

from asl.errors import ExpressionSyntaxError
from asl.intrinsics._text import ESCAPABLE, TemplateError, parse_template
from asl.intrinsics.functions import FUNCTIONS
from asl.intrinsics.nodes import Call, Literal, Node, PathArgument, StringLiteral
from asl.paths import compile_path

__all__ = ["MAX_DEPTH", "parse"]

#: "You can nest up to 10 intrinsic functions within a field" (DG:intrinsic-functions).
MAX_DEPTH = 10

_NAME = re.compile(r"[A-Za-z0-9_.]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_KEYWORDS: dict[str, object] = {"true": True, "false": False, "null": None}
_WHITESPACE = " \t\n\r"


def parse(text: str) -> Call:
    """Parse ``text`` (one top-level call) into a :class:`Call`."""
    return _Parser(text).parse()


def _unescape(raw: str) -> str:
    """Resolve the four intrinsic escapes; ``raw`` is known to hold no others."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 1
        out.append(raw[i])
        i += 1
    return "".join(out)


class _Parser:
    """A recursive-descent parser over one intrinsic text."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, position: int | None = None) -> ExpressionSyntaxError:
        """Build the syntax error for ``message`` at ``position`` (default: here)."""
        return ExpressionSyntaxError(message, self.text, self.pos if position is None else position)

    def skip_space(self) -> None:
        """Advance past whitespace."""
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1

    def peek(self) -> str:
        """The current character, or '' at the end."""
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> Call:
        """Parse the whole text as one call (no blank before it, any after it)."""
        if self.peek() in _WHITESPACE and self.text:
            raise self.fail("An intrinsic function call must start with the function name")
        call = self.call(1)
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail("Unexpected text after the intrinsic function call")
        return call

    def call(self, depth: int) -> Call:
        """Parse ``Name(args)`` starting here."""
        start = self.pos
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.fail("Expected an intrinsic function name")
        function = FUNCTIONS.get(match.group())
        if function is None:
            raise self.fail(f"Unknown intrinsic function '{match.group()}'", start)
        if depth > MAX_DEPTH:
            raise self.fail(f"Intrinsic functions nest at most {MAX_DEPTH} deep", start)
        self.pos = match.end()
        self.skip_space()
        if self.peek() != "(":
            raise self.fail(f"Expected '(' after '{function.name}'")
        self.pos += 1
        args = self.arguments(depth)
        if function.name == "States.Format" and args and isinstance(args[0], StringLiteral):
            args = (_template(args[0]), *args[1:])
        return Call(function, args, self.text[start : self.pos])

    def arguments(self, depth: int) -> tuple[Node, ...]:
        """Parse the comma-separated arguments and the closing parenthesis."""
        args: list[Node] = []
        self.skip_space()
        if self.peek() == ")":
            self.pos += 1
            return ()
        while True:
            self.skip_space()
            args.append(self.argument(depth))
            self.skip_space()
            char = self.peek()
            self.pos += 1
            if char == ")":
                return tuple(args)
            if char != ",":
                self.pos -= 1
                raise self.fail("Expected ',' or ')'")

    def argument(self, depth: int) -> Node:
        """Parse one argument of any kind."""
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if char == "-" or char.isdigit():
            return self.number()
        match = _NAME.match(self.text, self.pos)
        if match is not None and match.group() in _KEYWORDS:
            self.pos = match.end()
            return Literal(_KEYWORDS[match.group()])
        if match is None:
            raise self.fail("Expected an argument")
        return self.call(depth + 1)

    def string(self) -> StringLiteral:
        """Parse a single-quoted string with its escapes."""
        start = self.pos
        i = start + 1
        while i < len(self.text):
            char = self.text[i]
            if char == "'":
                self.pos = i + 1
                raw = self.text[start + 1 : i]
                return StringLiteral(_unescape(raw), raw)
            if char == "\\":
                # DG: an "open escape backslash" is an error; only ' { } \ may follow.
                if i + 1 >= len(self.text) or self.text[i + 1] not in ESCAPABLE:
                    raise self.fail("Invalid escape sequence in string", i)
                i += 1
            i += 1
        raise self.fail("Unterminated string", start)

    def number(self) -> Literal:
        """Parse an integer or decimal number."""
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.fail("Invalid number")
        token = match.group()
        value: int | float = int(token) if token.lstrip("-").isdigit() else float(token)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail("Number out of range")
        self.pos = match.end()
        return Literal(value)

    def path(self) -> PathArgument:
        """Parse a path argument: up to the next top-level ',' / ')' / whitespace."""
        start = self.pos
        end = _path_end(self.text, start)
        source = self.text[start:end]
        try:
            compiled = compile_path(source)
        except ExpressionSyntaxError as error:
            raise self.fail(error.message, start + error.position) from None
        self.pos = end
        return PathArgument(source, compiled)


def _path_end(text: str, start: int) -> int:
    """Where a path starting at ``start`` ends; brackets may hold quotes, commas, parens."""
    depth, quote, i = 0, "", start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif depth and char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif not depth and (char in ",)" or char in _WHITESPACE):
            break
        i += 1
    return i


def _template(literal: StringLiteral) -> Literal:
    """Pre-parse a literal ``States.Format`` template; a bad one fails when it runs."""
    try:
        return Literal(parse_template(literal.raw))
    except TemplateError as error:
        return Literal(error)
