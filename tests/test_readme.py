"""Every ```python example of README.md runs as written, and the quick start stays two commands.

Each block runs on its own (fresh globals) in a temporary working directory, so examples
that write files must create them. Blocks that define ``test_*`` functions are pytest
files: they run under pytest, with the package's plugin (``asl_run``, ``asl_clock``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
#: Plugins the example does not need; hypothesis alone costs seconds of start-up.
QUIET_PLUGINS = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README.read_text("utf-8")) if lang == language]


def example_ids() -> list[str]:
    ids = []
    for index, body in enumerate(blocks("python")):
        names = re.findall(r"^(?:async )?def (\w+)", body, re.MULTILINE)
        ids.append(f"{index}-{names[0] if names else 'script'}")
    return ids


def test_readme_has_python_examples() -> None:
    assert len(blocks("python")) >= 7


def test_quick_start_is_two_commands_at_the_top() -> None:
    text = README.read_text("utf-8")
    first_block = FENCE.search(text)
    assert first_block is not None and first_block.group(1) == "sh"
    commands = [line.split("#")[0].strip() for line in first_block.group(2).splitlines()]
    assert commands == ["make run", "make test"]
    assert text.index("## Quick start") < text.index("## Command line")


def test_every_command_has_a_section() -> None:
    from runtime.cli import SUBCOMMANDS

    headings = [line for line in README.read_text("utf-8").splitlines() if line.startswith("### ")]
    missing = [name for name in SUBCOMMANDS if not any(f"`asl {name}" in h for h in headings)]
    assert not missing, f"commands without a README section: {missing}"


def test_every_sample_is_in_the_samples_table() -> None:
    samples = sorted(
        p.name
        for p in (README.parent / "samples").iterdir()
        if p.is_dir() and not p.name.startswith((".", "_"))
    )
    rows = [line for line in README.read_text("utf-8").splitlines() if line.startswith("| `")]
    missing = [name for name in samples if not any(row.startswith(f"| `{name}`") for row in rows)]
    assert len(samples) >= 5 and not missing, f"samples missing from the README: {missing}"


@pytest.mark.parametrize("source", blocks("python"), ids=example_ids())
def test_python_example_runs(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    if re.search(r"^def test_", source, re.MULTILINE):
        (tmp_path / "test_example.py").write_text(source)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", *QUIET_PLUGINS, "test_example.py"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert " passed" in proc.stdout
        return
    exec(compile(source, str(README), "exec"), {"__name__": "__readme__"})


def test_the_tour_runs_every_command_it_shows(tmp_path: Path) -> None:
    """The README's tour, run as a script: every command succeeds but those it says exit 1."""
    import os

    text = README.read_text("utf-8")
    tour = text[text.index("## A tour") : text.index("## What it is")]
    [script] = [body for lang, body in FENCE.findall(tour) if lang == "sh"]
    lines = script.splitlines()
    expected = set()  # the first line of each command said to exit 1 (bash's LINENO)
    for number, line in enumerate(lines, start=1):
        if line.endswith("# exits 1"):
            while number > 1 and lines[number - 2].endswith("\\"):
                number -= 1
            expected.add(number)
    assert expected, "the tour breaks the workflow at least once"
    # A failing command reports its script line and status on stderr; the script goes on.
    prologue = "set -o errtrace\ntrap 'echo \"FAILED $((LINENO - 2)) $?\" >&2' ERR\n"
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "COLUMNS": "120"}
    env.pop("ASL_STORE", None)
    done = subprocess.run(
        ["bash", "-c", prologue + script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    failed = re.findall(r"^FAILED (\d+) (\d+)$", done.stderr, re.MULTILINE)
    assert {int(line) for line, _ in failed} == expected, done.stderr[-3000:]
    assert all(status == "1" for _, status in failed)
    assert "Traceback" not in done.stderr
    # What the tour says the steps show.
    assert "[mock]" in done.stderr
    assert "↻ FetchOrders  attempt 2 after 1s" in done.stderr
    assert "⤷ FetchOrders  caught Lambda.Unknown → Alert" in done.stderr
    assert (tmp_path / "wednesday.html").exists() and (tmp_path / "tour.db").exists()
    assert '"count": 2' in done.stdout.split("RUNNING")[-1]  # friday resumed to its end
