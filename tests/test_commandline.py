"""Every ``asl`` command answers a usage mistake with one line naming the flag, exit 2:
never argparse's usage block, never a prefix silently taken for a longer flag."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from asl.commandline import CommandParser, did_you_mean
from runtime.cli import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_an_unknown_flag_is_one_line_and_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([command, "--no-such-flag-at-all", "x"])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert "--no-such-flag-at-all" in lines[0]
    assert "usage:" not in captured.err


def test_a_misspelt_flag_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exec", "m.json", "--inptu", "in.json"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: asl exec: unrecognized arguments: --inptu (did you mean --input?)"
    )


def test_a_prefix_is_not_taken_for_a_longer_flag(capsys: pytest.CaptureFixture[str]) -> None:
    # argparse would read --mock as --mock-config; here it is a mistake, with the hint.
    assert main(["exec", "m.json", "--mock", "mocks.json"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --mock " in err
    assert "did you mean --mock-config?" in err


def test_a_subcommand_flag_is_suggested_from_its_own_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["executions", "--limt", "3"]) == 2
    assert "did you mean --limit?" in capsys.readouterr().err


@pytest.mark.parametrize(("word", "meant"), [("run", "exec"), ("histroy", "history")])
def test_an_unknown_command_suggests_the_one_meant(
    word: str, meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([word, "x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"did you mean {meant!r}?" in err


def test_help_is_still_the_full_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        CommandParser(prog="asl demo").parse_args(["--help"])
    assert exited.value.code == 0
    assert "usage: asl demo" in capsys.readouterr().out


def test_the_line_is_red_only_on_a_terminal() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "validate", "--jsn", "x"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "error: asl validate: unrecognized arguments: --jsn (did you mean --json?)\n"
    )


@pytest.mark.parametrize(
    ("word", "choices", "expected"),
    [
        ("--mock", ["--mock-config", "--clock"], "--mock-config"),
        ("--jsn", ["--json", "--quiet"], "--json"),
        ("--zzz", ["--json", "--quiet"], None),
        ("--verbose", ["--json", "--quiet"], None),
    ],
)
def test_did_you_mean(word: str, choices: list[str], expected: str | None) -> None:
    assert did_you_mean(word, choices) == expected


def test_write_whole_gives_the_usual_permissions_and_leaves_nothing_behind(tmp_path) -> None:
    import os
    import stat

    from asl.commandline import write_whole

    target = tmp_path / "report.html"
    old = os.umask(0o022)
    try:
        write_whole(target, "<p>one</p>")
        write_whole(target, "<p>two</p>")  # replaces it whole
    finally:
        os.umask(old)
    assert target.read_text() == "<p>two</p>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_write_whole_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch) -> None:
    import os

    import pytest

    from asl.commandline import write_whole

    target = tmp_path / "history.json"
    target.write_text("old")

    def broken(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError):
        write_whole(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]
