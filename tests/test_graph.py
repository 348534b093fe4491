"""``asl graph``: the graph model, its four renderers and the CLI."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from asl.graph import FORMATS, build_graph, render, render_ascii, render_dot, render_mermaid
from asl.graph.cli import main
from asl.graph.mermaid import escape
from asl.graph.svg import render_svg

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted(glob.glob(str(ROOT.parent / "shared" / "conformance" / "cases" / "*.json")))

MACHINE: dict[str, Any] = {
    "Comment": "covers every edge kind",
    "StartAt": "Fetch",
    "States": {
        "Fetch": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:fetch",
            "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 5, "BackoffRate": 1.5}],
            "Catch": [{"ErrorEquals": ["Oops", "States.ALL"], "Next": 'Handle "it"'}],
            "Next": "Route #1 <x>",
        },
        "Route #1 <x>": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": 3, "Next": "Fan"},
                {
                    "And": [
                        {"Variable": "$.s", "StringEquals": "a|b"},
                        {"Not": {"Variable": "$.t", "IsPresent": True}},
                    ],
                    "Next": "Each",
                },
            ],
            "Default": "Done",
        },
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 1, "End": True}}},
            ],
            "Next": "Done",
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}},
            "Next": "Done",
        },
        'Handle "it"': {"Type": "Fail", "Error": "E"},
        "Done": {"Type": "Succeed"},
        "Orphan": {"Type": "Pass", "Next": "Nowhere"},
    },
}


@pytest.fixture(scope="module")
def graph() -> Any:
    return build_graph(MACHINE)


def _node(graph: Any, name: str) -> Any:
    return next(n for n in graph.nodes() if n.name == name)


def test_edges_carry_kinds_and_labels(graph: Any) -> None:
    names = {n.id: n.name for n in graph.nodes()}
    edges = {(names[e.source], names[e.target], e.kind, e.label) for e in graph.root.edges}
    assert ("Fetch", 'Handle "it"', "catch", "Oops, States.ALL") in edges
    assert ("Route #1 <x>", "Fan", "choice", "$.n > 3") in edges
    assert ("Route #1 <x>", "Each", "choice", '$.s == "a|b" and not ($.t is present)') in edges
    assert ("Route #1 <x>", "Done", "default", "Default") in edges
    assert ("Fetch", "Route #1 <x>", "next", "") in edges


def test_marks_start_terminal_unreachable_retry_and_missing(graph: Any) -> None:
    assert _node(graph, "Fetch").start and not _node(graph, "Fetch").terminal
    assert _node(graph, "Done").terminal and _node(graph, 'Handle "it"').terminal
    assert _node(graph, "Orphan").unreachable and not _node(graph, "Done").unreachable
    assert _node(graph, "Fetch").retry == ("retry States.Timeout ×5, 1s ×1.5",)
    assert _node(graph, "Nowhere").type == "Missing"


def test_parallel_and_map_are_nested_scopes(graph: Any) -> None:
    fan, each = _node(graph, "Fan"), _node(graph, "Each")
    assert [s.kind for s in fan.scopes] == ["branch", "branch"]
    assert [n.name for s in fan.scopes for n in s.nodes] == ["A", "B"]
    assert each.scopes[0].kind == "processor" and each.scopes[0].nodes[0].start


def test_mermaid_escapes_names_and_labels(graph: Any) -> None:
    text = render_mermaid(graph)
    assert text.startswith("flowchart TD\n")
    assert "Route #35;1 #lt;x#gt;" in text and "Handle #quot;it#quot;" in text
    assert '-.->|"Oops, States.ALL"|' in text
    assert "subgraph" in text and "class " in text
    assert escape('a"b#c') == "a#quot;b#35;c"


def test_dot_quotes_labels(graph: Any) -> None:
    text = render_dot(graph)
    assert text.startswith("digraph StateMachine {")
    assert 'label="Handle \\"it\\"\\n(Fail)"' in text
    assert text.count("subgraph cluster_") == 3


def test_ascii_is_ascii(graph: Any) -> None:
    text = render_ascii(graph)
    text.encode("ascii")
    assert "> Fetch [Task: lambda:fetch] (start)" in text
    assert "! Orphan [Pass] (UNREACHABLE)" in text
    assert '!> Handle "it"  [Oops, States.ALL]' in text


def test_svg_is_well_formed_with_one_group_per_state(graph: Any) -> None:
    text = render_svg(graph, classes={_node(graph, "Done").id: ("st-failed",)})
    root = ET.fromstring(text.split("\n", 1)[1])
    groups = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-state")]
    assert sorted(str(g.get("data-state")) for g in groups) == sorted(n.name for n in graph.nodes())
    done = next(g for g in groups if g.get("data-state") == "Done")
    assert "st-failed" in (done.get("class") or "")
    assert "http" not in text.replace("http://www.w3.org/2000/svg", "")


def test_cli_writes_each_format(tmp_path: Path) -> None:
    source = tmp_path / "m.json"
    source.write_text(json.dumps(MACHINE))
    for fmt in FORMATS:
        out = tmp_path / f"out.{fmt}"
        assert main([str(source), "--format", fmt, "-o", str(out)]) == 0
        assert out.read_text() == render(build_graph(MACHINE), fmt)


def test_cli_reports_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text("{")
    assert main([str(tmp_path / "bad.json")]) == 2
    assert main([str(tmp_path / "absent.json")]) == 2
    assert "error:" in capsys.readouterr().err


def _definitions() -> list[tuple[str, Any]]:
    out = []
    for path in CASES:
        definition = json.loads(Path(path).read_text())["definition"]
        if isinstance(definition, str):
            definition = json.loads(definition)
        out.append((Path(path).stem, definition))
    return out


SAMPLES = sorted(ROOT.glob("samples/*/machine.asl.json"))


def test_every_sample_renders_in_every_format_through_the_cli(tmp_path: Path) -> None:
    assert SAMPLES, "samples/*/machine.asl.json not found"
    for sample in SAMPLES:
        for fmt in FORMATS:
            out = tmp_path / f"{sample.parent.name}.{fmt}"
            assert main([str(sample), "--format", fmt, "-o", str(out)]) == 0, (sample, fmt)
            text = out.read_text()
            assert len(text) > 50, (sample, fmt)
            if fmt == "svg":
                ET.fromstring(text.split("\n", 1)[1] if text.startswith("<?xml") else text)
        names = json.loads(sample.read_text())["States"]
        ascii_text = (tmp_path / f"{sample.parent.name}.ascii").read_text()
        assert all(name in ascii_text for name in names), sample


def _samples_mermaid() -> dict[str, str]:
    return {
        f"sample {path.parent.name}": render_mermaid(build_graph(json.loads(path.read_text())))
        for path in SAMPLES
    }


@pytest.mark.skipif(not CASES, reason="no conformance cases beside the repository")
def test_every_conformance_definition_renders_in_every_format() -> None:
    for name, definition in _definitions():
        graph = build_graph(definition)
        for fmt in FORMATS:
            assert render(graph, fmt), (name, fmt)


_PARSE_JS = """
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const req = createRequire(process.env.MERMAID_DIR + '/');
const { JSDOM } = req('jsdom');
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import(pathToFileURL(req.resolve('mermaid')).href)).default;
mermaid.initialize({ startOnLoad: false });
let text = '';
for await (const chunk of process.stdin) text += chunk;
const bad = {};
for (const [key, src] of Object.entries(JSON.parse(text))) {
  try { await mermaid.parse(src); } catch (e) { bad[key] = String(e.message || e); }
}
console.log(JSON.stringify(bad));
"""


def _mermaid_dir() -> Path | None:
    """Where ``npm install mermaid jsdom`` was run (``$ASL_MERMAID_DIR`` or ``.node/``)."""
    for candidate in (os.environ.get("ASL_MERMAID_DIR"), str(ROOT / ".node")):
        modules = Path(candidate or "") / "node_modules"
        if candidate and (modules / "mermaid").is_dir() and (modules / "jsdom").is_dir():
            return Path(candidate)
    return None


def _parse_with_mermaid(diagrams: dict[str, str], tmp_path: Path) -> dict[str, str]:
    directory, node = _mermaid_dir(), shutil.which("node")
    if node is None:
        pytest.skip("Mermaid's parser needs Node.js: `node` is not on PATH")
    if directory is None:
        pytest.skip(
            "Mermaid's parser is not installed: run `npm install --prefix .node "
            "mermaid@11.12.3 jsdom@26.1.0` (as .ci/run does) or set ASL_MERMAID_DIR"
        )
    script = tmp_path / "parse.mjs"
    script.write_text(_PARSE_JS)
    run = subprocess.run(
        [node, str(script)],
        input=json.dumps(diagrams),
        capture_output=True,
        text=True,
        timeout=100,
        env={**os.environ, "MERMAID_DIR": str(directory)},
        check=True,
    )
    result: dict[str, str] = json.loads(run.stdout)
    return result


def _sample() -> dict[str, str]:
    """The largest definition of each feature tag; every definition with ASL_FULL=1."""
    chosen: dict[str, tuple[int, str, Any]] = {}
    full = os.environ.get("ASL_FULL") == "1"
    for path in CASES:
        case = json.loads(Path(path).read_text())
        definition = case["definition"]
        definition = json.loads(definition) if isinstance(definition, str) else definition
        size = len(json.dumps(definition))
        for key in [Path(path).stem] if full else case.get("features", ()):
            if key not in chosen or size > chosen[key][0]:
                chosen[key] = (size, Path(path).stem, definition)
    return {name: render_mermaid(build_graph(d)) for _, name, d in chosen.values()}


def test_mermaid_output_parses_with_mermaid(tmp_path: Path) -> None:
    diagrams = {"MACHINE": render_mermaid(build_graph(MACHINE)), **_samples_mermaid(), **_sample()}
    diagrams["broken (must fail)"] = "flowchart TD\n  a -->>> b[\n"
    bad = _parse_with_mermaid(diagrams, tmp_path)
    assert list(bad) == ["broken (must fail)"], bad


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz `dot` is not on PATH (apt-get install graphviz)"
)
def test_dot_output_is_accepted_by_graphviz(graph: Any) -> None:
    run = subprocess.run(
        ["dot", "-Tsvg"], input=render_dot(graph), capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stderr
    assert "<svg" in run.stdout


@pytest.mark.parametrize(
    ("retrier", "shown"),
    [
        ({}, "x3, 1s x2\n"),
        ({"BackoffRate": 2}, "x3, 1s x2\n"),
        ({"BackoffRate": 2.0}, "x3, 1s x2\n"),
        ({"BackoffRate": 1.5}, "x3, 1s x1.5\n"),
    ],
)
def test_backoff_reads_the_same_written_or_defaulted(retrier: dict[str, Any], shown: str) -> None:
    state = {"Type": "Pass", "End": True, "Retry": [{"ErrorEquals": ["States.ALL"], **retrier}]}
    text = render_ascii(build_graph({"StartAt": "A", "States": {"A": state}}))
    assert shown in text


@pytest.mark.parametrize(
    ("state", "label"),
    [
        (
            {
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": "arn:aws:lambda:us-east-1:1:function:Fn:live",
                    "Payload.$": "$",
                },
            },
            "Task: lambda:invoke Fn",
        ),
        ({"Resource": "arn:aws:lambda:us-east-1:123456789012:function:Work"}, "Task: lambda:Work"),
        (
            {"Resource": "arn:aws:states:us-east-1:123456789012:activity:Review"},
            "Task: activity:Review",
        ),
        (
            {"Resource": "arn:aws:states:::aws-sdk:s3:getObject", "Arguments": {}},
            "Task: aws-sdk:s3:getObject",
        ),
        (
            {"Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"},
            "Task: sqs:sendMessage.waitForTaskToken",
        ),
    ],
)
def test_ascii_task_nodes_say_what_they_call(state: dict[str, Any], label: str) -> None:
    task = {"Type": "Task", "End": True, **state}
    text = render_ascii(build_graph({"StartAt": "T", "States": {"T": task}}))
    assert f"> T [{label}] (start, end)" in text
