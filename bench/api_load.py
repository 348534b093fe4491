"""Load on the Step Functions API: StartExecution, then DescribeExecution until SUCCEEDED.

    python -m bench.api_load --executions 1000 --threads 8          # asl serve --api
    python -m bench.api_load --moto                                  # also moto's server

A 10-state machine (a Pass chain), ``executions`` executions from ``threads`` client
threads, each with its own boto3 client, as a test suite drives Step Functions Local.
Latency is per execution: from StartExecution to the DescribeExecution that saw it
SUCCEEDED (polling every 5 ms). Our server runs in-process (:class:`ApiServer`, the same
app and serve loop as ``asl serve --api``) on a temporary store; moto's runs as its
``ThreadedMotoServer`` when ``moto[server]`` is installed. Figures, never assertions.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATES = 10
ROLE = "arn:aws:iam::123456789012:role/Bench"


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


def drive(url: str, server: str, executions: int, threads: int) -> ApiLoadFigure:
    """Start ``executions`` executions from ``threads`` threads and wait for each."""
    import boto3
    from botocore.config import Config

    local = threading.local()

    def client() -> Any:
        if not hasattr(local, "client"):
            local.client = boto3.client(
                "stepfunctions",
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
                config=Config(retries={"max_attempts": 0}),
            )
        return local.client

    arn = client().create_state_machine(
        name=f"Bench{time.time_ns()}", definition=json.dumps(machine()), roleArn=ROLE
    )["stateMachineArn"]

    def one(index: int) -> tuple[float, str]:
        began = time.perf_counter()
        sfn = client()
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": index}))
        while True:
            status = sfn.describe_execution(executionArn=execution["executionArn"])["status"]
            if status != "RUNNING":
                return time.perf_counter() - began, status
            time.sleep(0.005)

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, range(executions)))
    wall = time.perf_counter() - began
    latencies = sorted(seconds for seconds, _ in results)
    return ApiLoadFigure(
        server=server,
        executions=executions,
        threads=threads,
        executions_per_s=round(executions / wall, 1),
        p50_ms=round(latencies[len(latencies) // 2] * 1000, 1),
        p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        failed=sum(1 for _, status in results if status != "SUCCEEDED"),
    )


def measure_ours(executions: int, threads: int) -> ApiLoadFigure:
    """The figures of ``asl serve --api`` (in-process, temporary store)."""
    from runtime.server.api import ApiOptions, ApiServer

    with tempfile.TemporaryDirectory() as folder:
        options = ApiOptions(store=str(Path(folder) / "store.db"), port=0)
        with ApiServer(options) as server:
            return drive(server.url, "asl serve --api", executions, threads)


def measure_moto(executions: int, threads: int) -> ApiLoadFigure | None:
    """moto's server on the same loop, or None when ``moto[server]`` is not installed."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        return drive(f"http://{host}:{port}", "moto server", executions, threads)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """Print one JSON line per server."""
    parser = argparse.ArgumentParser(prog="python -m bench.api_load")
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--moto", action="store_true", help="also measure moto's server")
    args = parser.parse_args(argv)
    figures = [measure_ours(args.executions, args.threads)]
    if args.moto:
        moto = measure_moto(args.executions, args.threads)
        if moto is None:
            print(json.dumps({"server": "moto server", "error": "moto[server] not installed"}))
        else:
            figures.append(moto)
    for figure in figures:
        print(json.dumps(asdict(figure)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
