"""Resolving local handlers: a target ``"package.module:function"`` or
``"path/to/file.py:handler"`` imported at first use, failing as Lambda's init phase does
(``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from asl.errors import ASLError
from runtime.adapters.local_lambda.lambda_runtime import Handler

__all__ = ["LoadFailure", "LocalFunction", "LocalFunctionError"]


class LocalFunctionError(ASLError):
    """Raised when a handler target or config file is malformed, or a handler cannot load."""


class LoadFailure(Exception):
    """A handler that cannot be loaded, as Lambda's Python runtime reports it at init."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class LocalFunction:
    """One local function: its name and handler target, imported at first use."""

    def __init__(self, name: str, target: str | Handler, base_dir: Path | None = None) -> None:
        self.name = name
        self.target = target
        self.base_dir = base_dir
        self._handler: Handler | None = None if isinstance(target, str) else target
        if isinstance(target, str):
            _split_target(target)  # fail early on a malformed target

    def handler(self) -> Handler:
        """The handler callable; raises ``LoadFailure`` as Lambda's init phase would."""
        if self._handler is None:
            assert isinstance(self.target, str)
            self._handler = _load(self.target, self.base_dir)
        return self._handler


def _split_target(target: str) -> tuple[str, str]:
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr.isidentifier():
        raise LocalFunctionError(
            f"handler target {target!r}: expected 'module:function' or 'path/to/file.py:handler'"
        )
    return where, attr


def _is_file(where: str) -> bool:
    return where.endswith(".py") or "/" in where or "\\" in where


def _load(target: str, base_dir: Path | None) -> Handler:
    where, attr = _split_target(target)
    module_name = Path(where).stem if _is_file(where) else where
    try:
        module = (
            _import_file(where, base_dir) if _is_file(where) else importlib.import_module(where)
        )
    except SyntaxError as exc:
        raise LoadFailure(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from exc
    except Exception as exc:
        raise LoadFailure(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise LoadFailure(
            "Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'"
        )
    return handler  # type: ignore[no-any-return]


def _import_file(where: str, base_dir: Path | None) -> Any:
    path = Path(where)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    path = path.resolve()
    if not path.is_file():
        raise ModuleNotFoundError(f"No module named '{path.stem}' ({path} does not exist)")
    # Like /var/task on Lambda, the handler's folder is importable for its siblings.
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    name = f"_asl_local_lambda_{path.stem}_{abs(hash(str(path))):x}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
