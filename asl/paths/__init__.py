"""ASL paths (Jayway JsonPath syntax): compile once, evaluate many times.

Public API::

    compile_path(text) -> Path             any ASL Path ($, $$, $variable; full JSONPath)
    compile_reference_path(text) -> Path   a single-node Reference Path
    Path.get / Path.exists / Path.set      read, test, and write (ResultPath)
    PathNotFound                           a valid path selected nothing (Jayway's detail)

Grammar and filter semantics are Jayway's (README "Operators", "Filter Operators"), with the
differences AWS documents: no path functions such as ``length()``, ``@`` in a filter matches
objects only, and an indefinite path that fails returns ``[]``. Modules: ``_syntax`` (path
text to steps), ``_predicate_syntax``/``_predicate`` (filters), ``_evaluate`` (the general
evaluator), ``_path`` (the compiled :class:`Path` and its fast key loop), ``_update``
(``ResultPath``).
"""

from asl.paths._path import Path, PathNotFound, compile_path, compile_reference_path

__all__ = ["Path", "PathNotFound", "compile_path", "compile_reference_path"]
