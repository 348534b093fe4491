"""The live trace of ``asl exec``: an execution observer that prints one line per step.

The observer runs synchronously for every history event, so it only updates a few
counters and appends ``(text, style)`` tuples to a buffer; the buffer is written at most
every :data:`runtime.trace.output.FLUSH_SECONDS` of wall time (and at once, on a real
clock, before a step that may block: a Wait, a task call, a retry delay). On a terminal a
transient rich ``Live`` footer shows the states running now; elsewhere the lines are plain
text.

What a line says, by event (AWS event names, SPEC.md C):

* ``<Type>StateEntered`` … ``<Type>StateExited``: one ``✓`` line at the exit, with the time
  spent by the execution clock (a Wait says ``waited 3d 4h (virtual)`` on a virtual clock);
* a second ``*Scheduled`` (or ``MapStateStarted``/``ParallelStateStarted``) in one visit is
  a retry: ``↻ attempt N after <delay>``, the delay being the clock gap since the failure;
* a failure event then ``<Type>StateExited`` is a Catch: ``⤷ caught <Error> → <Next>``,
  printed when the next state of the same frame is entered;
* Parallel branches and Map iterations are indented by nesting depth and prefixed with
  their frame label; only the first ``map_detail`` iterations of a Map are shown, the
  others are counted on the Map's exit line.

A state that assigns variables shows them, shortened, on its line (``x=1 items=[…3]``).
With ``inspect``, each state's data-flow stages (AWS TestState's names) follow its line;
the summary ends with the path taken through the top-level states.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.text import Text

from runtime.engine.clock import RealClock
from runtime.trace.format import Line, format_duration
from runtime.trace.hints import path_hint
from runtime.trace.lines import catch_line, caught_error, exit_line, failed_items, progress
from runtime.trace.output import Output, error_pieces, footer_text
from runtime.trace.path import compress_path
from runtime.trace.scopes import ATTEMPT_STARTS, BLOCKING, ENDS, FAILURES, Scope, Visit
from runtime.trace.stages import choice_line, io_lines, stage_lines, variables_text
from runtime.trace.stats import TraceStats, summary_table

__all__ = ["LOG_WIDTH", "LiveTrace"]

#: The width of the trace when it goes to a file or a pipe (not a terminal).
LOG_WIDTH = 400


class LiveTrace:
    """Prints an execution's progress on stderr; ``observe`` is the execution observer.

    ``console`` defaults to ``Console(stderr=True)``; ``inspect`` adds each state's
    data-flow stages from its StateExited event's ``inspection`` (run the execution with
    ``inspect=True``; without it, input and output only); ``map_detail`` is how many
    iterations of each Map are shown; after ``max_lines`` lines only the outcome and the
    summary are printed; ``wall`` reads wall-clock seconds (wall time, flush throttle).
    A resumed or redriven execution's trace takes ``started``, the execution's start time,
    and ``recorded``, its stored events, which the observer does not hear again.
    """

    def __init__(
        self,
        machine: Any,
        virtual: bool = False,
        *,
        console: Console | None = None,
        inspect: bool = False,
        map_detail: int = 10,
        max_lines: int = 1000,
        refresh_per_second: float = 4.0,
        wall: Callable[[], float] | None = None,
        started: float | None = None,
        recorded: Iterable[Any] = (),
    ) -> None:
        self.machine = machine
        self.virtual = virtual
        if console is None:
            console = Console(stderr=True)
            if not console.is_terminal and "COLUMNS" not in os.environ:
                # A log or a pipe has no width: do not cut stages and causes to 80 columns.
                console.width = LOG_WIDTH
        self.console = console
        self.inspect = inspect
        self.map_detail = map_detail
        self.max_lines = max_lines
        self.stats = TraceStats()
        self._wall = wall or RealClock().now
        self._wall_start = self._wall()
        self._wall_end: float | None = None
        self._scopes: dict[str, Scope] = {}
        self._active: dict[str, tuple[str, str, float, str]] = {}
        self._exec_start = 0.0 if started is None else started
        #: When a resumed execution's states still open were entered (their StateEntered
        #: events are in ``recorded``, which the observer does not hear again).
        self._open = _open_states(recorded)
        self._last_error: tuple[str, str | None] = ("", None)
        self._retriers: dict[str, bool] = {}
        self._handlers: dict[str, Callable[[Any, Scope], None]] = {}
        #: Top-level states entered, in order (the summary's path).
        self.path: list[str] = []
        #: With ``inspect``: exits whose stages are shown at the next event (the
        #: interpreter attaches ``inspection`` just after the observers saw the event).
        self._deferred: list[tuple[Scope, Any, Any]] = []
        #: A Fail state whose error or cause is computed: shown at the next event.
        self._pending_fail: tuple[Scope, str, Any] | None = None
        #: The states as written, by name (for the Choice rule text), read when needed.
        self._raw_states: dict[str, Mapping[str, Any]] | None = None
        self._inputs: dict[str, Any] = {}
        self._live_footer = self.console.is_terminal and not self.console.is_dumb_terminal
        self.out = Output(self.console, max_lines, self._wall, self.footer, refresh_per_second)

    # -- the observer ------------------------------------------------------------------

    def observe(self, event: Any, frame: Any) -> None:
        """Execution observer: called for every history event as it is written."""
        kind = event.type
        handler = self._handlers.get(kind)
        if handler is None:
            handler = self._handlers[kind] = self._handler_for(kind)
        label = frame.label
        scope = self._scopes.get(label)
        if scope is None:
            scope = self._new_scope(label)
        stats = self.stats
        stats.events += 1
        if self._pending_fail is not None:
            self._show_pending_fail()
        if self._deferred:
            self._show_deferred()
        handler(event, scope)
        # Reading the wall clock costs more than the rest: look every 16 events, or now
        # when a real wait may follow.
        out = self.out
        if out.pending and (
            (not self.virtual and kind in BLOCKING)
            or (not stats.events & 15 and self._wall() >= out.next_flush)
        ):
            out.flush()

    def _handler_for(self, kind: str) -> Callable[[Any, Scope], None]:
        """Dispatch by event type (computed once per type, then cached)."""
        if kind.endswith("StateEntered"):
            return self._entered
        if kind.endswith("StateExited"):
            return self._exited
        if kind.endswith("StateAborted"):
            return self._aborted
        if kind in ATTEMPT_STARTS:
            return self._attempt
        if kind in FAILURES:
            return self._failed
        if kind in ENDS:
            return self._finished
        if kind == "ExecutionStarted":
            return self._started
        if kind == "MapIterationStarted":
            return self._iteration_started
        if kind in _WAITING:
            return self._waiting
        if kind in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"):
            return self._iteration_ended
        return _ignore

    def _new_scope(self, label: str) -> Scope:
        parent = self._scopes.get(label[: label.rfind("[")]) if label else None
        scope = self._scopes[label] = Scope(label, parent)
        self._place(scope)
        return scope

    def _place(self, scope: Scope) -> None:
        """Hide the frame when it is (in) a Map iteration past ``map_detail``."""
        parent = scope.parent
        if parent is None:
            return
        visit = parent.visit
        scope.hidden = parent.hidden or (
            visit is not None and visit.type == "Map" and scope.index >= self.map_detail
        )

    # -- handlers ----------------------------------------------------------------------

    def _started(self, event: Any, scope: Scope) -> None:
        self._exec_start = event.timestamp
        clock = " (virtual clock)" if self.virtual else ""
        self.out.line(scope, ("▶ ", "fan"), ("execution started", "name"), (clock, "dim"))

    def _entered(self, event: Any, scope: Scope) -> None:
        self._place(scope)
        details = event.details
        name = details["name"]
        kind = event.type[: -len("StateEntered")]
        if scope.pending is not None:
            self._show_catch(scope, name)
        row = self.stats.state(name, kind)
        row.entered += 1
        visit = scope.visit = Visit(name, kind, event.timestamp, row)
        if not scope.depth:
            self.path.append(name)
        if self._live_footer:
            waits = wait_note(self._state(name), event.timestamp) if kind == "Wait" else ""
            self._active[scope.label] = (name, kind, self._wall(), waits)
        if kind == "Fail":
            self._entered_fail(scope, name, event)
        # Each state's last input, for a hint when a path in it selects nothing.
        self._inputs[name] = details.get("input")
        if self.inspect:
            visit.input = details.get("input")

    def _entered_fail(self, scope: Scope, name: str, event: Any) -> None:
        state = self._state(name)
        error = getattr(state, "error", None)
        cause = getattr(state, "cause", None)
        if (error is None or isinstance(error, str)) and (cause is None or isinstance(cause, str)):
            self._show_fail(scope, name, error or "", cause)
        else:
            # ErrorPath/CausePath or JSONata: the values are known once the state has run,
            # which is before the next event is written.
            self._pending_fail = (scope, name, event)

    def _show_pending_fail(self) -> None:
        assert self._pending_fail is not None
        (scope, name, event), self._pending_fail = self._pending_fail, None
        computed = event.inspection or {}
        error, cause = computed.get("error"), computed.get("cause")
        self._show_fail(
            scope,
            name,
            error if isinstance(error, str) else "",
            cause if isinstance(cause, str) else None,
        )

    def _show_fail(self, scope: Scope, name: str, error: str, cause: str | None) -> None:
        self._last_error = (error, cause)
        self._propagate(scope, scope.visit.entered if scope.visit else 0.0, error)
        self.out.line(
            scope, ("✗ ", "fail"), (name, "name"), ("  Fail  ", "dim"), *error_pieces(error, cause)
        )

    def _show_catch(self, scope: Scope, target: str) -> None:
        assert scope.pending is not None
        state, error, seconds, variables = scope.pending
        scope.pending = None
        self.out.line(scope, *catch_line(state, error, seconds, target, variables))
        if scope.staged is not None:
            (exited, input), scope.staged = scope.staged, None
            self._show_stages(scope, exited, input)

    def _exited(self, event: Any, scope: Scope) -> None:
        details = event.details
        visit = scope.visit
        if visit is None or visit.name != details["name"]:
            kind = event.type[: -len("StateExited")]
            row = self.stats.state(details["name"], kind)
            entered = self._open.pop(details["name"], event.timestamp)
            visit = Visit(details["name"], kind, entered, row)
        scope.visit = None
        seconds = event.timestamp - visit.entered
        row = visit.row
        row.seconds += seconds
        if self._active:
            self._active.pop(scope.label, None)
            if visit.type in ("Map", "Parallel"):
                self._forget_children(scope.label)
        assigned = details.get("assignedVariables")
        variables = variables_text(assigned) if assigned else ""
        if visit.failed:
            row.caught += 1
            self.stats.caught += 1
            error = caught_error(details.get("output"), visit)
            scope.pending = (visit.name, error, seconds, variables)
            if self.inspect:
                scope.staged = (event, visit.input)
        elif self.out.shown(scope):
            self.out.line(scope, *exit_line(visit, seconds, self.virtual, variables))
            if self.inspect:
                self._deferred.append((scope, event, visit.input))

    def _show_deferred(self) -> None:
        deferred, self._deferred = self._deferred, []
        for scope, event, input in deferred:
            self._show_stages(scope, event, input)

    def _show_stages(self, scope: Scope, event: Any, input: Any) -> None:
        """The stages of the visit ``event`` closed (input and output when not recorded)."""
        if not self.out.shown(scope):
            return
        # What Output.line puts before a nested line: indentation, the label and a space.
        room = self.out.width - (2 * scope.depth + len(scope.label) + 1 if scope.depth else 0)
        inspection = event.inspection
        if inspection is None:
            lines = io_lines(input, event.details.get("output"), room)
        else:
            lines = stage_lines(inspection, room)
            choice = inspection.get("choice")
            if choice is not None:
                raw = self._raw_state(event.details.get("name", ""))
                lines.insert(1, choice_line(choice, raw.get("Choices"), room))
        for line in lines:
            self.out.line(scope, *line)

    def _raw_state(self, name: str) -> Mapping[str, Any]:
        """A state as written in the definition (state names are unique in a machine)."""
        if self._raw_states is None:
            self._raw_states = _states_by_name(getattr(self.machine, "definition", None))
        return self._raw_states.get(name) or {}

    def _attempt(self, event: Any, scope: Scope) -> None:
        visit = scope.visit
        if visit is None:
            return
        if visit.attempt:
            self._retry(event, scope, visit)
        visit.attempt += 1
        visit.failed = False
        if event.inspection is not None:  # a task's Scheduled event says who answers it
            visit.source = event.inspection.get("source", "")
            if event.type == "ActivityScheduled":
                self._waiting(event, scope)
        if event.type == "MapStateStarted":
            count = (event.details or {}).get("length", 0)
            visit.total, visit.done, visit.failed_items, visit.item_error = count, 0, [], None
            items = f"{count} item" + ("" if count == 1 else "s")
            self.out.line(
                scope, ("▼ ", "fan"), (visit.name, "name"), ("  Map  ", "dim"), (items, "")
            )
        elif event.type == "ParallelStateStarted":
            self.out.line(scope, ("▼ ", "fan"), (visit.name, "name"), ("  Parallel", "dim"))

    def _waiting(self, event: Any, scope: Scope) -> None:
        """A task now waits for an answer from outside: say for what, and show the lines so
        far (on a virtual clock too: nothing else may happen until the answer comes)."""
        visit = scope.visit
        if visit is None:
            return
        waits = _waits_for(event, visit.source)
        if not waits:
            return
        if self._live_footer and scope.label in self._active:
            name, kind, since, _ = self._active[scope.label]
            self._active[scope.label] = (name, kind, since, waits)
        if event.type != "TaskStarted":  # a worker or a person: say it on a line too
            self.out.line(scope, ("⋯ ", "dim"), (visit.name, "name"), (f"  {waits}", "dim"))
        self.out.flush()

    def _retry(self, event: Any, scope: Scope, visit: Visit) -> None:
        if not visit.failed:
            # Map and Parallel write no failure event between attempts: say it here.
            self._show_failure(scope, visit, visit.error or "an error", None)
        self.stats.retries += 1
        visit.row.retries += 1
        if scope.hidden:
            shown_map = _shown_map(scope)
            if shown_map is not None:
                shown_map.hidden_retries += 1
        delay = format_duration(event.timestamp - visit.failed_at)
        self.out.line(
            scope,
            ("↻ ", "retry"),
            (visit.name, "name"),
            (f"  attempt {visit.attempt + 1}", "retry"),
            (f" after {delay}", "dim"),
        )

    def _failed(self, event: Any, scope: Scope) -> None:
        details = event.details or {}
        error = details.get("error")
        cause = details.get("cause")
        if error is None:
            error, cause = self._last_error
            visit = scope.visit
            if visit is not None and visit.item_error is not None:
                error, cause = visit.item_error  # a Map fails with its first failed item's
        self._last_error = (error, cause)
        self._propagate(scope, event.timestamp, error)
        frame: Scope | None = scope
        while frame is not None:
            frame.error = (error, cause)
            frame = frame.parent
        visit = scope.visit
        if visit is None:
            return
        visit.failed = True
        visit.failed_at = event.timestamp
        visit.error = error
        self._show_failure(scope, visit, error, cause)

    def _propagate(self, scope: Scope, timestamp: float, error: str) -> None:
        """Tell the enclosing Map/Parallel visits of a failure (for their retry lines)."""
        parent = scope.parent
        while parent is not None:
            if parent.visit is not None:
                parent.visit.failed_at = timestamp
                parent.visit.error = error
            parent = parent.parent

    def _show_failure(self, scope: Scope, visit: Visit, error: str, cause: str | None) -> None:
        visit.row.failures += 1
        attempt = ""
        if visit.attempt > 1 or self._has_retriers(visit.name):
            attempt = f" (attempt {max(visit.attempt, 1)})"
        items = f"  {failed_items(visit.failed_items)}" if visit.failed_items else ""
        self.out.line(
            scope,
            ("✗ ", "fail"),
            (visit.name, "name"),
            (f"  failed{attempt}{items}  ", "error"),
            *((f"[{visit.source}]  ", "dim"),) * bool(visit.source),
            *error_pieces(error, cause),
        )

    def _aborted(self, event: Any, scope: Scope) -> None:
        visit = scope.visit
        name = visit.name if visit is not None else event.details.get("name", "?")
        scope.visit = None
        self._active.pop(scope.label, None)
        self.out.line(scope, ("⊘ ", "dim"), (name, "dim"), ("  aborted", "dim"))

    def _iteration_started(self, event: Any, scope: Scope) -> None:
        self._place(scope)
        scope.pending = None

    def _iteration_ended(self, event: Any, scope: Scope) -> None:
        self._forget_children(scope.label)
        self._active.pop(scope.label, None)
        failed = event.type == "MapIterationFailed"
        parent_scope = scope.parent
        parent = parent_scope.visit if parent_scope is not None else None
        if scope.hidden and parent is not None and not (parent_scope and parent_scope.hidden):
            parent.hidden[1 if failed else 0] += 1
        index = (event.details or {}).get("index", scope.index)
        item_error = scope.error or self._last_error
        if parent is not None and parent.type == "Map":
            parent.done += 1
            if failed:
                parent.failed_items.append(index)
                if parent.item_error is None:
                    parent.item_error = item_error
            self._show_progress(parent_scope, parent)
        if failed:
            if scope.hidden and parent_scope is not None and not parent_scope.hidden:
                # Past the iterations shown in detail: the failure still gets its line.
                error, cause = item_error
                if parent is not None and len(parent.failed_items) <= _HIDDEN_FAILURES_SHOWN:
                    self.out.line(
                        parent_scope,
                        ("✗ ", "fail"),
                        (f"{parent.name}[{index}]", "name"),
                        ("  iteration failed  ", "error"),
                        *error_pieces(error, cause),
                    )
            else:
                self.out.line(scope, ("✗ ", "fail"), (f"iteration {index} failed", "error"))
        elif event.type == "MapIterationAborted":
            self.out.line(scope, ("⊘ ", "dim"), ("iteration aborted", "dim"))

    def _show_progress(self, scope: Scope | None, visit: Visit) -> None:
        """The Map's counters in the live footer (with an ETA on a real clock)."""
        if not self._live_footer or scope is None or scope.label not in self._active:
            return
        name, kind, since, _ = self._active[scope.label]
        elapsed = None if self.virtual else self._wall() - since
        note = progress(visit.done, visit.total, len(visit.failed_items), elapsed)
        self._active[scope.label] = (name, kind, since, note)

    def _finished(self, event: Any, scope: Scope) -> None:
        details = event.details or {}
        status = event.type[len("Execution") :].upper().replace("TIMEDOUT", "TIMED_OUT")
        seconds = format_duration(event.timestamp - self._exec_start)
        self._active.clear()
        if event.type == "ExecutionSucceeded":
            line: Line = (("✓ ", "ok"), (f"execution {status}", "ok"), (f"  {seconds}", "dim"))
        else:
            line = (
                ("✗ ", "fail"),
                (f"execution {status}", "fail"),
                (f"  {seconds}  ", "dim"),
                *error_pieces(details.get("error") or "", details.get("cause")),
            )
            cause = details.get("cause")
            hint = path_hint(cause, self._inputs) if isinstance(cause, str) else None
            if hint:
                self.out.always(line)
                line = (("  hint: ", "dim"), (hint, "retry"))
        self.out.always(line)
        self.out.flush()

    # -- helpers -------------------------------------------------------------------------

    def _state(self, name: str) -> Any:
        states = getattr(self.machine, "all_states", None) or {}
        return states.get(name)

    def _has_retriers(self, name: str) -> bool:
        found = self._retriers.get(name)
        if found is None:
            found = self._retriers[name] = bool(getattr(self._state(name), "retry", ()))
        return found

    def _forget_children(self, label: str) -> None:
        prefix = label + "["
        for key in [key for key in self._active if key.startswith(prefix)]:
            del self._active[key]

    # -- end of run ----------------------------------------------------------------------

    def close(self) -> None:
        """Print what is buffered and stop the live footer. Safe to call twice."""
        if self._wall_end is None:
            self._wall_end = self._wall()
        if self._pending_fail is not None:
            self._show_pending_fail()
        self._show_deferred()
        self.out.close()

    def summary(self, result: Any) -> None:
        """Print the summary table of ``result`` (a :class:`runtime.api.ExecutionResult`)."""
        self.close()
        assert self._wall_end is not None
        wall = self._wall_end - self._wall_start
        path = compress_path(self.path)
        self.console.print(summary_table(result, self.stats, wall, self.virtual, path))

    def footer(self) -> Text:
        """The live footer (called from rich's refresh thread)."""
        entered = sum(row.entered for row in list(self.stats.states.values()))
        return footer_text(self._active, entered, self._wall(), self._wall_start)


def _ignore(event: Any, scope: Scope) -> None:
    return None


#: Failures of iterations past ``map_detail`` shown on a line each, per Map visit.
_HIDDEN_FAILURES_SHOWN = 10


def _shown_map(scope: Scope) -> Visit | None:
    """The visit of the outermost shown Map whose hidden iterations ``scope`` is in."""
    parent = scope.parent
    while parent is not None and parent.hidden:
        parent = parent.parent
    return parent.visit if parent is not None else None


#: Events after which a task may wait on something outside the execution.
_WAITING = frozenset({"TaskStarted", "TaskSubmitted", "ActivityStarted"})


def _waits_for(event: Any, source: str) -> str:
    """What a task waits for after ``event``, given where its answer comes from; or ""."""
    kind = event.type
    if kind == "ActivityScheduled":
        arn = str((event.details or {}).get("resource", ""))
        return f"waits for a worker on activity {arn.rsplit(':', 1)[-1]!r}"
    if kind == "ActivityStarted":
        return "a worker is running it"
    if kind == "TaskSubmitted" and source == "callback":
        return "waits for its task token (SendTaskSuccess or SendTaskFailure)"
    if kind == "TaskStarted" and source == "AWS":
        return "waits for AWS"
    return ""


def wait_note(state: Any, entered: float) -> str:
    """A Wait state's end as the footer shows it: ``of 15m`` or ``until <time>``; "" when
    the end is computed from the input."""
    from runtime.engine.events import iso_timestamp
    from runtime.trace.format import format_duration

    mode, value = getattr(state, "mode", ""), getattr(state, "value", None)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""  # SecondsPath, TimestampPath or JSONata: known only to the engine
    if mode == "Seconds":
        return f"of {format_duration(float(value))}, until {iso_timestamp(entered + value)}"
    if mode == "Timestamp":
        return f"until {iso_timestamp(float(value))}"
    return ""


def _states_by_name(definition: Any) -> dict[str, Mapping[str, Any]]:
    """Every state of a definition as written, nested ones included, by name."""
    found: dict[str, Mapping[str, Any]] = {}
    scopes = [definition]
    while scopes:
        scope = scopes.pop()
        states = scope.get("States") if isinstance(scope, Mapping) else None
        if not isinstance(states, Mapping):
            continue
        for name, state in states.items():
            if not isinstance(state, Mapping):
                continue
            found.setdefault(str(name), state)
            scopes.extend(state.get("Branches") or ())
            scopes.extend(state[key] for key in ("ItemProcessor", "Iterator") if key in state)
    return found


def _open_states(recorded: Iterable[Any]) -> dict[str, float]:
    """State name -> entry time, for the states entered and not yet left in ``recorded``."""
    entered: dict[str, float] = {}
    for event in recorded:
        kind = event.type
        if kind.endswith("StateEntered"):
            entered[(event.details or {}).get("name", "")] = event.timestamp
        elif kind.endswith("StateExited"):
            entered.pop((event.details or {}).get("name", ""), None)
    return entered
