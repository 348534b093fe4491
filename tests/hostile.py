"""Hostile text for the escaping tests: markup, quoting, control characters, surrogates.

``machines()`` draws a definition whose every string (state names, Types, Choice rules,
error names, comments) is hostile, together with its *twin*: the same machine with each
of those strings replaced by a plain word. A renderer that keeps hostile text inside its
quoting draws both with the same structure.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: Characters that mean something to XML/HTML, DOT, Mermaid, rich or a terminal.
SPECIALS = [
    *"<>&\"'`#;|[]{}()\\/-!:% \n\r\t",
    "\x00",
    "\x07",
    "\x08",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ufffe",
    "\ud800",
    "\udfff",
]

#: Whole payloads, each one instance of a known attack on one output.
PAYLOADS = [
    'x"/><script>alert(document.domain)</script><g class="',
    "</script><script>alert(1)</script>",
    "<!--<script>",
    "</SCRIPT >",
    "]]><x/>",
    '"]; evil [label="',
    '"] --> x(("',
    "#quot;",
    "[/x]",
    "[bold]",
    "[link=http://e]x[/link]",
    ":smile:",
    "\x1b]0;pwned\x07",
    "\x1b[2J\x1b[H",
    "\x1b]8;;http://e\x1b\\link\x1b]8;;\x1b\\",
    "\x9b31m",
    "\\",
    "\u202etxt.exe",
]

hostile_text = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(st.one_of(st.sampled_from(SPECIALS), st.characters(codec="utf-8")), max_size=20),
)

#: The state types a machine may draw; ``weird`` stands for a hostile ``Type`` string.
KINDS = ("Task", "Pass", "Wait", "Choice", "Parallel", "Map", "Succeed", "Fail", "weird")
_TYPE_NAMES = frozenset(KINDS) | {"Missing", "?"}

#: Strings a machine uses besides state names (Type, Comment, rule, errors, inner name).
STRINGS = 8


def _inner(name: str) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}}


def _state(kind: str, nxt: str, s: list[str]) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": s[0] if kind == "weird" else kind, "Comment": s[1]}
    if kind == "Choice":
        state["Choices"] = [
            {"Variable": s[2], "StringEquals": s[3], "Next": nxt},
            {"Condition": s[4], "Next": nxt},
        ]
        state["Default"] = nxt
    elif kind == "Fail":
        state.update(Error=s[5], Cause=s[6])
    elif kind != "Succeed":
        state["Next"] = nxt
    if kind in ("Task", "Parallel", "Map", "weird"):
        state["Retry"] = [{"ErrorEquals": [s[5]], "MaxAttempts": 2}]
        state["Catch"] = [{"ErrorEquals": [s[6]], "Next": nxt}]
    if kind == "Parallel":
        state["Branches"] = [_inner(s[7]), _inner(s[7])]
    if kind == "Map":
        state["ItemProcessor"] = _inner(s[7])
    return state


def build(names: list[str], kinds: list[str], strings: list[str]) -> dict[str, Any]:
    """A definition of one state per name, each leading to the next (the last loops)."""
    states = {
        name: _state(kind, names[(i + 1) % len(names)], strings)
        for i, (name, kind) in enumerate(zip(names, kinds, strict=True))
    }
    return {"Comment": strings[1], "StartAt": names[0], "States": states}


@st.composite
def machines(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(hostile definition, its plain twin)."""
    count = draw(st.integers(1, 4))
    names = draw(st.lists(hostile_text, min_size=count, max_size=count, unique=True))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=count, max_size=count))
    strings = draw(st.lists(hostile_text, min_size=STRINGS, max_size=STRINGS))
    strings[0] = strings[0] if strings[0] not in _TYPE_NAMES else strings[0] + "!"
    plain_names = [f"s{i}" for i in range(count)]
    # An empty string stays empty: an empty label is not drawn at all.
    plain = ["Weird", *(f"t{i}" if strings[i] else "" for i in range(1, STRINGS))]
    return build(names, kinds, strings), build(plain_names, kinds, plain)
