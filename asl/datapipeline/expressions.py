"""Data Pipeline expressions (``#{...}``) as JSONata.

Data Pipeline's developer guide ("Expressions", "Expression evaluation", "Date and time
functions"): ``#{myParam}`` is a parameter, ``#{field}`` / ``#{input.field}`` /
``#{output.field}`` / ``#{node.field}`` a field of the object (or of its input/output
data node), ``@scheduledStartTime``, ``@scheduledEndTime`` and ``@actualStartTime`` are
DateTime runtime fields, and ``format(dt, 'joda pattern')``, ``plusDays``/``minusDays``
(and Hours, Minutes, Weeks) work on DateTimes. Months and years are not translated.

The translation: a field becomes one JSONata template, ``{% "text" & (expr) & "text"
%}``. DateTimes are epoch milliseconds in JSONata; the machine's first state assigns
``$scheduledStart``, ``$scheduledEnd`` and ``$params`` (see :mod:`asl.datapipeline.build`).
A DateTime printed without ``format`` reads ``YYYY-MM-DDTHH:MM:SS``, as Data Pipeline
prints it. What cannot be translated raises :class:`Untranslatable` with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Untranslatable", "joda_to_picture", "translate_text"]

_PLACE = re.compile(r"#\{(.*?)\}")
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<name>[@A-Za-z_][\w@.]*)|(?P<punct>[(),]))"
)
#: Date functions: name → (JSONata unit in milliseconds, sign), or a calendar unit.
_MS = {"Minutes": 60_000, "Hours": 3_600_000, "Days": 86_400_000, "Weeks": 604_800_000}
_RUNTIME = {
    "@scheduledStartTime": "$scheduledStart",
    "@scheduledEndTime": "$scheduledEnd",
    "@actualStartTime": "$toMillis($states.context.Execution.StartTime)",
}
_ISO_PICTURE = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]"


class Untranslatable(Exception):
    """Raised when an expression has no JSONata translation here; the message says why."""


#: Joda-Time pattern letters → XPath picture markers ($fromMillis), by run length.
_JODA = {
    ("y", 4): "[Y0001]",
    ("y", 2): "[Y01]",
    ("Y", 4): "[Y0001]",
    ("Y", 2): "[Y01]",
    ("M", 1): "[M1]",
    ("M", 2): "[M01]",
    ("M", 3): "[MNn,*-3]",
    ("M", 4): "[MNn]",
    ("d", 1): "[D1]",
    ("d", 2): "[D01]",
    ("H", 1): "[H1]",
    ("H", 2): "[H01]",
    ("h", 1): "[h1]",
    ("h", 2): "[h01]",
    ("m", 1): "[m1]",
    ("m", 2): "[m01]",
    ("s", 1): "[s1]",
    ("s", 2): "[s01]",
    ("S", 3): "[f001]",
    ("a", 1): "[P]",
    ("E", 3): "[FNn,*-3]",
    ("E", 4): "[FNn]",
    ("D", 3): "[d001]",
    ("Z", 1): "[Z0000]",
    ("Z", 2): "[Z01:01]",
}


def joda_to_picture(pattern: str) -> str:
    """A Joda-Time ``DateTimeFormat`` pattern as an XPath picture string."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise Untranslatable(f"the pattern {pattern!r} has an unclosed quote")
            literal = pattern[i + 1 : end] or "'"
            out.append(literal.replace("[", "[[").replace("]", "]]"))
            i = end + 1
            continue
        if char.isalpha():
            run = len(pattern) - i - len(pattern[i:].lstrip(char))
            marker = _JODA.get((char, run)) or _JODA.get((char, 4 if run > 4 else run))
            if marker is None:
                raise Untranslatable(f"the pattern letter {char * run!r} in {pattern!r}")
            out.append(marker)
            i += run
            continue
        out.append("[[" if char == "[" else "]]" if char == "]" else char)
        i += 1
    return "".join(out)


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    #: Field references (``input.x``, ``x``) → JSONata of their text, from the caller.
    resolve: Callable[[str], tuple[str, str]]
    pos: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (text and token[1] != text):
            wanted = text or kind or "more"
            raise Untranslatable(f"expected {wanted!r} at {token[1] if token else 'the end'!r}")
        self.pos += 1
        return token

    def expr(self) -> tuple[str, str]:
        """(JSONata, kind) with kind "date", "number" or "text"."""
        kind, text = self.take()
        if kind == "str":
            return json.dumps(json.loads('"' + text[1:-1].replace('"', '\\"') + '"')), "text"
        if kind == "num":
            return text, "number"
        if kind != "name":
            raise Untranslatable(f"unexpected {text!r}")
        nxt = self.peek()
        if nxt == ("punct", "("):
            return self.call(text)
        name = text.removeprefix("node.")
        if name in _RUNTIME:
            return _RUNTIME[name], "date"
        if name.startswith("@"):
            raise Untranslatable(f"the runtime field {name} has no Step Functions equivalent")
        return self.resolve(text)

    def call(self, name: str) -> tuple[str, str]:
        self.take("punct", "(")
        args = []
        while self.peek() != ("punct", ")"):
            args.append(self.expr())
            if self.peek() == ("punct", ","):
                self.take()
        self.take("punct", ")")
        return _function(name, args)


def _function(name: str, args: list[tuple[str, str]]) -> tuple[str, str]:
    if name == "format" and len(args) == 2 and args[1][1] == "text":
        picture = joda_to_picture(json.loads(args[1][0]))
        return f"$fromMillis({_date(args[0])}, {json.dumps(picture)})", "text"
    matched = re.fullmatch(r"(plus|minus)(Minutes|Hours|Days|Weeks|Months|Years)", name)
    if matched and len(args) == 2:
        sign = "+" if matched.group(1) == "plus" else "-"
        unit = matched.group(2)
        amount = args[1][0] if args[1][1] == "number" else f"$number({args[1][0]})"
        if unit in _MS:
            return f"({_date(args[0])} {sign} {amount} * {_MS[unit]})", "date"
        raise Untranslatable(
            f"{name}(): calendar {unit.lower()} have no fixed length and JSONata has no "
            "calendar arithmetic"
        )
    raise Untranslatable(f"the function {name}() with {len(args)} argument(s)")


def _date(arg: tuple[str, str]) -> str:
    text, kind = arg
    if kind == "date":
        return text
    if kind == "text":
        return f"$toMillis({text})"
    raise Untranslatable("a number where a DateTime is expected")


def as_text(jsonata: str, kind: str) -> str:
    """A translated value as text: DateTimes printed as Data Pipeline prints them."""
    if kind == "date":
        return f"$fromMillis({jsonata}, {json.dumps(_ISO_PICTURE)})"
    if kind == "number":
        return f"$string({jsonata})"
    return jsonata


def translate_expression(source: str, resolve: Callable[[str], tuple[str, str]]) -> tuple[str, str]:
    """The JSONata of one ``#{...}`` body and its kind; raises :class:`Untranslatable`."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    source = source.strip()
    while pos < len(source):
        matched = _TOKEN.match(source, pos)
        if matched is None or matched.end() == pos:
            raise Untranslatable(f"cannot read {source[pos:]!r}")
        kind = matched.lastgroup or ""
        tokens.append((kind, matched.group(kind)))
        pos = matched.end()
    parser = _Parser(tokens, resolve)
    result = parser.expr()
    if parser.peek() is not None:
        raise Untranslatable(f"unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    return result


def translate_text(text: str, resolve: Callable[[str], tuple[str, str]]) -> tuple[str, str]:
    """A field's text with ``#{...}`` as (JSONata, kind); plain text is ``("\"text\"", "text")``.

    ``resolve`` turns a name (``myParam``, ``input.directoryPath``, ``directoryPath``) into
    (JSONata, kind), raising :class:`Untranslatable` for what it does not know.
    """
    parts: list[str] = []
    last = 0
    only: tuple[str, str] | None = None
    for matched in _PLACE.finditer(text):
        if matched.start() > last:
            parts.append(json.dumps(text[last : matched.start()]))
        value = translate_expression(matched.group(1), resolve)
        only = value
        parts.append(f"({as_text(*value)})")
        last = matched.end()
    if last < len(text):
        parts.append(json.dumps(text[last:]))
    if only is not None and len(parts) == 1:
        return only  # a whole-field expression keeps its kind (a DateTime stays one)
    return (" & ".join(parts) if parts else '""'), "text"


def has_expression(text: str) -> bool:
    """Whether ``text`` holds a ``#{...}``."""
    return _PLACE.search(text) is not None
