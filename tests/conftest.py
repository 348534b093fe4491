"""Shared test settings: executions recorded by ``asl exec`` go to a per-test store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _isolated_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Never write to the user's real store (``~/.local/state/asl-runtime``)."""
    path = tmp_path_factory.mktemp("store") / "store.db"
    monkeypatch.setenv("ASL_STORE", str(path))
    return path


@pytest.fixture(scope="session")
def pg_cluster() -> Any:
    """A throwaway PostgreSQL cluster (tests/pg_cluster.py); skipped, saying why, where
    the server's binaries are not installed."""
    from bench.pgcluster import cluster, why_unavailable

    reason = why_unavailable()
    if reason is not None:
        pytest.skip(reason)
    with cluster() as running:
        yield running


@pytest.fixture
def pg_url(pg_cluster: Any) -> str:
    """The URL of a new, empty database of :func:`pg_cluster`."""
    return str(pg_cluster.database())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store contract test opens its store: a SQLite file, then a PostgreSQL
    database (skipped, saying why, without PostgreSQL's binaries)."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return str(request.getfixturevalue("pg_url"))
