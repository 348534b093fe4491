"""Text from a definition or a history, made safe to show: control characters made visible.

State names, causes and outputs are arbitrary strings. Written raw, an ESC starts a terminal
escape sequence (a window title, a cleared screen), a NUL makes an SVG unreadable as XML,
and a lone surrogate (valid in JSON text, ``"\\ud800"``) cannot be encoded as UTF-8 at all.
:func:`visible` spells each such character the way Python's ``repr`` does (``\\x1b``), so
the reader sees it and nothing interprets it. Each output format still escapes its own
syntax (XML entities, DOT and Mermaid quoting) on top of this.
"""

from __future__ import annotations

import re

__all__ = ["visible"]

#: C0 controls, DEL, C1 controls (U+0085 and U+009B among them: NEL and the 8-bit CSI),
#: lone surrogates, and the two noncharacters XML 1.0 forbids.
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: The same, but tab and newline kept (multi-line text such as pretty-printed JSON).
_HIDDEN_INLINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _spell(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control character spelled out (``\\x1b``, ``\\n``, ``\\ud800``).

    With ``multiline``, newlines and tabs are kept as they are.
    """
    if text.isprintable():  # the common case, in C: no Cc, Cs or unassigned character
        return text
    return (_HIDDEN_INLINE if multiline else _HIDDEN).sub(_spell, text)
