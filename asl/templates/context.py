"""What every template reader shares: the error type, the user's substitutions, the record
of invented values, and ``${name}`` substitution as Step Functions applies it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from asl.errors import SourceError
from asl.templates.placeholders import DEFAULT_ACCOUNT, DEFAULT_REGION, Placeholder

__all__ = ["Context", "Subs", "TemplateError", "parse_subs", "substitute"]


class TemplateError(SourceError):
    """Raised when a template holds no usable state machine definition, or cannot be read."""


def parse_subs(items: Iterable[str]) -> dict[str, str]:
    """``["KEY=VALUE", ...]`` (the ``--sub`` flags) as a dict; a malformed item is an error."""
    subs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TemplateError(f"--sub expects KEY=VALUE, got {item!r}", source="--sub")
        subs[key.strip()] = value
    return subs


class Subs(Mapping[str, str]):
    """The ``--sub`` values, remembering which were read (an unused one is likely a typo)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> str:
        value = self._values[key]
        self.used.add(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def unused(self) -> list[str]:
        return [key for key in self._values if key not in self.used]


@dataclass(slots=True)
class Context:
    """One template read: the user's ``--sub`` values and what had to be made up."""

    #: The template path, as shown in messages.
    source: str
    #: ``--sub`` values: they win over parameters, substitutions and stand-ins alike.
    subs: Subs = field(default_factory=lambda: Subs({}))
    #: Invented values in the order they were first needed (one entry per reference).
    placeholders: dict[str, Placeholder] = field(default_factory=dict)
    #: Other things the user should know (a substitution with no value...).
    notes: list[str] = field(default_factory=list)

    @property
    def region(self) -> str:
        return self.subs.get("AWS::Region", DEFAULT_REGION)

    @property
    def account(self) -> str:
        return self.subs.get("AWS::AccountId", DEFAULT_ACCOUNT)

    def invent(self, reference: str, value: str, kind: str) -> str:
        """Record that ``value`` stands in for ``reference``; return ``value``."""
        self.placeholders.setdefault(reference, Placeholder(reference, value, kind))
        return value

    def error(self, message: str, line: int | None = None, column: int | None = None) -> NoReturn:
        """Raise a :class:`TemplateError` about this template."""
        raise TemplateError(message, line=line, column=column, source=self.source)

    def unused_subs(self) -> None:
        """Note each ``--sub`` that nothing in this state machine asked for."""
        for key in self.subs.unused():
            self.note(f"--sub {key}=... was not used by this state machine")

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)


#: ``${name}``; ``${!name}`` is CloudFormation's escape for a literal ``${name}``.
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def substitute(text: str, lookup: Callable[[str], str | None]) -> tuple[str, list[str]]:
    """Replace each ``${name}`` in ``text`` by ``lookup(name)``; names it does not know
    (None) are left as written and returned, so the caller can say so."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        value = lookup(match.group(1).strip())
        if value is None:
            missing.append(match.group(1))
            return match.group(0)
        return value

    return _VARIABLE.sub(replace, text), missing
