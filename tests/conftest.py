"""Shared test settings: executions recorded by ``asl exec`` go to a per-test store."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Never write to the user's real store (``~/.local/state/asl-runtime``)."""
    path = tmp_path_factory.mktemp("store") / "store.db"
    monkeypatch.setenv("ASL_STORE", str(path))
    return path
