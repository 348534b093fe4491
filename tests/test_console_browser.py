"""The web console in a real headless Chromium (DevTools protocol over a pipe).

A store of 1,000 executions: filter to FAILED, open one, see the failed state and its
cause, click a state and read its input. Hostile names and causes stay text. A running
execution turns green in the open page without a reload. Screenshots go to
tests/artifacts/.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from runtime.durable.store import Store
from runtime.server.console import ConsoleOptions, ConsoleServer
from tests import console_store
from tests.cdp import Browser, chromium

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.skipif(
    chromium() is None,
    reason="Chromium is not on PATH: the console's browser tests need `chromium` "
    "(apt-get install chromium; .ci/run installs it when it can)",
)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


def _shot(b: Browser, name: str) -> None:
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    b.screenshot(path)
    assert path.stat().st_size > 10_000


def _graph_class(state: str) -> str:
    selector = json.dumps(f'.asl-graph [data-state="{state}"]')
    return f"document.querySelector({selector}).getAttribute('class')"


def test_filter_to_failed_open_one_and_read_a_state(browser: Browser, tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    newest = console_store.fill(store, 1000)[0]
    with ConsoleServer(ConsoleOptions(str(store), port=0)) as server:
        browser.goto(server.url + "/")
        assert browser.evaluate("document.getElementById('total').textContent") == "1,003 matching"
        _shot(browser, "console-list.png")
        # A narrow window: the table scrolls inside its section, the page does not.
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 420, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )
        assert browser.evaluate("document.documentElement.scrollWidth") <= 420
        _shot(browser, "console-list-narrow.png")
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )
        browser.evaluate(
            "document.querySelector('select[name=status]').value = 'FAILED';"
            "document.querySelector('form.filters button').click()"
        )
        browser.wait_event("Page.loadEventFired")
        statuses = browser.evaluate(
            "Array.from(document.querySelectorAll('tbody tr')).map(r => r.dataset.status)"
        )
        assert set(statuses) == {"FAILED"} and len(statuses) == 50
        assert "status=FAILED" in browser.evaluate("location.search")
        browser.click("tbody tr a[href^='/executions/']")
        assert browser.evaluate("location.pathname") == "/executions/" + quote(newest, safe=":")
        # On load the failed state is selected and its error shows in the data-flow panel.
        assert "st-failed" in browser.evaluate(_graph_class("Charge card"))
        assert "selected" in browser.evaluate(_graph_class("Charge card"))
        header = browser.evaluate("document.querySelector('header').textContent")
        assert "Card.Declined" in header and "card 4000-2 was declined by the bank" in header
        assert browser.evaluate("document.getElementById('flow-title').textContent") == (
            "Charge card"
        )
        _shot(browser, "console-failed.png")
        # The event table: by type, then by words.
        visible = "Array.from(document.querySelectorAll('#events tbody tr'))" + (
            ".filter(r => r.style.display !== 'none').map(r => r.dataset.type)"
        )
        browser.evaluate(
            "var kind = document.getElementById('event-type'); kind.value = 'ExecutionFailed';"
            "kind.dispatchEvent(new Event('change'))"
        )
        assert browser.evaluate(visible) == ["ExecutionFailed"]
        browser.evaluate(
            "var kind = document.getElementById('event-type'); kind.value = '';"
            "kind.dispatchEvent(new Event('change'));"
            "var words = document.getElementById('event-search'); words.value = 'declined';"
            "words.dispatchEvent(new Event('input'))"
        )
        found = browser.evaluate(visible)
        assert found and "ExecutionFailed" in found and "PassStateEntered" not in found
        count = browser.evaluate("document.getElementById('event-count').textContent")
        total = browser.evaluate("document.querySelectorAll('#events tbody tr').length")
        assert count == f"{len(found)} of {total} events"
        browser.evaluate(
            "document.querySelector('.asl-graph [data-state=\"Validate\"]')"
            ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        panel = browser.evaluate("document.getElementById('flow-body').textContent")
        assert '"card": "4000-2"' in panel
        _shot(browser, "console-state-input.png")


#: Replaces alert and friends before any page script runs, so a payload that ran is seen.
_TRAP = """
window.__ran = [];
['alert', 'confirm', 'prompt'].forEach(function (name) {
  window[name] = function (x) { window.__ran.push(name + ':' + x); };
});
"""


def test_hostile_names_inputs_and_causes_stay_text(browser: Browser, tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    arn = console_store.hostile(store)
    browser.send("Page.addScriptToEvaluateOnNewDocument", {"source": _TRAP})
    with ConsoleServer(ConsoleOptions(str(store), port=0)) as server:
        # The console's own scripts: the table keys on every page; on an execution's,
        # its data, the icons, the report's and the live script too.
        evil = quote(f"{console_store.PREFIX}:stateMachine:Evil", safe=":")
        worse = quote(
            f"{console_store.PREFIX}:stateMachine:" + 'Evil"><img src=x onerror=alert(4)>', safe=":"
        )
        for path, scripts, svgs in [
            ("/", 1, 0),
            ("/state-machines", 1, 0),
            (f"/state-machines/{evil}", 1, 1),
            (f"/state-machines/{worse}", 1, 1),
            ("/tasks", 1, 0),
            ("/schedules", 1, 0),
            ("/executions/" + quote(arn, safe=":"), 5, 1),  # last: its text is checked below
        ]:
            browser.goto(server.url + path)
            # Click every state so the data-flow panel renders each hostile input.
            browser.evaluate(
                "document.querySelectorAll('.asl-graph [data-state]').forEach(function (el) {"
                "el.dispatchEvent(new MouseEvent('click', {bubbles: true})); })"
            )
            found = browser.evaluate(
                "({img: document.querySelectorAll('img').length,"
                " handlers: Array.from(document.querySelectorAll('*')).filter(function (el) {"
                "   return Array.from(el.attributes).some(function (a) {"
                "     return a.name.indexOf('on') === 0; }); }).length,"
                " scripts: document.querySelectorAll('script').length,"
                " svgs: document.querySelectorAll('svg').length,"
                " ran: window.__ran})"
            )
            assert found == {
                "img": 0,
                "handlers": 0,
                "scripts": scripts,
                "svgs": svgs,
                "ran": [],
            }, path
            text = browser.evaluate("document.body.textContent")
            if path not in ("/tasks", "/schedules"):
                assert "<img src=x onerror=alert(" in text, path  # shown, as text
        assert console_store.IMG in text and console_store.SCRIPT_END in text
        _shot(browser, "console-hostile.png")


LIVE: dict[str, Any] = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Work"},
        "Work": {"Type": "Task", "Resource": console_store.LAMBDA + "work", "Next": "Finish"},
        "Finish": {"Type": "Pass", "End": True},
    },
}


def test_a_running_execution_turns_green_without_a_reload(browser: Browser, tmp_path: Path) -> None:
    store_path = tmp_path / "store.db"
    Store.open(store_path).close()
    started, release = threading.Event(), threading.Event()

    def work(payload: Any) -> Any:
        started.set()
        assert release.wait(30), "the test never released the task"
        return {"done": True}

    def run() -> None:
        with Store.open(store_path) as store:
            console_store.record_run(
                store, "Live", "live-1", LIVE, {}, {"work": work}, console_store.EPOCH
            )

    runner = threading.Thread(target=run, name="live-run", daemon=True)
    runner.start()
    try:
        assert started.wait(30)
        arn = f"{console_store.PREFIX}:execution:Live:live-1"
        with ConsoleServer(ConsoleOptions(str(store_path), port=0)) as server:
            browser.goto(server.url + "/executions/" + quote(arn, safe=":"))
            browser.wait_for("document.body.dataset.live === 'connected'", "the live stream")
            assert "st-succeeded" in browser.evaluate(_graph_class("Prepare"))
            assert "st-running" in browser.evaluate(_graph_class("Work"))
            assert "st-not-visited" in browser.evaluate(_graph_class("Finish"))
            _shot(browser, "console-live-running.png")
            browser.evaluate("window.__same_page = true")
            release.set()
            runner.join(30)
            browser.wait_for(
                "document.body.dataset.status === 'SUCCEEDED'", "the execution succeeding"
            )
            for state in ("Prepare", "Work", "Finish"):
                assert "st-succeeded" in browser.evaluate(_graph_class(state)), state
            assert browser.evaluate("window.__same_page") is True  # no reload happened
            assert browser.evaluate("document.querySelector('header .badge').textContent") == (
                "✓ SUCCEEDED"
            )
            _shot(browser, "console-live-succeeded.png")
    finally:
        release.set()
        runner.join(30)


# -- actions, in asl serve --ui ------------------------------------------------------------

#: Records each state's colours in the order they appear, from the first paint on.
_WATCH = """
window.__seen = [];
document.addEventListener('DOMContentLoaded', function () {
  function record() {
    document.querySelectorAll('.asl-graph [data-state]').forEach(function (el) {
      var found = (el.getAttribute('class') || '').match(/st-[a-z-]+/);
      var key = el.getAttribute('data-state') + ':' + (found ? found[0] : '');
      if (window.__seen.indexOf(key) < 0) { window.__seen.push(key); }
    });
  }
  record();
  new MutationObserver(record).observe(document.body,
    {subtree: true, attributes: true, attributeFilter: ['class']});
});
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    import boto3

    from runtime.server.api import ApiOptions, ApiServer

    options = ApiOptions(store=str(tmp_path / "s.db"), port=0, ui=True, poll_seconds=5)
    with ApiServer(options) as server:
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="dummy",
            aws_secret_access_key="dummy",
        )
        yield server, sfn


def _approval(sfn: Any) -> tuple[str, str]:
    activity = sfn.create_activity(name="approve")["activityArn"]
    definition = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"order": 7}, "Next": "Approve"},
            "Approve": {"Type": "Task", "Resource": activity, "Next": "Finish"},
            "Finish": {"Type": "Pass", "End": True},
        },
    }
    machine = sfn.create_state_machine(
        name="Approval",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    return machine, activity


def _confirm(b: Browser, submit: str, shot: str | None = None) -> None:
    """Press an action's button, check the confirmation dialog, confirm, and wait for
    the page the action leads to."""
    found = b.evaluate(
        f"(function () {{ var el = document.querySelector({json.dumps(submit)});"
        " if (!el) { return false; } el.click(); return true; })()"
    )
    assert found, f"no button {submit}"
    assert b.evaluate("document.getElementById('confirm').open") is True
    if shot:
        _shot(b, shot)
    b.events.clear()
    b.evaluate("document.getElementById('confirm-yes').click()")
    b.wait_event("Page.loadEventFired")


def test_start_from_the_form_and_watch_it_turn_green(
    browser: Browser, served: tuple[Any, Any]
) -> None:
    server, sfn = served
    machine, activity = _approval(sfn)
    browser.send("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH})
    browser.goto(f"{server.url}/state-machines/{machine}")
    assert browser.evaluate("document.querySelector('h1').textContent") == "Approval"
    assert browser.evaluate("document.querySelectorAll('#machine-graph [data-state]').length") == 3
    # The JSON editor refuses what is not JSON before anything is sent.
    browser.evaluate(
        "var area = document.getElementById('start-input'); area.value = '{\"order\": ';"
        "area.dispatchEvent(new Event('input'))"
    )
    assert browser.evaluate("document.querySelector('#start button[type=submit]').disabled")
    note = browser.evaluate("document.getElementById('start-input-note').textContent")
    assert note.startswith("not JSON: ")
    _shot(browser, "console-start-invalid.png")
    browser.evaluate(
        "var area = document.getElementById('start-input'); area.value = '{\"order\": 7}';"
        "area.dispatchEvent(new Event('input'));"
        "document.getElementById('start-name').value = 'from-the-form'"
    )
    assert not browser.evaluate("document.querySelector('#start button[type=submit]').disabled")
    _confirm(browser, "#start button[type=submit]", "console-start-confirm.png")
    arn = machine.replace(":stateMachine:", ":execution:") + ":from-the-form"
    assert browser.evaluate("location.pathname") == "/executions/" + quote(arn, safe=":")
    browser.wait_for(
        "document.querySelector('.asl-graph [data-state=\"Approve\"]')"
        ".getAttribute('class').indexOf('st-running') >= 0",
        "Approve running",
    )
    assert "st-succeeded" in browser.evaluate(_graph_class("Prepare"))
    assert "st-not-visited" in browser.evaluate(_graph_class("Finish"))
    # Its task is offered for an answer: on the page, or (scheduled after the page was
    # drawn) by a note the live stream shows.
    browser.wait_for(
        "document.querySelector('#waiting form[data-action=SendTaskSuccess]') ||"
        " !document.getElementById('waiting-note').hidden",
        "the waiting task offered",
    )
    _shot(browser, "console-started-running.png")
    # The test is the activity's worker.
    task = sfn.get_activity_task(activityArn=activity, workerName="test")
    assert json.loads(task["input"]) == {"order": 7}
    sfn.send_task_success(taskToken=task["taskToken"], output='{"approved": true}')
    browser.wait_for("document.body.dataset.status === 'SUCCEEDED'", "the execution succeeding")
    seen = browser.evaluate("window.__seen")
    order = [
        seen.index(key)
        for key in ("Prepare:st-succeeded", "Approve:st-running", "Approve:st-succeeded")
    ]
    assert order == sorted(order), seen
    assert seen.index("Finish:st-not-visited") < seen.index("Finish:st-succeeded"), seen
    assert seen.index("Approve:st-running") < seen.index("Finish:st-succeeded"), seen
    assert browser.evaluate("document.getElementById('waiting-note').hidden") is True
    _shot(browser, "console-started-succeeded.png")


def test_stop_a_running_one_and_redrive_a_failed_one(
    browser: Browser, served: tuple[Any, Any]
) -> None:
    server, sfn = served
    machine, activity = _approval(sfn)
    running = sfn.start_execution(stateMachineArn=machine, name="to-stop")["executionArn"]
    browser.goto(f"{server.url}/executions/{running}")
    browser.wait_for("document.querySelector('form[data-action=StopExecution]')", "Stop")
    assert not browser.evaluate("document.querySelector('form[data-action=RedriveExecution]')")
    _confirm(browser, "form[data-action=StopExecution] button", "console-stop-confirm.png")
    assert server.wait_ended(running)
    browser.goto(f"{server.url}/executions/{running}")
    assert browser.evaluate("document.body.dataset.status") == "ABORTED"
    assert browser.evaluate("document.querySelector('.status.ABORTED').textContent") == (
        "■ ABORTED"
    )
    assert sfn.describe_execution(executionArn=running)["status"] == "ABORTED"
    _shot(browser, "console-stopped.png")

    failing = sfn.start_execution(stateMachineArn=machine, name="to-redrive")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="test")
    sfn.send_task_failure(taskToken=task["taskToken"], error="Not.Approved", cause="no budget")
    assert server.wait_ended(failing)
    browser.goto(f"{server.url}/executions/{failing}")
    assert "st-failed" in browser.evaluate(_graph_class("Approve"))
    assert "no budget" in browser.evaluate("document.querySelector('header').textContent")
    _confirm(browser, "form[data-action=RedriveExecution] button", "console-redrive-confirm.png")
    assert browser.evaluate("document.body.dataset.status") == "RUNNING"
    # The redriven task waits again: answer it with the tasks page's button.
    deadline = time.monotonic() + 30
    while True:
        browser.goto(f"{server.url}/tasks")
        if browser.evaluate("!!document.querySelector('form[data-action=SendTaskSuccess]')"):
            break
        assert time.monotonic() < deadline, "the redriven task never showed on /tasks"
    _shot(browser, "console-tasks.png")
    browser.evaluate(
        "var area = document.querySelector('form[data-action=SendTaskSuccess] textarea');"
        "area.value = '{\"approved\": \"at last\"}'; area.dispatchEvent(new Event('input'))"
    )
    _confirm(browser, "form[data-action=SendTaskSuccess] button[type=submit]")
    assert server.wait_ended(failing, times=2)
    browser.goto(f"{server.url}/executions/{failing}")
    assert browser.evaluate("document.body.dataset.status") == "SUCCEEDED"
    assert "redriven 1×" in browser.evaluate("document.querySelector('.page').textContent")
    for state in ("Prepare", "Approve", "Finish"):
        assert "st-succeeded" in browser.evaluate(_graph_class(state)), state
    _shot(browser, "console-redriven.png")
    described = sfn.describe_execution(executionArn=failing)
    assert json.loads(described["output"]) == {"approved": "at last"}


# -- Map Runs, Parallel branches, the keyboard, narrow windows -------------------------------

PARALLEL: dict[str, Any] = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
            ],
            "End": True,
        }
    },
}


def _key(b: Browser, key: str, code: str, keycode: int) -> None:
    for kind in ("keyDown", "keyUp"):
        b.send(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": keycode},
        )


def test_map_run_view_parallel_branches_and_the_keyboard(browser: Browser, tmp_path: Path) -> None:
    from tests.test_map_runs import READER, Worker, items, start

    items(tmp_path, 100, 3)
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        mapped = start(store, Worker(), tmp_path, ItemReader=READER, ToleratedFailureCount=9)
        parallel = console_store.record_run(
            store, "Fan", "fan-1", PARALLEL, {"x": 1}, {}, console_store.EPOCH
        )
    with ConsoleServer(ConsoleOptions(str(path), port=0)) as server:
        browser.goto(server.url + "/executions/" + quote(mapped.arn, safe=":"))
        panel = browser.evaluate("document.getElementById('map-runs').textContent")
        assert "failed44" in panel.replace(" ", "") and "succeeded9696" in panel.replace(" ", "")
        failed = browser.evaluate(
            "Array.from(document.querySelectorAll('.failed-items tbody tr'))"
            ".map(r => [r.cells[0].textContent, r.cells[3].textContent, r.cells[4].textContent])"
        )
        assert failed == [[str(n), "Item.Bad", f"item {n} is bad"] for n in (0, 33, 66, 99)], failed
        _shot(browser, "console-map-run.png")
        # Rows take the focus and the arrow keys move it.
        browser.evaluate("document.querySelector('.failed-items tbody tr').focus()")
        _key(browser, "ArrowDown", "ArrowDown", 40)
        _key(browser, "ArrowDown", "ArrowDown", 40)
        assert browser.evaluate("document.activeElement.cells[0].textContent") == "66"
        _key(browser, "ArrowUp", "ArrowUp", 38)
        assert browser.evaluate("document.activeElement.cells[0].textContent") == "33"

        browser.goto(server.url + "/executions/" + quote(parallel.arn, safe=":"))
        lanes = browser.evaluate(
            "Array.from(document.querySelectorAll('#timeline .lane-label')).map(l => l.textContent)"
        )
        assert lanes == ["execution", "Both branch 1", "Both branch 2"], lanes
        for state in ("Both", "Left", "Right"):
            assert "st-succeeded" in browser.evaluate(_graph_class(state)), state
        _shot(browser, "console-parallel.png")

        # The list by keyboard: focus the first row, move down, Enter opens that execution.
        browser.goto(server.url + "/")
        browser.evaluate("document.querySelector('table.nav tbody tr').focus()")
        _key(browser, "ArrowDown", "ArrowDown", 40)
        second = browser.evaluate("document.activeElement.querySelector('a').textContent")
        browser.events.clear()
        _key(browser, "Enter", "Enter", 13)
        browser.wait_event("Page.loadEventFired")
        assert browser.evaluate("document.querySelector('header h1').textContent").endswith(second)
        # Every page fits a narrow window and 1280x800 without a page-wide scrollbar.
        machine = quote(f"{console_store.PREFIX}:stateMachine:Fan", safe=":")
        for width in (420, 1280):
            browser.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False},
            )
            for page in ("/", "/state-machines", f"/state-machines/{machine}", "/tasks",
                         "/schedules", "/executions/" + quote(mapped.arn, safe=":")):  # fmt: skip
                browser.goto(server.url + page)
                assert browser.evaluate("document.documentElement.scrollWidth") <= width, (
                    width,
                    page,
                )
        _shot(browser, "console-machine-1280.png")
