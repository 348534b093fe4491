"""ASL paths (Jayway JsonPath syntax): compile once, evaluate many times.

Public API::

    compile_path(text) -> Path             any ASL Path ($, $$, $variable; full JSONPath)
    compile_reference_path(text) -> Path   a single-node Reference Path
    Path.get / Path.exists / Path.set      read, test, and write (ResultPath)
    PathNotFound                           a valid path selected nothing (Jayway's detail)
"""

from asl.paths._path import Path, PathNotFound, compile_path, compile_reference_path

__all__ = ["Path", "PathNotFound", "compile_path", "compile_reference_path"]
