"""Quoted text in paths: Jayway's escapes (``Utils.unescape``) in names and string literals."""

from __future__ import annotations

__all__ = ["closing_quote", "unescape"]

_ESCAPES = {"r": "\r", "f": "\f", "t": "\t", "n": "\n", "b": "\b"}


def closing_quote(text: str, start: int) -> int:
    """Index of the quote closing the one at ``text[start]`` (a backslash escapes), or -1."""
    quote, position = text[start], start + 1
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == quote:
            return position
        position += 1
    return -1


def unescape(raw: str) -> str:
    """Jayway's unescaping: ``\\n``, ``\\t``... and ``\\uXXXX``; any other escaped character
    stands for itself (``\\'`` is a quote). Raises ``ValueError`` on a bad ``\\u``."""
    if "\\" not in raw:
        return raw
    chars: list[str] = []
    position = 0
    while position < len(raw):
        char = raw[position]
        position += 1
        if char != "\\":
            chars.append(char)
        elif position == len(raw):
            chars.append("\\")  # Jayway keeps a trailing backslash
        elif raw[position] == "u":
            digits = raw[position + 1 : position + 5]
            if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError(f"bad unicode escape '\\u{digits}'")
            chars.append(chr(int(digits, 16)))
            position += 5
        else:
            chars.append(_ESCAPES.get(raw[position], raw[position]))
            position += 1
    return "".join(chars)
