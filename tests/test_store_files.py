"""The store's files hold execution inputs and outputs: only their owner may read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runtime import run_sync
from runtime.durable.store import Store, StoreError, StoreRecorder

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "asl" / "store.db"
    with Store.open(path) as store:
        run_sync(PASS, {"secret": "s3cr3t"}, name="one", observers=[StoreRecorder(store)])
        assert mode(path) == 0o600
        wal = path.with_name("store.db-wal")
        assert not wal.exists() or mode(wal) == 0o600
    assert mode(path.parent) == 0o700  # the store's own folder


def test_an_existing_store_keeps_the_mode_its_owner_chose(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Store.open(path).close()
    os.chmod(path, 0o640)
    Store.open(path).close()
    assert mode(path) == 0o640


def test_a_store_that_cannot_be_created_is_one_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(blocker / "store.db")
