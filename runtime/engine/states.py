"""The handlers of the states that need no service and no fan-out: Pass, Succeed, Fail,
Choice and Wait. Each takes a :class:`~runtime.engine.scope.StateRun` and returns
``(next state name or None, output)``; all but Wait's are plain functions, as they never
wait (see :data:`runtime.engine.scope.Handler`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asl.errors import ASLError, StatesError
from asl.model import DEFAULT, ChoiceState, FailState, PassState, State, WaitState, thaw
from asl.template import Template, inline_template
from runtime.engine.dataflow import (
    apply_path,
    effective_input,
    invalid_path,
    jsonata_bindings,
    state_output,
)
from runtime.engine.errors import (
    MAX_PAYLOAD_BYTES,
    FailStateReached,
    check_output,
    check_payload,
)
from runtime.engine.events import iso_timestamp
from runtime.engine.scope import StateRun, Step, StepOutcome
from runtime.engine.waiting import wait_deadline

__all__ = [
    "STEPS",
    "choice_step",
    "pass_step",
    "run_choice",
    "run_fail",
    "run_pass",
    "run_succeed",
    "run_wait",
    "succeed_step",
]


def run_pass(run: StateRun) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, PassState)
    data, ctx, variables = run.data, run.ctx, run.frame.view
    if state.query_language == "JSONata":
        with run.evaluating:
            bindings = jsonata_bindings(data, ctx, variables)
            output = state.output.evaluate(bindings) if state.output is not None else data
            assigned = run.assign(bindings)
        run.exit(output, assigned)
        return state.next, output
    if run.stages is not None or state.result_selector is not None:
        result = effective_input(state, data, ctx, variables, run.stages)
        if state.result is not DEFAULT:
            result = thaw(state.result)  # the model's copy is read-only; data stays plain
        output, assign_input = state_output(state, data, result, ctx, variables, run.stages)
    else:
        # The same steps as above, inline: the most common state on the hot path.
        input_path = state.input_path
        result = data if input_path is DEFAULT else apply_path(input_path, data, ctx, variables)
        parameters = state.parameters
        if parameters is not None:
            result = parameters.evaluate(result, ctx, variables)
            check_payload(result, state.name)  # the effective input: 256 KiB at most
        if state.result is not DEFAULT:
            result = thaw(state.result)  # the model's copy is read-only; data stays plain
        result_path = state.result_path
        if result_path is DEFAULT:
            output = result
        elif result_path is None:
            output = data
        else:
            output = result_path.set(data, result)
        output_path = state.output_path
        if output_path is not DEFAULT:
            output = apply_path(output_path, output, ctx, variables)
        assign_input = result
    assigned = run.assign(assign_input) if state.assign is not None else None
    run.exit(output, assigned)
    return state.next, output


def run_succeed(run: StateRun) -> tuple[str | None, Any]:
    state, data = run.state, run.data
    if state.query_language == "JSONata":
        with run.evaluating:
            bindings = jsonata_bindings(data, run.ctx, run.frame.view)
            output = state.output.evaluate(bindings) if state.output is not None else data
    else:
        selected = apply_path(state.input_path, data, run.ctx, run.frame.view)
        output = apply_path(state.output_path, selected, run.ctx, run.frame.view)
    run.exit(output)
    return None, output


def run_fail(run: StateRun) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, FailState)
    error, cause = state.error, state.cause
    if state.query_language == "JSONata":
        bindings = jsonata_bindings(run.data, run.ctx, run.frame.view)
        with run.evaluating:
            if error is not None and not isinstance(error, str):
                error = error.evaluate(bindings)
            if cause is not None and not isinstance(cause, str):
                cause = cause.evaluate(bindings)
    else:
        if state.error_is_path:
            error = _fail_field(run, error, "ErrorPath")
        if state.cause_is_path:
            cause = _fail_field(run, cause, "CausePath")
    if error is not state.error or cause is not state.cause:
        _annotate_entered(run, {"error": error, "cause": cause})
    raise FailStateReached(error, cause)


def _annotate_entered(run: StateRun, inspection: dict[str, Any]) -> None:
    """Put the Fail's computed error and cause on its FailStateEntered event.

    AWS's history carries them only on the failure that follows, so observers such as the
    trace read them from the event's ``inspection`` (never exported) when they need them.
    """
    history = run.exe.history
    for index in range(len(history) - 1, max(len(history) - 64, 0) - 1, -1):
        event = history[index]
        if event.id == run.entered_id:
            event.inspection = inspection
            return


def _fail_field(run: StateRun, compiled: Any, field: str) -> Any:
    from asl.paths import PathNotFound

    try:
        return compiled.evaluate(run.data, run.ctx, run.frame.view)
    except PathNotFound as exc:
        raise StatesError(
            "States.Runtime",
            f"The JSONPath '{exc.path}' specified for the field '{field}' could not be found "
            f"in the input '{_dumps(run.data)}'",
        ) from exc


def _dumps(value: Any) -> str:
    from runtime.engine.events import dumps

    return dumps(value)


def run_choice(run: StateRun) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, ChoiceState)
    data, ctx, variables = run.data, run.ctx, run.frame.view
    if state.query_language == "JSONata":
        return _choice_jsonata(run, state)
    input_path = state.input_path
    effective = data if input_path is DEFAULT else apply_path(input_path, data, ctx, variables)
    for index, rule in enumerate(state.choices):
        try:
            matched = rule.condition.evaluate(effective, ctx, variables)
        except ASLError as exc:
            from asl.paths import PathNotFound  # here: imported once a path missed

            if not isinstance(exc, PathNotFound):
                raise
            raise invalid_path(exc) from exc
        if matched:
            if run.stages is not None:
                _note_choice(run.stages, index, rule.condition, effective, ctx, variables)
            output_path = state.output_path
            output = (
                effective
                if output_path is DEFAULT
                else apply_path(output_path, effective, ctx, variables)
            )
            assigned = run.assign(effective, rule.assign) if rule.assign is not None else None
            run.exit(output, assigned)
            return rule.next, output
    if run.stages is not None:
        run.stages["choice"] = {"rule": "Default"}
    return _choice_default(
        run, state, apply_path(state.output_path, effective, ctx, variables), effective
    )


def _choice_jsonata(run: StateRun, state: ChoiceState) -> tuple[str | None, Any]:
    bindings = jsonata_bindings(run.data, run.ctx, run.frame.view)
    with run.evaluating:
        for index, rule in enumerate(state.choices):
            cond = rule.condition
            value = cond if isinstance(cond, bool) else cond.evaluate(bindings)
            if not isinstance(value, bool):
                raise StatesError(
                    "States.QueryEvaluationError",
                    "The Condition field evaluated to a non-boolean value.",
                )
            if value:
                if run.stages is not None:
                    run.stages["choice"] = {"rule": index}
                output = rule.output.evaluate(bindings) if rule.output is not None else run.data
                assigned = run.assign(bindings, rule.assign) if rule.assign is not None else None
                run.exit(output, assigned)
                return rule.next, output
        output = state.output.evaluate(bindings) if state.output is not None else run.data
    if run.stages is not None:
        run.stages["choice"] = {"rule": "Default"}
    return _choice_default(run, state, output, bindings)


def _note_choice(
    stages: dict[str, Any], index: int, condition: Any, data: Any, ctx: Any, variables: Any
) -> None:
    """For inspection: which rule matched and the values its Variables selected."""
    from asl.paths import PathNotFound

    values: dict[str, Any] = {}
    pending = [condition]
    for cond in pending:  # breadth first: the values in the rule's order
        pending.extend(getattr(cond, "rules", ()))
        if getattr(cond, "rule", None) is not None:
            pending.append(cond.rule)
        operand = getattr(cond, "variable", None)
        if operand is not None and operand.text not in values:
            try:
                values[operand.text] = operand.path.get(data, ctx, variables)
            except PathNotFound:  # absent (an IsPresent rule): nothing to show
                continue
    stages["choice"] = {"rule": index, "values": values}


def _no_choice_matched() -> StatesError:
    return StatesError(
        "States.NoChoiceMatched", "No Choice rule matched and there is no Default rule."
    )


def _choice_default(
    run: StateRun, state: ChoiceState, output: Any, assign_input: Any
) -> tuple[str | None, Any]:
    if state.default is None:
        raise _no_choice_matched()
    assigned = run.assign(assign_input)
    run.exit(output, assigned)
    return state.default, output


async def run_wait(run: StateRun) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, WaitState)
    data, ctx, variables = run.data, run.ctx, run.frame.view
    bindings = None
    if state.query_language == "JSONata":
        bindings = jsonata_bindings(data, ctx, variables)
        with run.evaluating:
            deadline = wait_deadline(state, data, ctx, variables, bindings, run.entered_at)
    else:
        effective = apply_path(state.input_path, data, ctx, variables)
        deadline = wait_deadline(state, effective, ctx, variables, None, run.entered_at)
    await run.exe.sleep_until(run.frame, deadline)
    if bindings is not None:
        with run.evaluating:
            output = state.output.evaluate(bindings) if state.output is not None else data
            assigned = run.assign(bindings)
    else:
        output = apply_path(state.output_path, effective, ctx, variables)
        assigned = run.assign(effective)
    run.exit(output, assigned)
    return state.next, output


# -- compiled steps ---------------------------------------------------------------------
#
# A JSONPath Pass, Choice or Succeed never waits and needs nothing of a StateRun but its
# data, so the scope loop can run it as one closure built once per state: the same
# steps as the handlers above, in the same order (effective input and its quota check,
# ResultPath, OutputPath, Assign, the output's quota check, the Exited event), with the
# state's fields read once when the closure is built instead of on every visit. An
# inspected execution (stages) and a partial run take the handlers instead.


def _context(exe: Any, frame: Any, name: str, uses_context: bool) -> Any:
    if uses_context:  # as StateRun builds it, the state just entered
        return exe.context(frame, name, iso_timestamp(frame.prev_time))
    return exe.base_context


def _assigned(assign: Any, assign_input: Any, ctx: Any, frame: Any) -> dict[str, Any]:
    values = assign.evaluate(assign_input, ctx, frame.view)
    frame.assign(values)
    return dict(values)


def _exited(
    exe: Any, frame: Any, type: str, name: str, output: Any, assigned: dict[str, Any] | None
) -> None:
    details: dict[str, Any] = {"name": name, "output": output}
    if assigned is not None:
        details["assignedVariables"] = assigned
    exe.emit(frame, type, details)


#: Visits of a state before its Parameters are inlined (:func:`asl.template.inline_template`):
#: a state visited once (a definition compiled for one run) never pays for inlining.
_INLINE_AFTER = 2


def pass_step(state: State) -> Step | None:
    """The compiled step of a JSONPath Pass state (None for JSONata or ResultSelector)."""
    assert isinstance(state, PassState)
    if state.query_language == "JSONata" or state.result_selector is not None:
        return None
    name, following, uses_context = state.name, state.next, state.uses_context
    input_path, parameters, constant = state.input_path, state.parameters, thaw(state.result)
    result_path, output_path, assign = state.result_path, state.output_path, state.assign
    if (
        input_path is DEFAULT
        and parameters is not None
        and constant is DEFAULT
        and output_path is DEFAULT
        and assign is None
        and not uses_context
        and result_path is not None
    ):
        # The shape of most Pass states that build something: Parameters into a ResultPath.
        # The output is the input with the result put at the path, so its size is at most
        # the input's, the result's and the path's names written out (each key's JSON at
        # most 6 bytes a character, plus quotes, ':', ',' and the braces of a new object):
        # while that bound is within the quota nothing needs serialising.
        evaluate: Callable[[Any, Any, Any], Any] = parameters.evaluate
        template = parameters if isinstance(parameters, Template) else None
        inline_after = _INLINE_AFTER if template is not None else 0

        if result_path is DEFAULT:  # the result is the output, measured as the input

            def select(exe: Any, frame: Any, data: Any, size: int, entered_id: int) -> StepOutcome:
                nonlocal evaluate, inline_after
                if inline_after:
                    inline_after -= 1
                    if not inline_after and template is not None:
                        evaluate = inline_template(template)
                output = evaluate(data, exe.base_context, frame.view)
                output_size = check_payload(output, name)  # the effective input
                if output is data:
                    output_size = size
                exe.emit(frame, "PassStateExited", {"name": name, "output": output})
                return following, output, output_size

            return select

        put = result_path.set
        overhead = 16 * len(result_path.text) + 16

        def build(exe: Any, frame: Any, data: Any, size: int, entered_id: int) -> StepOutcome:
            nonlocal evaluate, inline_after
            if inline_after:  # a state visited again and again: its template inlined
                inline_after -= 1
                if not inline_after and template is not None:
                    evaluate = inline_template(template)
            result = evaluate(data, exe.base_context, frame.view)
            result_size = check_payload(result, name)  # the effective input: 256 KiB at most
            output = put(data, result)
            bound = size + result_size + overhead
            if size < 0 or bound > MAX_PAYLOAD_BYTES:
                bound = check_output(output, data, size, name)
            exe.emit(frame, "PassStateExited", {"name": name, "output": output})
            return following, output, bound

        return build

    def step(exe: Any, frame: Any, data: Any, size: int, entered_id: int) -> StepOutcome:
        ctx = _context(exe, frame, name, True) if uses_context else exe.base_context
        variables = frame.view
        result = data if input_path is DEFAULT else apply_path(input_path, data, ctx, variables)
        if parameters is not None:
            result = parameters.evaluate(result, ctx, variables)
            check_payload(result, name)  # the effective input: 256 KiB at most
        if constant is not DEFAULT:
            result = constant
        if result_path is DEFAULT:
            output = result
        elif result_path is None:
            output = data
        else:
            output = result_path.set(data, result)
        if output_path is not DEFAULT:
            output = apply_path(output_path, output, ctx, variables)
        assigned = _assigned(assign, result, ctx, frame) if assign is not None else None
        output_size = size if output is data else check_output(output, data, size, name)
        _exited(exe, frame, "PassStateExited", name, output, assigned)
        return following, output, output_size

    return step


def succeed_step(state: State) -> Step | None:
    """The compiled step of a JSONPath Succeed state."""
    if state.query_language == "JSONata":
        return None
    name, uses_context = state.name, state.uses_context
    input_path, output_path = state.input_path, state.output_path

    def step(exe: Any, frame: Any, data: Any, size: int, entered_id: int) -> StepOutcome:
        ctx = _context(exe, frame, name, uses_context)
        selected = apply_path(input_path, data, ctx, frame.view)
        output = apply_path(output_path, selected, ctx, frame.view)
        output_size = size if output is data else check_output(output, data, size, name)
        _exited(exe, frame, "SucceedStateExited", name, output, None)
        return None, output, output_size

    return step


def choice_step(state: State) -> Step | None:
    """The compiled step of a JSONPath Choice state."""
    assert isinstance(state, ChoiceState)
    if state.query_language == "JSONata":
        return None
    name, uses_context, default = state.name, state.uses_context, state.default
    input_path, output_path, assign = state.input_path, state.output_path, state.assign
    rules = tuple((rule.condition.evaluate, rule.next, rule.assign) for rule in state.choices)

    def step(exe: Any, frame: Any, data: Any, size: int, entered_id: int) -> StepOutcome:
        ctx = _context(exe, frame, name, True) if uses_context else exe.base_context
        variables = frame.view
        effective = data if input_path is DEFAULT else apply_path(input_path, data, ctx, variables)
        for condition, rule_next, rule_assign in rules:
            try:
                matched = condition(effective, ctx, variables)
            except ASLError as exc:
                from asl.paths import PathNotFound  # here: imported once a path missed

                if not isinstance(exc, PathNotFound):
                    raise
                raise invalid_path(exc) from exc
            if matched:
                following = rule_next
                if output_path is DEFAULT:
                    output = effective
                else:
                    output = apply_path(output_path, effective, ctx, variables)
                assigned = None
                if rule_assign is not None:
                    assigned = _assigned(rule_assign, effective, ctx, frame)
                break
        else:
            output = apply_path(output_path, effective, ctx, variables)
            if default is None:
                raise _no_choice_matched()
            following = default
            assigned = _assigned(assign, effective, ctx, frame) if assign is not None else None
        output_size = size if output is data else check_output(output, data, size, name)
        _exited(exe, frame, "ChoiceStateExited", name, output, assigned)
        return following, output, output_size

    return step


#: The step builder of each state type that has one (see :data:`~runtime.engine.scope.Step`).
STEPS: dict[str, Callable[[State], Step | None]] = {
    "Pass": pass_step,
    "Succeed": succeed_step,
    "Choice": choice_step,
}
