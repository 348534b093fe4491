"""The HTML execution report: visits and outcomes from a history, the page, the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runtime import TaskFailure, VirtualClock, run_sync
from runtime.cli.report import main
from runtime.report import load_history, report_html, write_report
from runtime.report.visits import build_visits, state_outcomes

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"

MACHINE: dict[str, Any] = {
    "StartAt": "Flaky",
    "States": {
        "Flaky": {
            "Type": "Task",
            "Resource": LAMBDA + "flaky",
            "Retry": [{"ErrorEquals": ["Boom.Transient"], "IntervalSeconds": 2}],
            "Next": "Bad",
        },
        "Bad": {
            "Type": "Task",
            "Resource": LAMBDA + "bad",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover", "ResultPath": "$.err"}],
            "Next": "Never",
        },
        "Never": {"Type": "Pass", "End": True},
        "Recover": {
            "Type": "Pass",
            "Assign": {"seen.$": "$.err.Error"},
            "Next": "Give up",
        },
        "Give up": {"Type": "Task", "Resource": LAMBDA + "bad", "End": True},
    },
}

FAN: dict[str, Any] = {
    "StartAt": "P",
    "States": {
        "P": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 3, "End": True}}},
            ],
            "Next": "M",
        },
        "M": {
            "Type": "Map",
            "ItemsPath": "$[0].items",
            "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}},
            "End": True,
        },
    },
}


def _failing_run() -> Any:
    calls = {"flaky": 0}

    def flaky(payload: Any) -> Any:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise TaskFailure("Boom.Transient", "first call fails")
        return {"ok": True}

    def bad(payload: Any) -> Any:
        raise TaskFailure("Bad.Thing", "it </script> always fails")

    return run_sync(MACHINE, {"a": 1}, functions={"flaky": flaky, "bad": bad}, name="sample")


@pytest.fixture(scope="module")
def result() -> Any:
    return _failing_run()


def _events(result: Any) -> Any:
    from runtime.report import parse_events

    return parse_events(result.history_json())


def test_outcomes_per_state(result: Any) -> None:
    assert result.status == "FAILED"
    _, visits = build_visits(_events(result))
    assert state_outcomes(visits) == {
        "Flaky": "retried",
        "Bad": "caught",
        "Recover": "succeeded",
        "Give up": "failed",
    }
    flaky = next(v for v in visits if v.state == "Flaky")
    assert flaky.attempts == 2 and flaky.result == {"ok": True}
    assert flaky.end - flaky.start == 2.0  # the retry interval, on the virtual clock
    recover = next(v for v in visits if v.state == "Recover")
    assert recover.assigned == {"seen": "Bad.Thing"}
    give_up = next(v for v in visits if v.state == "Give up")
    assert ("LambdaFunctionFailed", "Bad.Thing", "it </script> always fails") in give_up.errors


def test_parallel_branches_and_map_iterations_are_lanes() -> None:
    run = run_sync(FAN, {"items": [1, 2, 3]})
    lanes, visits = build_visits(_events(run))
    assert [lane.label for lane in lanes] == [
        "execution",
        "P branch 1",
        "P branch 2",
        "M[0]",
        "M[1]",
        "M[2]",
    ]
    wait = next(v for v in visits if v.state == "B")
    assert (wait.lane, wait.end - wait.start) == ("/P branch 2", 3.0)
    assert [v.input for v in visits if v.state == "X"] == [1, 2, 3]


def _data(html: str) -> Any:
    match = re.search(r'<script type="application/json" id="asl-data">(.*?)</script>', html, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_html_is_self_contained_and_coloured(result: Any) -> None:
    html = report_html(result, MACHINE)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html
    for name, outcome in [("Flaky", "retried"), ("Bad", "caught"), ("Give up", "failed")]:
        assert re.search(rf'class="[^"]*st-{outcome}[^"]*"[^>]*data-state="{name}"', html)
    assert re.search(r'class="[^"]*st-not-visited[^"]*"[^>]*data-state="Never"', html)
    data = _data(html)
    assert data["initial"] == "Give up"
    stages = dict(data["states"]["Flaky"][0]["stages"])
    assert stages["Input"] == {"a": 1} and stages["Output"] == {"ok": True}
    assert data["states"]["Give up"][0]["errors"][0][1] == "Bad.Thing"
    assert "Bad.Thing" in html.split("</header>")[0]


def test_cli_reads_a_history_file(result: Any, tmp_path: Path) -> None:
    history = tmp_path / "run.json"
    history.write_text(json.dumps({"events": result.history_json()}))
    machine = tmp_path / "machine.json"
    machine.write_text(json.dumps(MACHINE))
    out = tmp_path / "report.html"
    assert main([str(history), "--html", str(out), "--definition", str(machine)]) == 0
    html = out.read_text()
    assert _data(html) == _data(report_html(load_history(history), MACHINE))
    assert main([str(tmp_path / "absent.json"), "--html", str(out)]) == 2


SHAPED: dict[str, Any] = {
    "StartAt": "Shape",
    "States": {
        "Shape": {
            "Type": "Task",
            "Resource": LAMBDA + "echo",
            "InputPath": "$.order",
            "Parameters": {"id.$": "$.id"},
            "ResultSelector": {"got.$": "$.id"},
            "ResultPath": "$.echo",
            "OutputPath": "$.echo",
            "Assign": {"last.$": "$.got"},
            "Next": "Fail",
        },
        "Fail": {"Type": "Fail", "Error": "Done.Badly", "Cause": "on purpose"},
    },
}

#: The stages AWS's TestState API reports for ``Shape``, in its order.
SHAPED_STAGES = [
    ("Input", {"order": {"id": 7, "n": 1}}),
    ("After InputPath", {"id": 7, "n": 1}),
    ("After Parameters", {"id": 7}),
    ("Result", {"id": 7}),
    ("After ResultSelector", {"got": 7}),
    # ResultPath writes into the state's raw input, not the InputPath selection.
    ("After ResultPath", {"order": {"id": 7, "n": 1}, "echo": {"got": 7}}),
    ("Output", {"got": 7}),
    ("Assigned variables", {"last": 7}),
]


def _shaped_run(inspect: bool) -> Any:
    return run_sync(
        SHAPED, {"order": {"id": 7, "n": 1}}, functions={"echo": lambda p: p}, inspect=inspect
    )


def test_an_inspected_run_shows_teststate_stages_in_order(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    write_report(page, _shaped_run(inspect=True), SHAPED)
    data = _data(page.read_text())
    (shape,) = data["states"]["Shape"]
    assert [tuple(stage) for stage in shape["stages"]] == SHAPED_STAGES
    assert shape["inspected"] is True
    # The Fail state never exits: the history's input and the error are what is known.
    (fail,) = data["states"]["Fail"]
    assert fail["inspected"] is False and fail["stages"] == [["Input", {"got": 7}]]
    assert data["initial"] == "Fail"


def test_without_inspection_the_history_is_shown() -> None:
    result = _shaped_run(inspect=False)
    for source in (result, result.history_json()):
        (shape,) = _data(report_html(source, SHAPED))["states"]["Shape"]
        assert shape["inspected"] is False
        assert [label for label, _ in shape["stages"]] == [
            "Input",
            "Effective input",
            "Result",
            "Output",
            "Assigned variables",
        ]
    # An inspected run exported to AWS's shape loses its stages, as AWS's history has none.
    (shape,) = _data(report_html(_shaped_run(True).history_json(), SHAPED))["states"]["Shape"]
    assert shape["inspected"] is False


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


#: Appended to a copy of the page: clicks the state "Flaky" the way a user would.
_CLICK = """<script>
document.querySelector('.asl-graph [data-state="%s"]')
  .dispatchEvent(new MouseEvent('click', {bubbles: true}));
</script></body>"""


def _browser(binary: str, page: Path, *flags: str) -> str:
    offline = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--proxy-server=127.0.0.1:9",  # any network request would fail
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=2000",
        "--window-size=1280,1000",
    ]
    run = subprocess.run(
        [binary, *offline, *flags, page.as_uri()], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


_NO_CHROMIUM = (
    "Chromium is not on PATH: the report's browser tests need `chromium` "
    "(apt-get install chromium; .ci/run installs it when it can)"
)


@pytest.mark.skipif(_chromium() is None, reason=_NO_CHROMIUM)
def test_report_in_headless_chromium(result: Any, tmp_path: Path) -> None:
    binary = _chromium()
    assert binary is not None
    page = tmp_path / "report.html"
    write_report(page, result, MACHINE)
    dom = _browser(binary, page, "--dump-dom")
    # On load the script selected the failed state and shows its data flow.
    assert 'id="flow-title">Give up<' in dom
    assert re.search(r'class="[^"]*st-failed[^"]*selected[^"]*"[^>]*data-state="Give up"', dom)
    clicked = tmp_path / "clicked.html"
    clicked.write_text(page.read_text().replace("</body>", _CLICK % "Flaky"))
    dom = _browser(binary, clicked, "--dump-dom")
    assert 'id="flow-title">Flaky<' in dom
    assert "Effective input (attempt 2)" in dom and "Boom.Transient" in dom
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    _browser(binary, clicked, f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000


@pytest.mark.skipif(_chromium() is None, reason=_NO_CHROMIUM)
def test_a_click_shows_the_inspected_stages_in_chromium(tmp_path: Path) -> None:
    binary = _chromium()
    assert binary is not None
    page = tmp_path / "report.html"
    write_report(page, _shaped_run(inspect=True), SHAPED)
    panel = _browser(binary, page, "--dump-dom").split('id="flow-body"')[1].split("</aside>")[0]
    assert "Done.Badly" in panel and "After ResultSelector" not in panel
    clicked = tmp_path / "clicked.html"
    clicked.write_text(page.read_text().replace("</body>", _CLICK % "Shape"))
    panel = _browser(binary, clicked, "--dump-dom").split('id="flow-body"')[1]
    panel = panel.split("</aside>")[0]
    labels = re.findall(r'<div class="stage"><b>([^<]+)</b>', panel)
    assert labels == [label for label, _ in SHAPED_STAGES]
    assert "as the execution history records them" not in panel


def test_cli_reports_an_execution_of_the_store_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime.durable.store import ExecutionInfo, Store, StoreRecorder

    db = tmp_path / "store.db"
    prefix = "arn:aws:states:us-east-1:123456789012"
    info = ExecutionInfo(
        f"{prefix}:execution:M:nightly-7", "nightly-7", f"{prefix}:stateMachine:M", "M", MACHINE
    )
    calls = {"flaky": 0}

    def flaky(payload: Any) -> Any:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise TaskFailure("Boom.Transient", "first call fails")
        return {"ok": True}

    def bad(payload: Any) -> Any:
        raise TaskFailure("Bad.Thing", "it </script> always fails")

    with Store.open(db) as store:
        run = run_sync(
            MACHINE,
            {"a": 1},
            functions={"flaky": flaky, "bad": bad},
            name="nightly-7",
            state_machine_name="M",
            observers=[StoreRecorder(store, info)],
        )
    monkeypatch.chdir(tmp_path)
    # A name (here a unique prefix) is looked up in the store; its definition draws the graph.
    assert main(["nightly", "--store", str(db)]) == 0
    html = (tmp_path / "nightly-7.html").read_text()
    assert _data(html) == _data(report_html(_events(run), MACHINE, name="nightly-7"))
    assert 'data-state="Give up"' in html
    assert capsys.readouterr().err.strip() == "nightly-7.html"  # where it went
    assert main(["nowhere", "--store", str(db)]) == 2
    err = capsys.readouterr().err
    assert "no execution matches 'nowhere'" in err and len(err.strip().splitlines()) == 1


CAUGHT: dict[str, Any] = {
    "StartAt": "Try",
    "States": {
        "Try": {
            "Type": "Task",
            "Resource": LAMBDA + "bad",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
            "Next": "Done",
        },
        "Recover": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def _edges(html: str) -> list[str]:
    return re.findall(r'<path class="edge ([^"]*)"', html)


def test_the_graph_marks_the_edges_the_execution_took() -> None:
    def bad(payload: Any) -> Any:
        raise TaskFailure("Bad.Thing", "no")

    html = report_html(run_sync(CAUGHT, {}, functions={"bad": bad}), CAUGHT)
    classes = _edges(html)
    assert "edge-catch edge-taken" in classes  # Try -> Recover, by the Catch
    assert "edge-next edge-taken" in classes  # Recover -> Done
    assert sum("edge-taken" in c for c in classes) == 2  # Try -> Done was not taken


def test_event_times_read_as_durations_and_the_events_can_be_filtered() -> None:
    wait = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 84, "Next": "P"},
            "P": {"Type": "Pass", "End": True},
        },
    }
    html = report_html(run_sync(wait, {}, clock=VirtualClock()), wait)
    assert "<td>+1m 24.0s</td>" in html and " ms</td>" not in html
    assert 'id="event-search"' in html and 'id="event-failures"' in html
    assert '<option value="WaitStateEntered">' in html
    assert 'data-type="PassStateExited"' in html
