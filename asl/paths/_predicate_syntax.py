"""Read a filter predicate (the text inside ``[?( ... )]``) into :mod:`asl.paths._predicate` nodes.

Grammar (Jayway's ``FilterCompiler``; ``&&`` binds tighter than ``||``)::

    predicate := and ("||" and)*
    and       := unary ("&&" unary)*
    unary     := "!" unary | "(" predicate ")" | relation
    relation  := operand [operator operand]       a path alone tests existence
    operand   := "@" steps | "$" steps | literal
    literal   := 'string' | "string" | number | true | false | null
               | JSON array or object (strings may use single quotes) | /regex/flags
    operator  := == != === !== < <= > >= =~ | a word, any case: in nin subsetof anyof
                 noneof all contains size empty

:class:`PredicateReader` is a mixin: the path parser provides the cursor (``text``, ``pos``),
``fail`` and ``operand_path`` (a sub-path is ordinary path syntax).
"""

from __future__ import annotations

import re
from typing import Any

from asl.errors import ExpressionSyntaxError
from asl.paths._predicate import (
    OPERATORS,
    Compare,
    Conjunction,
    Constant,
    Disjunction,
    Exists,
    Not,
    Operand,
    PathOperand,
    PredicateNode,
)
from asl.paths._text import closing_quote, unescape

__all__ = ["PredicateReader"]

_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_KEYWORD = re.compile(r"(true|false|null)(?![\w$@])")
_OPERATOR_CHARS = frozenset("<>=!~")
#: Java ``Pattern`` flags Jayway reads after ``/regex/``; those without a Python equivalent
#: (UNIX_LINES, UNICODE_CASE, UNICODE_CHARACTER_CLASS) are Python's behaviour already.
_REGEX_FLAGS = {
    "i": re.IGNORECASE,
    "m": re.MULTILINE,
    "s": re.DOTALL,
    "x": re.VERBOSE,
    "d": 0,
    "u": 0,
    "U": 0,
}
_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "null": None}


class PredicateReader:
    """Recursive-descent reading of a predicate at ``self.pos`` in ``self.text``."""

    text: str
    pos: int

    def fail(self, message: str, position: int | None = None) -> ExpressionSyntaxError:
        raise NotImplementedError

    def operand_path(self) -> PathOperand:
        raise NotImplementedError

    def blanks(self) -> str:
        """Skip blanks; return the character now under the cursor ('' at the end)."""
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self.pos = pos
        return text[pos] if pos < len(text) else ""

    def predicate(self) -> PredicateNode:
        """``and ("||" and)*``."""
        items = [self.conjunction()]
        while self.blanks() and self.text.startswith("||", self.pos):
            self.pos += 2
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Disjunction(tuple(items))

    def conjunction(self) -> PredicateNode:
        """``unary ("&&" unary)*``."""
        items = [self.unary()]
        while self.blanks() and self.text.startswith("&&", self.pos):
            self.pos += 2
            items.append(self.unary())
        return items[0] if len(items) == 1 else Conjunction(tuple(items))

    def unary(self) -> PredicateNode:
        """``"!" unary | "(" predicate ")" | relation``."""
        char = self.blanks()
        if char == "!":
            self.pos += 1
            if self.blanks() in ("@", "$"):
                relation = self.relation()
                # Jayway: a '!' right before a path negates its existence test only; before
                # a comparison (`!@.a == 1`) it is ignored.
                return Not(relation) if isinstance(relation, Exists) else relation
            return Not(self.unary())
        if char == "(":
            opened = self.pos
            self.pos += 1
            inner = self.predicate()
            if self.blanks() != ")":
                raise self.fail(f"expected ')' to close the '(' at position {opened}")
            self.pos += 1
            return inner
        return self.relation()

    def relation(self) -> PredicateNode:
        """``operand [operator operand]``."""
        left = self.operand()
        operator = self.operator()
        if operator is None:
            if isinstance(left, PathOperand):
                return Exists(left)
            raise self.fail("expected a comparison operator after a literal")
        right = self.operand()
        return Compare(left, operator, right, OPERATORS[operator])

    def operator(self) -> str | None:
        """The next relational operator, or ``None`` when the relation ends here."""
        char = self.blanks()
        start = end = self.pos
        text = self.text
        if char in _OPERATOR_CHARS and char:
            while end < len(text) and text[end] in _OPERATOR_CHARS:
                end += 1
        elif char.isalpha():
            while end < len(text) and text[end].isalpha():
                end += 1
        else:
            return None
        word = text[start:end]
        if word.lower() not in OPERATORS:
            raise self.fail(f"unknown filter operator '{word}'", start)
        self.pos = end
        return word.lower()

    def operand(self) -> Operand:
        """A sub-path (``@...``, ``$...``) or a literal."""
        char = self.blanks()
        if char in ("@", "$"):
            return self.operand_path()
        if char == "/":
            return Constant(self.regex())
        if char in ("[", "{"):
            return Constant(self.json())
        return Constant(self.scalar())

    def scalar(self) -> Any:
        """A string, number, ``true``, ``false`` or ``null``."""
        char = self.blanks()
        if char in ("'", '"'):
            return self.string()
        match = _KEYWORD.match(self.text, self.pos) or _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.fail(
                "expected a value: a path (@ or $), a quoted string, a number, true, false, "
                "null, a JSON array or object, or a /regex/"
            )
        self.pos = match.end()
        word = match.group()
        if word in _KEYWORDS:
            return _KEYWORDS[word]
        return float(word) if any(c in word for c in ".eE") else int(word)

    def string(self) -> str:
        """A single- or double-quoted string, with Jayway's escapes."""
        start = self.pos
        end = closing_quote(self.text, start)
        if end < 0:
            raise self.fail("unterminated string", start)
        try:
            value = unescape(self.text[start + 1 : end])
        except ValueError as error:
            raise self.fail(str(error), start) from None
        self.pos = end + 1
        return value

    def json(self) -> Any:
        """A JSON array or object literal (json-smart's permissive mode: 'quotes' too)."""
        char = self.blanks()
        if char not in ("[", "{"):
            return self.scalar()
        close = "]" if char == "[" else "}"
        self.pos += 1
        items: list[Any] = []
        members: dict[str, Any] = {}
        while self.blanks() != close:
            if items or members:
                if self.blanks() != ",":
                    raise self.fail(f"expected ',' or '{close}' in a JSON literal")
                self.pos += 1
            if close == "]":
                items.append(self.json())
                continue
            if self.blanks() not in ("'", '"'):
                raise self.fail("expected a quoted member name in a JSON object")
            name = self.string()
            if self.blanks() != ":":
                raise self.fail("expected ':' after a member name")
            self.pos += 1
            members[name] = self.json()
        self.pos += 1
        return items if close == "]" else members

    def regex(self) -> re.Pattern[str]:
        """``/regex/flags``: a Java pattern, compiled as a Python one."""
        start = self.pos
        end = closing_quote(self.text, start)
        if end < 0:
            raise self.fail("unterminated regular expression (no closing '/')", start)
        flags_end = end + 1
        while flags_end < len(self.text) and self.text[flags_end].isalpha():
            flags_end += 1
        flags = 0
        for position in range(end + 1, flags_end):
            letter = self.text[position]
            if letter not in _REGEX_FLAGS:
                raise self.fail(f"unknown regular expression flag '{letter}'", position)
            flags |= _REGEX_FLAGS[letter]
        try:
            pattern = re.compile(self.text[start + 1 : end], flags)
        except (re.error, OverflowError, ValueError) as error:
            raise self.fail(f"invalid regular expression ({error})", start) from None
        self.pos = flags_end
        return pattern
