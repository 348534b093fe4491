"""Load on the Step Functions API: StartExecution, then DescribeExecution until SUCCEEDED.

    python -m bench.api_load --executions 1000 --threads 8          # asl serve --api
    python -m bench.api_load --moto                                  # also moto's server

A 10-state machine (a Pass chain), ``executions`` executions from ``threads`` client
threads, each with its own boto3 client, as a test suite drives Step Functions Local;
the threads are spread over client processes (one per thread by default), so that
boto3's own CPU time is not serialised behind one GIL.
Latency is per execution: from StartExecution to the DescribeExecution that saw it
SUCCEEDED (polling every 5 ms). Each server runs as its own process, as users run it:
``asl serve --api`` on a temporary store, and moto's ``moto.server`` with
``execute_state_machine`` on, so that its executions run (by default moto leaves every
execution RUNNING forever). The clients are identical for both.
Each figure carries the server's and the clients' CPU time per execution and the machine's
1-minute load average when the loop ended, as the host is shared. Figures, never
assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATES = 10
ROLE = "arn:aws:iam::123456789012:role/Bench"
#: How long a server may take to start listening (and client processes to get ready).
START_SECONDS = 60.0
#: The pause between two DescribeExecution calls of one execution.
POLL_SECONDS = 0.005


def machine() -> dict[str, Any]:
    """A chain of ``STATES`` Pass states, each adding its result."""
    states: dict[str, Any] = {}
    for i in range(STATES):
        step: dict[str, Any] = {"Type": "Pass", "Result": {"i": i}, "ResultPath": f"$.s{i}"}
        step.update({"Next": f"S{i + 1}"} if i < STATES - 1 else {"End": True})
        states[f"S{i}"] = step
    return {"StartAt": "S0", "States": states}


@dataclass(frozen=True, slots=True)
class ApiLoadFigure:
    """One server's figures."""

    server: str
    executions: int
    threads: int
    executions_per_s: float
    p50_ms: float
    p99_ms: float
    failed: int
    #: CPU time (user + system) the server process spent per execution, in ms.
    server_cpu_ms: float = 0.0
    #: os.getloadavg()[0] when the loop ended (other processes share the cores).
    load: float = 0.0
    #: Client processes the threads were spread over.
    processes: int = 1
    #: CPU time all client processes spent per execution, in ms (boto3's share).
    client_cpu_ms: float = 0.0
    #: API calls per execution (StartExecution and the DescribeExecution polls): the
    #: slower the executions end, the more polls, on both sides.
    calls: float = 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client(url: str) -> Any:
    """A boto3 Step Functions client on ``url``, as a test suite makes one."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 0}),
    )


def _one(sfn: Any, arn: str, index: int) -> tuple[float, str, int]:
    """The loop users write: StartExecution, then DescribeExecution until it left RUNNING.
    Returns (seconds, final status, API calls made)."""
    began = time.perf_counter()
    calls = 1
    # Named: moto's executing backend names every unnamed execution "None".
    execution = sfn.start_execution(
        stateMachineArn=arn, name=f"e{index}", input=json.dumps({"n": index})
    )
    while True:
        status = sfn.describe_execution(executionArn=execution["executionArn"])["status"]
        calls += 1
        if status != "RUNNING":
            return time.perf_counter() - began, status, calls
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True, slots=True)
class _Share:
    """What one client process did: its latencies and statuses, when it ended
    (``time.monotonic``, comparable across processes on one host), its CPU time."""

    results: list[tuple[float, str, int]]
    ended: float
    cpu: float


def _client_process(
    url: str, arn: str, threads: int, total: int, counter: Any, ready: Any, go: Any, out: Any
) -> None:
    """One client process: ``threads`` threads, each with its own client, taking the
    next execution index from the shared ``counter`` until ``total`` are taken."""
    clients = [_client(url) for _ in range(threads)]
    for sfn in clients:  # the first call of a client loads its model: not the loop's cost
        sfn.describe_state_machine(stateMachineArn=arn)
    ready.put(os.getpid())
    go.wait()
    cpu = time.process_time()
    results: list[tuple[float, str, int]] = []
    lock = threading.Lock()

    def work(sfn: Any) -> None:
        while True:
            with counter.get_lock():
                index = counter.value
                if index >= total:
                    return
                counter.value = index + 1
            result = _one(sfn, arn, index)
            with lock:
                results.append(result)

    workers = [threading.Thread(target=work, args=(sfn,)) for sfn in clients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put(_Share(results, time.monotonic(), time.process_time() - cpu))


def _get(queue: Any, children: list[Any], seconds: float | None) -> Any:
    """The next item of ``queue``; RuntimeError if a client process died first, or when
    ``seconds`` pass."""
    import queue as queues

    deadline = None if seconds is None else time.monotonic() + seconds
    while deadline is None or time.monotonic() < deadline:
        try:
            return queue.get(timeout=1.0)
        except queues.Empty:
            dead = [c.exitcode for c in children if c.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a client process exited with {dead[0]}") from None
    raise RuntimeError(f"the client processes were not ready within {seconds:g} s")


def drive(
    url: str, server: str, executions: int, threads: int, pid: int = 0, processes: int = 0
) -> ApiLoadFigure:
    """Start ``executions`` executions from ``threads`` client threads spread over
    ``processes`` client processes (0: one per thread) and wait for each.

    The clients run in processes of their own, so that boto3's CPU time (a few ms per
    call) is not one GIL's worth: with every client in one process, the clients and not
    the server set the pace. Every process creates its clients and makes one call with
    each before the loop starts; the loop's time runs from the start signal to the last
    process's end.
    """
    import multiprocessing

    processes = max(1, min(threads, processes or threads))
    arn = _client(url).create_state_machine(
        name=f"Bench{time.time_ns()}", definition=json.dumps(machine()), roleArn=ROLE
    )["stateMachineArn"]
    context = multiprocessing.get_context("spawn")  # no fork of a threaded process
    counter = context.Value("i", 0)
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    shares = [
        threads // processes + (1 if i < threads % processes else 0) for i in range(processes)
    ]
    children = [
        context.Process(
            target=_client_process,
            args=(url, arn, share, executions, counter, ready, go, out),
            daemon=True,
        )
        for share in shares
    ]
    for child in children:
        child.start()
    try:
        for _ in children:
            _get(ready, children, START_SECONDS)
        cpu = _cpu_seconds(pid) if pid else 0.0
        began = time.monotonic()
        go.set()
        done: list[_Share] = [_get(out, children, None) for _ in children]
        cpu = (_cpu_seconds(pid) - cpu) if pid else 0.0
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    wall = max(share.ended for share in done) - began
    results = [result for share in done for result in share.results]
    latencies = sorted(seconds for seconds, _, _ in results)
    return ApiLoadFigure(
        server=server,
        executions=executions,
        threads=threads,
        executions_per_s=round(executions / wall, 1),
        p50_ms=round(latencies[len(latencies) // 2] * 1000, 1),
        p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        failed=sum(1 for _, status, _ in results if status != "SUCCEEDED"),
        server_cpu_ms=round(cpu * 1000 / executions, 2),
        load=round(os.getloadavg()[0], 2),
        processes=processes,
        client_cpu_ms=round(sum(share.cpu for share in done) * 1000 / executions, 2),
        calls=round(sum(calls for _, _, calls in results) / executions, 2),
    )


def _drain(stream: Any) -> None:
    """Read a server's stderr to its end, so that a full pipe never blocks it."""
    for _ in stream:
        pass


@contextmanager
def _process(command: list[str], ready: Any) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``command``; ``ready(process)`` returns its URL once it listens (reading the
    start of its stderr if it likes); the rest of its stderr is drained meanwhile."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = ready(process)
        threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
        yield process, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _announced(process: subprocess.Popen[str]) -> str:
    """The URL ``asl serve --api`` prints on stderr once it listens."""
    assert process.stderr is not None
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if select.select([process.stderr], [], [], 0.5)[0]:
            line = process.stderr.readline()
            if line.startswith("Step Functions API: "):
                return line.split()[3]
            if not line:
                break
    raise RuntimeError("asl serve --api did not start")


def measure_ours(executions: int, threads: int, processes: int = 0) -> ApiLoadFigure:
    """The figures of ``asl serve --api`` (its own process, a temporary store)."""
    with tempfile.TemporaryDirectory() as folder:
        store = str(Path(folder) / "store.db")
        command = [sys.executable, "-m", "runtime.cli", "serve", "--api", "--port", "0"]
        with _process([*command, "--store", store], _announced) as (process, url):
            return drive(url, "asl serve --api", executions, threads, process.pid, processes)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _moto_ready(port: int) -> Any:
    def ready(process: subprocess.Popen[str]) -> str:
        url = f"http://127.0.0.1:{port}"
        config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                request = urllib.request.Request(f"{url}/moto-api/config", config)
                urllib.request.urlopen(request, timeout=5).close()
                return url
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto's server did not start")

    return ready


def measure_moto(executions: int, threads: int, processes: int = 0) -> ApiLoadFigure | None:
    """moto's server on the same loop, or None when ``moto[server]`` is not installed."""
    try:
        import flask  # noqa: F401  (moto's server runs on it)
        import moto.server  # noqa: F401
    except ImportError:
        return None
    port = _free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with _process(command, _moto_ready(port)) as (process, url):
        return drive(url, "moto server", executions, threads, process.pid, processes)


def main(argv: list[str] | None = None) -> int:
    """Print one JSON line per server."""
    parser = argparse.ArgumentParser(prog="python -m bench.api_load")
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--processes", type=int, default=0, help="client processes (0: one per thread)"
    )
    parser.add_argument("--moto", action="store_true", help="also measure moto's server")
    args = parser.parse_args(argv)
    figures = [measure_ours(args.executions, args.threads, args.processes)]
    if args.moto:
        moto = measure_moto(args.executions, args.threads, args.processes)
        if moto is None:
            print(json.dumps({"server": "moto server", "error": "moto[server] not installed"}))
        else:
            figures.append(moto)
    for figure in figures:
        print(json.dumps(asdict(figure)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
