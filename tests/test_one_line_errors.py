"""User mistakes that used to end in a traceback now end in one line: a store that is not
a store, an output file that cannot be written (refused before anything runs), an input
nested too deeply, a reader that closes the pipe early."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runtime import run_sync
from runtime.durable.store import Store, StoreRecorder

ROOT = Path(__file__).resolve().parents[1]
ASL = [sys.executable, "-m", "runtime.cli"]
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def asl(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ASL, *argv], capture_output=True, text=True, cwd=ROOT, timeout=120, input=stdin
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_serve_on_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_text("not a database at all, just text " * 100)
    done = asl("serve", "--store", str(garbage), "--once")
    assert done.returncode == 2
    assert "cannot open the store" in one_line(done)


def test_an_output_file_that_cannot_be_written_is_refused_before_the_run(
    tmp_path: Path,
) -> None:
    definition = tmp_path / "m.json"
    definition.write_text(json.dumps(PASS))
    store = tmp_path / "store.db"
    for flag, target in (
        ("--history", tmp_path / "missing" / "h.json"),
        ("--report", tmp_path),
    ):
        done = asl("exec", str(definition), flag, str(target), "--store", str(store))
        assert done.returncode == 2
        assert f"cannot write {flag}" in one_line(done)
        assert done.stdout == ""
    # Nothing ran: the store holds no execution (it may not even exist).
    if store.exists():
        with Store.open(store) as opened:
            assert opened.list_executions() == []


def test_an_input_nested_too_deeply(tmp_path: Path) -> None:
    definition = tmp_path / "m.json"
    definition.write_text(json.dumps(PASS))
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    done = asl("exec", str(definition), "--input", str(deep), "--no-store")
    assert done.returncode == 2
    assert "nested too deeply" in one_line(done)


def test_a_reader_closing_the_pipe_early_is_no_error(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    many = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    with Store.open(store) as opened:
        run_sync(many, {"items": list(range(3000))}, name="big", observers=[StoreRecorder(opened)])
    done = subprocess.run(
        f"{sys.executable} -m runtime.cli history big --json --store {store} | head -c 100",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert len(done.stdout) == 100
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr


def test_a_hostile_failure_is_printed_as_written_never_as_markup_or_escapes(
    tmp_path: Path,
) -> None:
    definition = tmp_path / "m.json"
    error, cause = "[/x]\x1b]0;pwned\x07", "[bold]x\x1b[2J"
    machine = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": error, "Cause": cause}}}
    definition.write_text(json.dumps(machine))
    done = asl("exec", str(definition), "--no-store", "--quiet")
    assert done.returncode == 1
    line = one_line(done)
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert "[/x]\\x1b]0;pwned\\x07" in line and "[bold]x\\x1b[2J" in line
