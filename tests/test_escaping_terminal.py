"""Hostile execution text on the terminal: never rich markup, never a raw control character.

State names, error names, causes, outputs and handler exceptions reach the live trace,
its summary, ``asl history`` and ``asl describe``. ESC (a window title, a cleared
screen), other C0/C1 controls and lone surrogates are shown spelled (``\\x1b``), and
``[/x]`` or ``[bold]`` are shown as written, never read as rich markup.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from asl.graph.text import visible
from runtime import run_sync
from runtime.api import load_machine
from runtime.cli.store import main as store_main
from runtime.durable.store import ExecutionInfo, Store, StoreRecorder
from runtime.engine.clock import VirtualClock
from runtime.engine.errors import TaskFailure
from runtime.trace import LiveTrace
from tests.hostile import PAYLOADS, hostile_text

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
PREFIX = "arn:aws:states:us-east-1:123456789012"
#: What a terminal would obey: C0 (but newline), DEL, C1, and a lone surrogate.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J\x1b[H"
#: ASL state names are 1 to 80 characters long.
state_names = hostile_text.filter(lambda text: 0 < len(text) <= 80)


def _machine(names: list[str], error: str, cause: str, value: Any) -> dict[str, Any]:
    """Pass (assigns ``value``) → a Task whose handler fails → a Map → caught → Fail."""
    first, task, fail = names
    return {
        "StartAt": first,
        "States": {
            first: {"Type": "Pass", "Result": value, "Assign": {"v": value}, "Next": task},
            task: {
                "Type": "Task",
                "Resource": ARN + "boom",
                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": fail}],
                "End": True,
            },
            fail: {"Type": "Fail", "Error": error, "Cause": cause},
        },
    }


def _handler(error: str, cause: str) -> Any:
    def boom(payload: Any) -> Any:
        raise TaskFailure(error, cause)

    return boom


def _trace(definition: dict[str, Any], functions: Any, terminal: bool = False, **kw: Any) -> str:
    buf = io.StringIO()
    colours = "standard" if terminal else None
    console = Console(file=buf, width=100, force_terminal=terminal, color_system=colours)
    trace = LiveTrace(load_machine(definition), virtual=True, console=console, **kw)
    result = run_sync(
        definition,
        {"items": [1]},
        observers=[trace.observe],
        clock=VirtualClock(),
        functions=functions,
        inspect=bool(kw.get("inspect")),
    )
    trace.close()
    trace.summary(result)
    return buf.getvalue()


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(state_names, min_size=3, max_size=3, unique=True),
    error=hostile_text,
    cause=hostile_text,
    value=hostile_text,
    inspect=st.booleans(),
)
def test_the_trace_writes_no_control_character_and_reads_no_markup(
    names: list[str], error: str, cause: str, value: str, inspect: bool
) -> None:
    definition = _machine(names, error, cause, value)
    out = _trace(definition, {"boom": _handler(error, cause)}, inspect=inspect)
    assert not RAW.search(out)


def test_a_styled_trace_holds_only_rich_colours() -> None:
    names = [f"A{TITLE}", "B[/x]", f"C[bold]{CLEAR}"]
    definition = _machine(names, f"E{CLEAR}[/]", f"why {TITLE}\x9b2J", f"v{TITLE}")
    out = _trace(definition, {"boom": _handler("Boom[/x]", f"{CLEAR}[red]x")}, inspect=True)
    styled = _trace(
        definition, {"boom": _handler("Boom[/x]", f"{CLEAR}[red]x")}, terminal=True, inspect=True
    )
    # rich's own sequences (colours, the live footer's cursor moves) remain; none of ours.
    for raw in ("\x1b]", "\x07", "\x1b[2J", "\x1b[H", "\x9b"):
        assert raw not in styled
    for shown in ("A\\x1b]0;pwned\\x07", "B[/x]", "C[bold]\\x1b[2J\\x1b[H", "Boom[/x]"):
        assert shown in out
    assert "why \\x1b]0;pwned\\x07\\x9b2J" in out  # the Fail state's cause, in the summary


def test_a_python_exception_from_a_handler_is_shown_as_written() -> None:
    def raises(payload: Any) -> Any:
        raise ValueError(f"[/x] {TITLE} [bold]")

    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": ARN + "raises"}}}
    definition["States"]["T"]["End"] = True
    out = _trace(definition, {"raises": raises})
    # The cause is the Lambda-shaped error document, JSON: its escapes are shown as they are.
    assert '"errorMessage": "[/x] \\u001b]0;pwned\\u0007 [bold]"' in out
    assert not RAW.search(out)


def test_state_names_in_the_summary_table_are_not_markup() -> None:
    name = "[bold]x[/bold] :smile:"
    definition = {"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}}
    out = _trace(definition, {})
    assert "[bold]x[/bold] :smile:" in out.split("States")[-1]
    assert "[bold]x[/bold] :smile:" in out.split("path")[-1]


def test_the_live_footer_spells_control_characters() -> None:
    from runtime.trace.output import footer_text

    text = footer_text({"[1]": (f"N{TITLE}", f"T{CLEAR}", 0.0, f"W{CLEAR}")}, 1, 1.0, 0.0)
    assert not RAW.search(text.plain.replace("\n", ""))
    assert "N\\x1b]0;pwned\\x07" in text.plain


# -- asl history, asl describe -----------------------------------------------------------


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console, so that no table cell wraps a name or a cause in two."""
    monkeypatch.setenv("COLUMNS", "300")


def _record(path: Path, definition: dict[str, Any], functions: Any = None) -> None:
    name = "hostile"
    info = ExecutionInfo(
        f"{PREFIX}:execution:M:{name}", name, f"{PREFIX}:stateMachine:M", "M", definition
    )
    with Store.open(path) as store:
        run_sync(
            definition,
            {"in": f"<{TITLE}>", "c1": "\x85\x9b"},
            name=name,
            state_machine_name="M",
            observers=[StoreRecorder(store, info)],
            functions=functions,
        )


@pytest.mark.parametrize("command", ["history", "describe", "executions"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_audit_commands_print_payloads_as_text(
    payload: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.db"
    names = [f"A{payload}", f"B{payload}", f"C{payload}"]
    _record(db, _machine(names, payload, payload, payload), {"boom": _handler(payload, payload)})
    argv = [command, "--store", str(db)] + (["hostile"] if command != "executions" else [])
    assert store_main(argv) == 0
    out = capsys.readouterr().out
    assert not RAW.search(out)
    if command == "describe":
        assert f"{visible(payload)}" in out  # the Fail state's error, as written
        assert '"c1": "\\x85\\x9b"' in out  # C1 characters of the input, spelled


def test_history_shows_markup_like_names_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.db"
    names = ["[bold]Go", "Try [/x]", "Stop :smile:"]
    _record(db, _machine(names, "Err[/]", "cause [red]x", 1), {"boom": _handler("E[/x]", "c")})
    assert store_main(["history", "hostile", "--store", str(db)]) == 0
    out = capsys.readouterr().out
    for name in names:
        assert name in out
    assert "E[/x]: c" in out and "Err[/]: cause [red]x" in out


@pytest.mark.parametrize("command", ["history", "describe", "executions"])
def test_audit_json_escapes_c1_controls_and_reads_back_the_same(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.db"
    names = ["A\x9b", "B\x85\x7f", "C"]
    _record(db, _machine(names, "E\x9b", "c\x85", "\x9b[2J"), {"boom": _handler("E\x85", "c")})
    argv = [command, "--json", "--store", str(db)] + (
        ["hostile"] if command != "executions" else []
    )
    assert store_main(argv) == 0
    out = capsys.readouterr().out
    assert not RAW.search(out)
    doc = json.loads(out)
    if command == "describe":
        assert json.loads(doc["input"])["c1"] == "\x85\x9b"
        assert doc["error"] == "E\x9b" and doc["cause"] == "c\x85"
    if command == "history":
        entered = [
            e["stateEnteredEventDetails"]["name"] for e in doc["events"] if "Entered" in e["type"]
        ]
        assert entered == names


def test_asl_exec_writes_the_trace_without_raw_escapes(tmp_path: Path) -> None:
    name = f"A{TITLE}[/x]"
    definition = {
        "StartAt": name,
        "States": {
            name: {"Type": "Pass", "Result": f"{CLEAR}\x9b", "Next": "[bold]:smile:"},
            "[bold]:smile:": {"Type": "Succeed"},
        },
    }
    path = tmp_path / "m.json"
    path.write_text(json.dumps(definition))
    run = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "exec", str(path), "--no-store", "--inspect"],
        capture_output=True,
        check=True,
    )
    trace = run.stderr.decode("utf-8")
    assert not RAW.search(trace)
    assert "A\\x1b]0;pwned\\x07[/x]" in trace and "[bold]:smile:" in trace
    assert json.loads(run.stdout) == f"{CLEAR}\x9b"
