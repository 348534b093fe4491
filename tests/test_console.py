"""The web console's routes (Starlette's TestClient) over a store of 1,000 executions."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from runtime.durable.store import Store
from runtime.durable.store.browse import Browser, Cursor, ExecutionQuery
from runtime.server.console.app import PAGE_SIZE, console_app
from tests import console_store

COUNT = 1000


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("console") / "store.db"
    return path, console_store.fill(path, COUNT)


@pytest.fixture
def client(store_file: tuple[Path, list[str]]) -> Iterator[TestClient]:
    # The app opens the store at startup, in the thread its handlers run in.
    with TestClient(console_app(str(store_file[0]))) as test_client:
        yield test_client


def _names(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<a href="/executions/[^"]+">([^<]+)</a>', page)]


def _next(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="(/\?[^"]+)" rel="{rel}">', page)
    return html.unescape(found.group(1)) if found else None


def test_the_list_pages_through_every_execution_once(client: TestClient) -> None:
    first = client.get("/")
    assert first.status_code == 200
    assert f"{COUNT + 3:,} matching" in first.text
    names = _names(first.text)
    assert names[:3] == ["order-2", "order-1", "order-0"]  # newest first
    assert len(names) == PAGE_SIZE and _next(first.text, "prev") is None
    seen = list(names)
    link = _next(first.text, "next")
    pages = 1
    while link is not None:
        page = client.get(link).text
        seen += _names(page)
        link = _next(page, "next")
        pages += 1
    assert len(seen) == COUNT + 3 == len(set(seen))
    assert pages == -(-(COUNT + 3) // PAGE_SIZE)
    # Going back from page 2 gives page 1 again.
    second = client.get(_next(first.text, "next") or "").text
    back = client.get(_next(second, "prev") or "").text
    assert _names(back) == names


def test_keyset_pages_break_ties_on_the_arn(store_file: tuple[Path, list[str]]) -> None:
    with Store.open(store_file[0], create=False) as store:
        browser = Browser(store)
        query = ExecutionQuery(state_machine="Nightly")
        rows = []
        after = None
        while True:
            page = browser.page(query, limit=7, after=after)
            rows += page.rows
            if page.older is None:
                break
            after = page.older
        everything = store.list_executions(state_machine="Nightly", limit=None)
        assert len(rows) == len(everything) == browser.count(query)
        keys = [(r.start_time, r.arn) for r in rows]
        assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert Cursor.decode(Cursor(1.5, "arn:x,y").encode()) == Cursor(1.5, "arn:x,y")


def test_filters_by_machine_status_and_name_prefix(client: TestClient) -> None:
    failed = client.get("/?status=FAILED").text
    assert "✗" in failed and 'data-status="SUCCEEDED"' not in failed
    assert set(re.findall(r'<tr data-status="([A-Z_]+)"', failed)) == {"FAILED"}
    assert _names(failed)[:3] == ["order-2", "order-1", "order-0"]
    orders = client.get("/?machine=Orders&status=FAILED&name=order-").text
    assert _names(orders) == ["order-2", "order-1", "order-0"] and "3 matching" in orders
    by_arn = client.get("/?" + "machine=" + quote(f"{console_store.PREFIX}:stateMachine:Reports"))
    assert {n for n in _names(by_arn.text)} and all(
        int(n.split("-")[1]) % 3 == 2 for n in _names(by_arn.text)
    )
    # Name prefixes are case-sensitive, as AWS names are.
    assert "0 matching" in client.get("/?name=ORDER-").text
    assert "No execution matches." in client.get("/?name=nothing").text


def test_bad_parameters_are_a_clear_400(client: TestClient) -> None:
    answer = client.get("/?status=DONE")
    assert answer.status_code == 400
    assert "status=&#x27;DONE&#x27; is not one of RUNNING, SUCCEEDED" in answer.text
    answer = client.get("/?after=yesterday")
    assert answer.status_code == 400 and "is not TIME,ARN" in answer.text


def test_an_unknown_arn_is_a_404_naming_it(client: TestClient) -> None:
    arn = f"{console_store.PREFIX}:execution:Orders:nope"
    for path in (f"/executions/{arn}", f"/executions/{arn}/events"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert f"No execution with the ARN {arn} in the store" in answer.text
    assert client.get(f"/executions/{arn}/status").status_code == 404


def test_one_execution_shows_the_failed_state_and_its_cause(
    client: TestClient, store_file: tuple[Path, list[str]]
) -> None:
    arn = store_file[1][0]
    page = client.get("/executions/" + quote(arn, safe=":"))
    assert page.status_code == 200
    text = page.text
    assert re.search(r'class="[^"]*st-failed[^"]*"[^>]*data-state="Charge card"', text)
    assert re.search(r'class="[^"]*st-succeeded[^"]*"[^>]*data-state="Validate"', text)
    assert "card 4000-2 was declined by the bank" in text and "Card.Declined" in text
    assert 'id="event-search"' in text and 'id="flow-body"' in text
    assert "data-live-url=" not in text  # it ended: nothing to follow
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    status = client.get("/executions/" + quote(arn, safe=":") + "/status").json()
    assert status["status"] == "FAILED" and status["states"]["Charge card"] == "failed"


def test_a_running_execution_is_followed(client: TestClient) -> None:
    arn = f"{console_store.PREFIX}:execution:Orders:bulk-000003"  # 3 % 6: RUNNING
    text = client.get("/executions/" + arn).text
    assert f'data-live-url="/executions/{arn}/events"' in text
    with client.stream("GET", f"/executions/{arn}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        first = next(stream.iter_lines())
    assert first == 'data: {"status": "RUNNING", "events": 0, "states": {}, "waiting": []}'


def test_state_machines_are_counted_by_status(client: TestClient) -> None:
    page = client.get("/state-machines").text
    rows = re.findall(r"<tr><td><a [^>]+>([^<]+)</a>.*?</td><td>([\d,]+)</td>", page)
    counts = dict(rows)
    assert counts == {"Nightly": "333", "Orders": "337", "Reports": "333"}
    orders = page.split(">Orders<")[1].split("</tr>")[0]
    # 334 bulk rows of Orders: FAILED every sixth row from i=2 (i % 3 == 0 → i = 0, 6, ...)
    assert "status=FAILED" in html.unescape(orders)


# -- asl serve --ui and asl ui -----------------------------------------------------------


def _get(url: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:  # it holds the connection
            return exc.code, exc.read().decode()


def test_serve_ui_shares_the_api_port_and_shows_what_the_api_ran(tmp_path: Path) -> None:
    import boto3

    from runtime.server.api import ApiOptions, ApiServer

    options = ApiOptions(store=str(tmp_path / "s.db"), port=0, clock="virtual", ui=True)
    with ApiServer(options) as server:
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="dummy",
            aws_secret_access_key="dummy",
        )
        machine = sfn.create_state_machine(
            name="Hello",
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn="arn:aws:iam::123456789012:role/r",
        )["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, name="first")["executionArn"]
        assert server.wait_ended(arn)
        status, page = _get(server.url + "/")
        assert status == 200 and ">first</a>" in page and "SUCCEEDED" in page
        status, page = _get(server.url + "/executions/" + arn)
        assert status == 200 and 'data-state="P"' in page
        status, page = _get(server.url + "/state-machines")
        assert ">Hello</a>" in page


def test_serve_ui_without_api_answers_no_api_call(tmp_path: Path) -> None:
    import urllib.request

    from runtime.server.api import ApiOptions, ApiServer

    options = ApiOptions(store=str(tmp_path / "s.db"), port=0, api=False, ui=True)
    with ApiServer(options) as server:
        assert _get(server.url + "/")[0] == 200
        request = urllib.request.Request(
            server.url + "/",
            data=b"{}",
            headers={"X-Amz-Target": "AWSStepFunctions.ListStateMachines"},
        )
        import urllib.error

        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 405
        refused.value.close()


def test_asl_ui_refuses_a_missing_store_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime.cli import main

    assert main(["ui", "--store", str(tmp_path / "absent.db"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: asl ui: no store at {tmp_path / 'absent.db'}"
    assert main(["ui", "--prot", "1"]) == 2
    assert "did you mean --port?" in capsys.readouterr().err


def test_filters_by_start_time_in_utc(client: TestClient) -> None:
    # Bulk row i starts i // 2 seconds after 2026-01-01T00:00:00Z; the real runs later.
    assert "43 matching" in client.get("/?since=2026-01-01T00:08:00").text
    early = client.get("/?until=2026-01-01T00:00:10").text
    assert "20 matching" in early and 'value="2026-01-01T00:00:10"' in early
    both = client.get("/?since=2026-01-01&until=2026-01-01T00:00:01&status=FAILED").text
    assert _names(both) == [] and "0 matching" in both
    answer = client.get("/?since=last+week")
    assert answer.status_code == 400
    assert "since=&#x27;last week&#x27; is not a date or time" in answer.text


def test_machine_names_skip_through_the_index(tmp_path: Path) -> None:
    from runtime.durable.store import ExecutionInfo

    with Store.open(tmp_path / "s.db") as store:
        assert Browser(store).machine_names() == []
        for machine in ("", "b", "a", "b"):
            arn = f"{console_store.PREFIX}:execution:{machine}:{len(store.list_executions())}"
            owner = f"{console_store.PREFIX}:stateMachine:{machine}"
            info = ExecutionInfo(arn, "x", owner, machine, {})
            store.begin_execution(info, {}, 1.0)
        assert Browser(store).machine_names() == ["", "a", "b"]


def test_the_console_refuses_a_host_that_is_not_loopback() -> None:
    """DNS rebinding: a page on localhost must not answer for another name."""
    from runtime.server.console.app import _loopback_only

    async def page(scope: Any, receive: Any, send: Any) -> None:
        from starlette.responses import Response

        await Response("ok")(scope, receive, send)

    from starlette.testclient import TestClient

    from runtime.server.guard import allowed_hosts

    guarded = TestClient(_loopback_only(page, allowed_hosts("127.0.0.1")))
    assert guarded.get("/", headers={"host": "evil.example"}).status_code == 403
    assert guarded.get("/", headers={"host": "localhost:8084"}).text == "ok"


def test_name_prefixes_by_index_range_or_start_order_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rare prefix is read by the name index, a common one in start order: the same
    rows either way, including prefixes ending next to the surrogates and at U+10FFFF."""
    from runtime.durable.store import ExecutionInfo, browse

    names = [
        "a",
        "ab",
        "abc",
        "abd",
        "b",
        "\ud7ff",
        "\ud7ffx",
        "\ue000",
        "\U0010ffff",
        "\U0010ffffz",
    ]
    names += [f"ab{i}" for i in range(30)]
    with Store.open(tmp_path / "s.db") as store:
        for i, name in enumerate(names):
            arn = f"{console_store.PREFIX}:execution:M:{i}"
            store.begin_execution(
                ExecutionInfo(arn, name, f"{console_store.PREFIX}:stateMachine:M", "M", {}),
                {},
                float(i % 7),
            )
        browser = Browser(store)
        for probe in (1, 2000):
            monkeypatch.setattr(browse, "NAME_PROBE", probe)
            for prefix in ("a", "ab", "abc", "ab1", "\ud7ff", "\U0010ffff", "z", "b"):
                expected = sorted(
                    (-(i % 7), f"{i}") for i, n in enumerate(names) if n.startswith(prefix)
                )
                query = ExecutionQuery(name_prefix=prefix)
                assert browser.count(query) == len(expected), (prefix, probe)
                rows = browser.page(query, 100).rows
                assert sorted(n for n in (row.name for row in rows)) == sorted(
                    n for n in names if n.startswith(prefix)
                ), (prefix, probe)


def test_one_machine_name_with_two_arns_is_two_machines(tmp_path: Path) -> None:
    from runtime.durable.store import ExecutionInfo

    with Store.open(tmp_path / "s.db") as store:
        for region, status in (("us-east-1", "FAILED"), ("eu-west-1", "SUCCEEDED")):
            machine = f"arn:aws:states:{region}:123456789012:stateMachine:Same"
            arn = machine.replace(":stateMachine:", ":execution:") + ":run"
            store.begin_execution(ExecutionInfo(arn, "run", machine, "Same", {}), {}, 1.0)
            store.finish_execution(arn, status, 2.0)
        counts = {m.arn.split(":")[3]: m.counts for m in Browser(store).machines()}
        assert counts == {"us-east-1": {"FAILED": 1}, "eu-west-1": {"SUCCEEDED": 1}}
        view = Browser(store).machine("arn:aws:states:eu-west-1:123456789012:stateMachine:Same")
        assert view is not None and view.counts.counts == {"SUCCEEDED": 1}
        assert view.definition == {} and view.record is None


def test_a_state_machine_page_shows_definition_graph_counts_and_newest(
    client: TestClient,
) -> None:
    arn = f"{console_store.PREFIX}:stateMachine:Orders"
    page = client.get(f"/state-machines/{arn}").text
    assert "<h1>Orders</h1>" in page
    # 334 bulk rows of Orders (every third of 1,000) and the three real failed runs.
    assert re.search(r"Executions: <a [^>]+>337</a>", page)
    failed = html.escape("/?" + "machine=" + quote(arn, safe="") + "&status=FAILED")
    assert f'<a href="{failed}">' in page
    assert page.count('data-state="Charge card"') == 1  # the graph
    assert _names(page)[:3] == ["order-2", "order-1", "order-0"] and len(_names(page)) == 20
    assert "&quot;Resource&quot;: &quot;arn:aws:lambda" in page  # the definition
    assert "not created through the API" in page
    missing = client.get(f"{console_store.PREFIX}:stateMachine:Nope".join(["/state-machines/", ""]))
    assert missing.status_code == 404 and "No state machine with the ARN" in missing.text


def test_schedules_show_their_firings_and_what_they_started(tmp_path: Path) -> None:
    from runtime.schedules.firing import fire_due
    from runtime.schedules.model import Schedule, Target
    from runtime.schedules.service import create_schedule

    definition = tmp_path / "job.asl.json"
    definition.write_text(
        json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    )
    start = 1_767_225_600
    with Store.open(tmp_path / "s.db") as store:
        target = Target(
            definition_file=str(definition),
            arn=f"{console_store.PREFIX}:stateMachine:job",
            input="{}",
            options={"offline": True},
        )
        create_schedule(
            store, Schedule(name="minutely", expression="rate(1 minute)", target=target), start
        )
        fired = fire_due(store, start + 60, serving_since=start)
    assert len(fired) == 2
    with TestClient(console_app(str(tmp_path / "s.db"))) as test_client:
        page = test_client.get("/schedules").text
    assert "minutely" in page and "<code>rate(1 minute)</code> (UTC)" in page
    assert page.count("<td>STARTED</td>") == 2
    assert ">minutely-20260101T000100Z</a>" in page
    assert '<span aria-hidden="true">●</span> RUNNING' in page
