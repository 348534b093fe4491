"""Load state machine definitions from JSON or YAML text, strictly and with positions.

``json.loads`` forgets where values were and silently keeps the last of two duplicate keys,
so a duplicated state name would vanish without a word. This module parses JSON with a small
position-tracking scanner instead (strings are still decoded by the standard library) and
YAML through PyYAML's node graph, whose marks carry line and column. Either way the result
is a :class:`Document`: the plain ``dict`` plus a map from JSON Pointer to (line, column), so
a diagnostic at ``/States/Pay/Next`` can show the user the offending line.

Strictness (every violation is a :class:`~asl.errors.SourceError` with line and column):
duplicate keys, ``NaN``/``Infinity``, trailing text after the value, a top level that is
not an object, non-string YAML keys, YAML values that have no JSON equivalent. A ``.json``
file is read as JSON only: YAML text in it is an error, not silently accepted.

YAML is read with the YAML 1.2 core schema, as AWS's ASL tooling reads ``.asl.yaml`` files
(the AWS Toolkit's amazon-states-language-service parses them with js-yaml and
yaml-language-server, both YAML 1.2), so a key ``No:`` is the state name "No". But
CloudFormation "supports the YAML Version 1.1 specification" (CloudFormation User Guide,
template formats) and the SAM CLI loads templates with PyYAML (YAML 1.1), where ``NO`` is
``false``, ``010`` is 8 and ``1_000`` is 1000. So that no value silently becomes another
type depending on the tool, a plain (unquoted) scalar that the two versions read
differently is refused with a request to quote it, and so is a plain number whose digits
a reader would drop (``1.10`` would be the number 1.1).
"""

from __future__ import annotations

import bisect
import functools
import json
import json.decoder
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from asl.errors import SourceError

__all__ = ["Document", "escape_pointer", "load_definition", "load_file"]

Format = Literal["json", "yaml"]

#: Nesting deeper than this is refused rather than risking Python's recursion limit; real
#: definitions are far shallower (AWS caps the definition at 1 MB anyway).
MAX_DEPTH = 200

#: YAML aliases may repeat a node without repeating its text ("billion laughs": 500 bytes
#: that expand to 10^8 values). A definition is at most 1 MB of JSON on AWS, and every
#: value takes two bytes of it at least (itself and a separator), so a document whose
#: aliases expand to more values than this could never be deployed: it is refused before
#: anything expands it.
MAX_EXPANDED_VALUES = 1_048_576 // 2


def escape_pointer(token: str) -> str:
    """Escape one JSON Pointer reference token (RFC 6901: ``~`` → ``~0``, ``/`` → ``~1``)."""
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded definition: its value and where each part of it came from."""

    #: The definition as plain JSON data (dicts, lists, str, int, float, bool, None).
    value: dict[str, Any]
    #: The text it was loaded from ("" when built from a value).
    text: str = ""
    #: The name shown in messages: a file path or ``<definition>``.
    source: str = "<definition>"
    #: JSON Pointer → 1-based (line, column) of the member's key, or of the value for array
    #: items and the root.
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def position(self, pointer: str) -> tuple[int, int] | None:
        """Return (line, column) of ``pointer``, or of its nearest ancestor that has one."""
        while True:
            found = self.positions.get(pointer)
            if found is not None or not pointer:
                return found
            pointer = pointer.rpartition("/")[0]

    def line_text(self, line: int) -> str:
        """Return the text of 1-based ``line`` without its end-of-line ('' when absent)."""
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


def load_file(path: str | os.PathLike[str], *, format: Format | None = None) -> Document:
    """Read and load the definition in ``path``; YAML for ``.yaml``/``.yml`` files.

    Raises :class:`SourceError` when the file cannot be read or does not hold a definition.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", source=name) from exc
    if format is None and name.lower().endswith((".yaml", ".yml")):
        format = "yaml"
    elif format is None and name.lower().endswith(".json"):
        format = "json"
        if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
            raise SourceError(
                "a .json file must hold a JSON object; for a YAML definition use a "
                ".yaml/.yml name (or asl validate --yaml)",
                line=1,
                column=1,
                source=name,
            )
    return load_definition(data, source=name, format=format)


def load_definition(
    text: str | bytes, *, source: str = "<definition>", format: Format | None = None
) -> Document:
    """Load definition ``text`` (JSON, or YAML when ``format="yaml"`` or it does not look
    like JSON) into a :class:`Document`.

    Raises :class:`SourceError` with line and column for anything that is not a single,
    well-formed JSON object (see the module docstring for the strict rules).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceError(f"the file is not valid UTF-8 ({exc.reason})", source=source) from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SourceError("the definition is empty", line=1, column=1, source=source)
    if format is None:
        format = "json" if text.lstrip()[:1] in ("{", "[", '"') else "yaml"
    if format == "yaml":
        value, positions = _load_yaml(text, source)
    else:
        value, positions = _JsonScanner(text, source).parse()
    if not isinstance(value, dict):
        line, column = positions.get("", (1, 1))
        raise SourceError(
            f"a state machine definition must be an object, not {json_type(value)}",
            line=line,
            column=column,
            source=source,
        )
    return Document(value=value, text=text, source=source, positions=positions)


def json_type(value: object) -> str:
    """Name ``value``'s JSON type the way messages say it ("an array", "a string"...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


#: The standard library's (C) JSON string decoder; typeshed does not declare it.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
_NON_JSON_WORDS = ("NaN", "Infinity", "-Infinity")


class _JsonScanner:
    """A strict RFC 8259 parser that records the position of every member (one pass)."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.positions: dict[str, tuple[int, int]] = {}
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def _where(self, pos: int) -> tuple[int, int]:
        """Turn a character offset into a 1-based (line, column)."""
        line = bisect.bisect_right(self._line_starts, pos)
        return line, pos - self._line_starts[line - 1] + 1

    def parse(self) -> tuple[Any, dict[str, tuple[int, int]]]:
        pos = self._skip(0)
        self.positions[""] = self._where(pos)
        value, pos = self._value(pos, "", 0)
        pos = self._skip(pos)
        if pos != len(self.text):
            raise self._error("unexpected text after the end of the JSON value", pos)
        return value, self.positions

    def _error(self, message: str, pos: int) -> SourceError:
        line, column = self._where(pos)
        return SourceError(message, line=line, column=column, source=self.source)

    def _skip(self, pos: int) -> int:
        match = _WHITESPACE.match(self.text, pos)
        return match.end() if match else pos

    def _value(self, pos: int, pointer: str, depth: int) -> tuple[Any, int]:
        char = self.text[pos : pos + 1]
        if char == "{":
            return self._object(pos + 1, pointer, depth + 1)
        if char == "[":
            return self._array(pos + 1, pointer, depth + 1)
        if char == '"':
            return self._string(pos)
        return self._scalar(pos)

    def _scalar(self, pos: int) -> tuple[Any, int]:
        for word, value in _LITERALS.items():
            if self.text.startswith(word, pos):
                return value, pos + len(word)
        match = _NUMBER.match(self.text, pos)
        if match:
            return self._number(match), match.end()
        for word in _NON_JSON_WORDS:
            if self.text.startswith(word, pos):
                raise self._error(f"{word} is not a valid JSON number", pos)
        if pos >= len(self.text):
            raise self._error("unexpected end of text: expecting a value", pos)
        raise self._error(f"expecting a value, found {self.text[pos]!r}", pos)

    def _number(self, match: re.Match[str]) -> int | float:
        if match.group(1) is None and match.group(2) is None:
            return int(match.group())
        number = float(match.group())
        if not math.isfinite(number):
            raise self._error(f"the number {match.group()} is too large", match.start())
        return number

    def _string(self, pos: int) -> tuple[str, int]:
        try:
            return _scanstring(self.text, pos + 1, True)
        except json.JSONDecodeError as exc:
            raise self._error(exc.msg.lower().removesuffix(" at"), exc.pos) from None

    def _object(self, pos: int, pointer: str, depth: int) -> tuple[dict[str, Any], int]:
        self._check_depth(pos, depth)
        result: dict[str, Any] = {}
        pos = self._skip(pos)
        if self.text.startswith("}", pos):
            return result, pos + 1
        while True:
            if not self.text.startswith('"', pos):
                raise self._error("expecting a property name in double quotes", pos)
            key_pos = pos
            key, pos = self._string(pos)
            pos = self._skip(pos)
            if not self.text.startswith(":", pos):
                raise self._error("expecting ':' after the property name", pos)
            member = f"{pointer}/{escape_pointer(key)}"
            if key in result:
                first = self.positions[member]
                raise self._error(
                    f"duplicate key {key!r} (first defined at line {first[0]}, column {first[1]})",
                    key_pos,
                )
            self.positions[member] = self._where(key_pos)
            result[key], pos = self._value(self._skip(pos + 1), member, depth)
            pos = self._skip(pos)
            if self.text.startswith("}", pos):
                return result, pos + 1
            if not self.text.startswith(",", pos):
                raise self._error("expecting ',' or '}' after an object member", pos)
            pos = self._skip(pos + 1)

    def _array(self, pos: int, pointer: str, depth: int) -> tuple[list[Any], int]:
        self._check_depth(pos, depth)
        result: list[Any] = []
        pos = self._skip(pos)
        if self.text.startswith("]", pos):
            return result, pos + 1
        while True:
            member = f"{pointer}/{len(result)}"
            self.positions[member] = self._where(pos)
            item, pos = self._value(pos, member, depth)
            result.append(item)
            pos = self._skip(pos)
            if self.text.startswith("]", pos):
                return result, pos + 1
            if not self.text.startswith(",", pos):
                raise self._error("expecting ',' or ']' after an array item", pos)
            pos = self._skip(pos + 1)

    def _check_depth(self, pos: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self._error(f"the value is nested more than {MAX_DEPTH} levels deep", pos)


# --- YAML ----------------------------------------------------------------------------------

_YAML_TAG = "tag:yaml.org,2002:"
_JSON_SCALAR_TAGS = frozenset(_YAML_TAG + name for name in ("str", "int", "float", "bool", "null"))


#: YAML 1.2 core schema (YAML 1.2.2 §10.3.2), the tag resolution of a plain scalar.
_CORE_BOOLEANS = {"true": True, "True": True, "TRUE": True}
_CORE_BOOLEANS |= {"false": False, "False": False, "FALSE": False}
_CORE_NULL = re.compile(r"~|null|Null|NULL|")
_CORE_INT = re.compile(r"[-+]?[0-9]+")
_CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_CORE_NOT_FINITE = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
#: A fraction of two or more digits ending in 0: the float keeps fewer digits than written.
_DROPPED_DIGITS = re.compile(r"\.[0-9]*[0-9]0([eE]|$)")


def yaml_core_value(text: str) -> Any:
    """The value of plain scalar ``text`` under the YAML 1.2 core schema."""
    if _CORE_NULL.fullmatch(text):
        return None
    if text in _CORE_BOOLEANS:
        return _CORE_BOOLEANS[text]
    if _CORE_INT.fullmatch(text):
        return int(text)
    if re.fullmatch(r"0o[0-7]+|0x[0-9a-fA-F]+", text):
        return int(text[2:], 8 if text[1] == "o" else 16)
    if _CORE_FLOAT.fullmatch(text) or _CORE_NOT_FINITE.fullmatch(text):
        return float(text.replace(".", "", 1) if _CORE_NOT_FINITE.fullmatch(text) else text)
    return text


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {json.dumps(value)}"
    return f"{json_type(value)} ({json.dumps(value)})" if value is not None else "null"


@functools.cache
def _yaml_loader() -> type[Any]:
    """A safe loader (libyaml when available) that keeps timestamps as strings.

    YAML 1.1 would turn an unquoted ``Timestamp: 2016-03-14T01:59:00Z`` into a datetime,
    which is not JSON; ASL wants the text (SPEC §Timestamps).
    """
    import yaml

    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {
        first: [(tag, regex) for tag, regex in entries if tag != _YAML_TAG + "timestamp"]
        for first, entries in base.yaml_implicit_resolvers.items()
    }
    return type("_ASLYamlLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def _load_yaml(text: str, source: str) -> tuple[Any, dict[str, tuple[int, int]]]:
    """Load one YAML document, checking keys and types on the node graph first."""
    import yaml

    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SourceError("the definition is empty", line=1, column=1, source=source)
        walker = _YamlWalker(loader, source)
        walker.walk(node, "", 0)
        return loader.construct_document(node), walker.positions
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(filter(None, (exc.context, exc.problem))) or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise SourceError(message, line=line, column=column, source=source) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise SourceError(f"invalid YAML: {exc}", source=source) from None
    finally:
        loader.dispose()


class _YamlWalker:
    """Records positions and enforces the JSON data model on a YAML node graph."""

    def __init__(self, loader: Any, source: str) -> None:
        self.loader = loader
        self.source = source
        self.positions: dict[str, tuple[int, int]] = {}
        #: Aliased nodes are checked once; each one's size once its aliases are expanded.
        self._done: dict[int, int] = {}
        self._open: set[int] = set()  # nodes on the current path (recursive aliases)

    def _error(self, message: str, node: Any) -> SourceError:
        mark = node.start_mark
        return SourceError(message, line=mark.line + 1, column=mark.column + 1, source=self.source)

    def walk(self, node: Any, pointer: str, depth: int) -> int:
        """Check ``node``; return how many values it holds once its aliases are expanded."""
        import yaml

        self.positions.setdefault(pointer, (node.start_mark.line + 1, node.start_mark.column + 1))
        if id(node) in self._open:
            raise self._error("a YAML alias refers to its own parent (recursive data)", node)
        done = self._done.get(id(node))
        if done is not None:
            return done
        if depth > MAX_DEPTH:
            raise self._error(f"the value is nested more than {MAX_DEPTH} levels deep", node)
        self._open.add(id(node))
        size = 1
        if isinstance(node, yaml.MappingNode):
            size += self._mapping(node, pointer, depth)
        elif isinstance(node, yaml.SequenceNode):
            self._expect_tag(node, _YAML_TAG + "seq")
            for index, item in enumerate(node.value):
                size += self.walk(item, f"{pointer}/{index}", depth + 1)
        else:
            self._scalar(node)
        if size > MAX_EXPANDED_VALUES:
            raise self._error(
                f"the YAML aliases expand this value to more than {MAX_EXPANDED_VALUES:,} "
                "values, far over AWS's 1 MB definition limit",
                node,
            )
        self._open.discard(id(node))
        self._done[id(node)] = size
        return size

    def _expect_tag(self, node: Any, tag: str) -> None:
        if node.tag != tag:
            raise self._error(f"the YAML tag {node.tag!r} has no JSON equivalent", node)

    def _scalar(self, node: Any) -> None:
        if node.tag not in _JSON_SCALAR_TAGS:
            raise self._error(f"the YAML tag {node.tag!r} has no JSON equivalent", node)
        value = self.loader.construct_object(node)
        if isinstance(value, float) and not math.isfinite(value):
            raise self._error(f"{node.value} is not a valid JSON number", node)
        if not node.style:  # plain: PyYAML says None, libyaml ''
            self._unambiguous(node, value)

    def _unambiguous(self, node: Any, value: Any) -> None:
        """Refuse a plain scalar whose value depends on the reader (see the module doc)."""
        core = yaml_core_value(node.value)
        text = json.dumps(node.value)
        if type(core) is not type(value) or core != value:
            raise self._error(
                f"the unquoted value {node.value} is {_shown(core)} in YAML 1.2 but "
                f"{_shown(value)} in YAML 1.1 (CloudFormation, SAM); quote it ({text}) if "
                "you mean the text",
                node,
            )
        if isinstance(value, float) and _DROPPED_DIGITS.search(node.value):
            raise self._error(
                f"the unquoted value {node.value} is the number {value!r}; quote it "
                f"({text}) to keep the text, or write {value!r}",
                node,
            )

    def _mapping(self, node: Any, pointer: str, depth: int) -> int:
        self._expect_tag(node, _YAML_TAG + "map")
        seen: dict[str, Any] = {}
        size = 0
        for key_node, value_node in node.value:
            if key_node.tag == _YAML_TAG + "merge":
                size += self.walk(value_node, pointer, depth)
                continue
            if not key_node.style and isinstance(yaml_core_value(key_node.value), str):
                # A key is always a string in ASL; YAML 1.1 alone would make `No:` false.
                key_node.tag = _YAML_TAG + "str"
            if key_node.tag != _YAML_TAG + "str":
                raise self._error(
                    f"the key {key_node.value!r} is not a string (quote it in YAML)", key_node
                )
            key = key_node.value
            if key in seen:
                first = seen[key].start_mark
                raise self._error(
                    f"duplicate key {key!r} (first defined at line {first.line + 1}, "
                    f"column {first.column + 1})",
                    key_node,
                )
            seen[key] = key_node
            member = f"{pointer}/{escape_pointer(key)}"
            self.positions[member] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            size += 1 + self.walk(value_node, member, depth + 1)
        return size
