"""``asl validate``: output, exit codes, JSON shape and a light import path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asl.validate.cli import main

VALID = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
BROKEN = (
    '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "End": true, "Nxt": "B"}\n'
    "  }\n}\n"
)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_valid_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([write(tmp_path, "ok.json", VALID)]) == 0
    assert "valid" in capsys.readouterr().out


def test_warnings_still_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = VALID.replace('"End": true', '"Parameters": {"a": "$.b"}, "End": true')
    assert main([write(tmp_path, "warn.json", text)]) == 0
    assert "NO_DOLLAR" in capsys.readouterr().out


def test_invalid_file_shows_location_and_snippet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.json", BROKEN)
    assert main([path]) == 1
    out = capsys.readouterr().out
    assert f"{path}:4:40: error SCHEMA_VALIDATION_FAILED at /States/A/Nxt" in out
    assert "did you mean 'Next'?" in out
    assert '    4 |     "A": {"Type": "Pass", "End": true, "Nxt": "B"}' in out
    assert "1 error(s), 0 warning(s)" in out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad.json", BROKEN)
    assert main(["--json", path]) == 1
    items = json.loads(capsys.readouterr().out)
    assert {"severity", "code", "message", "location"} <= set(items[0])
    assert items[0]["location"] == "/States/A/Nxt"
    assert (items[0]["file"], items[0]["line"], items[0]["column"]) == (path, 4, 40)


def test_yaml_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        "StartAt: A\nStates:\n  A:\n    Type: Task\n    Resource: nope\n    End: true\n",
    )
    assert main([path]) == 1
    assert f"{path}:5:5: error INVALID_RESOURCE" in capsys.readouterr().out


def test_syntax_error_is_invalid_json_description(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "dup.json", '{"StartAt": "A",\n "StartAt": "B"}')
    assert main(["--json", path]) == 1
    [item] = json.loads(capsys.readouterr().out)
    assert (item["code"], item["line"], item["column"]) == ("INVALID_JSON_DESCRIPTION", 2, 2)


def test_unreadable_file_and_usage_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["/nonexistent/machine.json"]) == 2
    assert "cannot read file" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["--bogus", "x"]) == 2


def test_quiet_hides_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = VALID.replace('"End": true', '"Parameters": {"a": "$.b"}, "End": true')
    assert main(["-q", write(tmp_path, "warn.json", text)]) == 0
    assert "NO_DOLLAR" not in capsys.readouterr().out


HEAVY = ("boto3", "botocore", "rich", "anyio", "asyncio", "asl.model", "asl.compiler")


def _imported_after(tmp_path: Path, entry: str, argv: list[str], text: str = VALID) -> list[str]:
    """Run ``entry``'s ``main(argv + [file])`` in a fresh interpreter; list what it loaded."""
    path = write(tmp_path, "ok.json", text)
    code = (
        f"import sys; from {entry} import main; main({argv!r} + [sys.argv[1]]);"
        f"print([m for m in {(*HEAVY, 'jsonschema')!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, path], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1].replace("'", '"'))
    return loaded


def test_cold_path_imports_nothing_heavy(tmp_path: Path) -> None:
    # A well-formed definition is proven valid without jsonschema (asl.validate.quickschema).
    assert _imported_after(tmp_path, "asl.validate.cli", []) == []


def test_console_script_path_imports_nothing_heavy(tmp_path: Path) -> None:
    assert _imported_after(tmp_path, "runtime.cli", ["validate"]) == []


def test_jsonschema_is_imported_for_a_doubtful_definition(tmp_path: Path) -> None:
    # Its diagnostics still come from jsonschema, imported on the first doubt.
    text = VALID.replace('"End": true', '"End": 1')
    assert text != VALID
    assert _imported_after(tmp_path, "asl.validate.cli", [], text) == ["jsonschema"]
