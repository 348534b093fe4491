"""Every definition AWS accepted (the recorded conformance cases) validates without error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from asl.validate import validate

CASES = sorted(Path("/work/shared/conformance/cases").glob("*.json"))


def _definition(path: Path) -> Any:
    definition = json.loads(path.read_text())["definition"]
    return json.loads(definition) if isinstance(definition, str) else definition


def test_all_cases_are_present() -> None:
    assert len(CASES) == 787


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_aws_accepted_definition_has_no_error(path: Path) -> None:
    errors = [diag for diag in validate(_definition(path)) if diag.severity == "ERROR"]
    assert errors == []
