"""The public surface: small, sorted, and importable."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", ["asl", "runtime"])
def test_all_is_sorted_and_resolves(module: str) -> None:
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert names == sorted(names)
    for name in names:
        assert getattr(mod, name) is not None
