"""The search behind ``asl mock init``: run a test case's mocks, and where the run stops
short of the case's goal, change an answer and run again.

The changes come from where the run stopped: a path the input lacked (the member is put
in the answer of the Task it would come from, through ResultSelector, ResultPath,
OutputPath, ``Output``, Parallel branches, Map items and JSONata variables: ``forcing``),
or a turn that led to a dead end (a value driving another outcome of a Choice rule it
went through: ``rules``). The search is depth first, the run that got furthest first,
within a budget of runs; what is kept is only what a run showed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from asl.model import StateMachine
from runtime.testing.mockinit import forcing, rules, runs
from runtime.testing.mockinit.plan import Plan
from runtime.testing.mockinit.responses import ServiceAnswer, answer_for, child_shape, leaf_for

__all__ = ["RUN_BUDGET", "SEARCH_LIMIT", "Search"]

#: Invocations one mocked state answers while searching (loops and Map iterations count).
SEARCH_LIMIT = 200
#: Runs spent on one test case before giving up on it.
RUN_BUDGET = 60

#: One change to the answers: (state, place in its Return, value).
Mutation = list[tuple[str, forcing.Keys, Any]]


_NONE = object()


class _Answers(Mapping[int, Mapping[str, Any]]):
    """A searching mock's answers: Throw for the first ``thrown`` invocations, then
    ``first`` once (when given), then Return."""

    def __init__(
        self, value: Any, thrown: int, throw: Mapping[str, str] | None, first: Any = _NONE
    ) -> None:
        self.value, self.thrown, self.throw, self.first = value, thrown, throw, first

    def __getitem__(self, index: int) -> Mapping[str, Any]:
        if not 0 <= index < SEARCH_LIMIT:
            raise KeyError(index)
        thrown = self.thrown if self.throw is not None else 0
        if index < thrown:
            return {"Throw": self.throw}
        if index == thrown and self.first is not _NONE:
            return {"Return": self.first}
        return {"Return": self.value}

    def __iter__(self) -> Iterator[int]:
        return iter(range(SEARCH_LIMIT))

    def __len__(self) -> int:
        return SEARCH_LIMIT


class Search:
    """Runs and repairs the test cases of one state machine."""

    def __init__(
        self, machine: StateMachine, payload: Any, name: str, services: Any = None
    ) -> None:
        self.machine, self.payload, self.name = machine, payload, name
        #: Local services the runs may use besides the mocks (``--bucket`` folders).
        self.services = services
        self.raw = {n: s.raw for n, s in machine.all_states.items()}
        self.jsonata = {n: s.query_language == "JSONata" for n, s in machine.all_states.items()}
        self.mocked = [
            n
            for n, s in machine.all_states.items()
            if s.type == "Task" or getattr(s, "item_reader", None) is not None
        ]
        self.answers = {n: self._answer(n) for n in self.mocked}
        self.notes: list[str] = []
        self.runs = self.spent = 0
        #: The run that got furthest in the last search (to say where it stopped).
        self.furthest: Any = None
        self._calls: dict[int, dict[str, int]] = {}

    def _answer(self, name: str) -> ServiceAnswer:
        state = self.machine.all_states[name]
        if state.type == "Map":
            return ServiceAnswer([{}], free=())  # the items a mocked ItemReader reads
        return answer_for(str(self.raw[name].get("Resource", "")))

    def _base_returns(self) -> dict[str, Any]:
        """Each mocked state's answer with the members its ResultSelector (or JSONata
        ``$states.result``) reads."""
        returns = {name: copy.deepcopy(self.answers[name].value) for name in self.mocked}
        for name in self.mocked:
            raw = self.raw[name]
            wanted: list[forcing.Keys] = []
            if self.jsonata[name]:
                wanted += forcing.jsonata_result_paths(raw)
            else:
                for _, text in forcing.selector_paths(raw.get("ResultSelector")):
                    keys = forcing.path_keys(text)
                    if keys is not None:
                        wanted.append(keys)
            for keys in wanted:
                if not forcing.has(returns[name], keys):
                    returns[name] = forcing.put(returns[name], keys, self._leaf(name, keys))
        return returns

    def _leaf(self, state: str, keys: forcing.Keys) -> Any:
        """A value for ``keys`` of ``state``'s answer, typed by the service's shape."""
        answer = self.answers.get(state)
        if answer is None:
            return forcing.placeholder_for(keys)
        shape = answer.shape
        free = answer.free
        if free is not None and keys[: len(free)] == free:
            shape = None
        for key in keys:
            shape = child_shape(shape, key)
        last = next((k for k in reversed(keys) if isinstance(k, str)), "value")
        return leaf_for(shape, answer.clock, str(last))

    def run(self, case: Plan) -> Any:
        """Run ``case`` on the engine (virtual clock, no AWS); keep its result and calls."""
        from runtime.adapters.mock_config import MockedResponse, MockedTasks
        from runtime.api import run_sync

        by_state = {}
        for name in self.mocked:
            thrown, throw = case.throws.get(name, (0, None))
            first = case.first.get(name, _NONE)
            answers = _Answers(case.returns[name], thrown, throw, first)
            by_state[name] = MockedResponse(name, answers)
        tasks = MockedTasks(by_state, test_case=case.name)
        self.runs += 1
        result = run_sync(
            self.machine,
            copy.deepcopy(self.payload),
            mocks=tasks,
            state_machine_name=self.name,
            seed=0,
            services=self.services,
        )
        case.result, case.calls = result, dict(tasks.calls)
        return result

    def search(self, case: Plan) -> Plan | None:
        """Run ``case``, repairing it until its goal is met; the best case (goal 2: the
        path ends SUCCEEDED; 1: it ends at a Fail state by design), else None.

        A depth-first search: the repairs of where a run stopped are each run, and the
        one that got furthest (most states completed) is followed first; a dead end goes
        back to the next one. A run that stops where an earlier one did is not followed."""
        fallback: Plan | None = None
        seen: set[tuple[Any, ...]] = set()
        self.spent, self.furthest = 0, None
        stack = [(case, self._tried(case))]
        while stack and self.spent < RUN_BUDGET:
            case, result = stack.pop()
            case.result, case.calls = result, self._calls[id(case)]
            score = case.goal(result)
            if score == 2:
                return case
            if score == 1 and fallback is None:
                fallback = case
            seen.add(runs.signature(result))
            trials: list[tuple[int, int, Plan, Any]] = []
            for mutation in self._repairs(case, result)[:8]:
                trial = self._with(case, mutation)
                again = self._tried(trial)
                if trial.goal(again) == 2:
                    trial.result, trial.calls = again, self._calls[id(trial)]
                    return trial
                if runs.signature(again) not in seen:
                    trials.append((runs.progress(again), len(trials), trial, again))
                if self.spent >= RUN_BUDGET:
                    break
            trials.sort(key=lambda t: (t[0], -t[1]))
            stack += [(trial, again) for _, _, trial, again in trials]
        return fallback

    def _tried(self, case: Plan) -> Any:
        self.spent += 1
        result = self.run(case)
        if self.furthest is None or runs.progress(result) >= runs.progress(self.furthest):
            self.furthest = result
        self._calls[id(case)] = case.calls
        return result

    def _with(self, case: Plan, mutation: Mutation, once: bool = False) -> Plan:
        """``case`` with ``mutation`` made to its answers (``once``: to the first answer
        of each state it changes only)."""
        returns, first = copy.deepcopy(case.returns), copy.deepcopy(case.first)
        for state, keys, value in mutation:
            if once:
                first[state] = forcing.put(first.get(state, returns[state]), keys, value)
                continue
            returns[state] = forcing.put(returns[state], keys, copy.deepcopy(value))
            if state in first:
                first[state] = forcing.put(first[state], keys, copy.deepcopy(value))
        return replace(case, returns=returns, first=first, result=None, calls={})

    def _repairs(self, case: Plan, result: Any) -> list[Mutation]:
        """Changes to the answers that may get the run past where it stopped."""
        missing = runs.missing_path(result.cause or "")
        if result.error not in ("States.Runtime", "States.QueryEvaluationError") or not missing:
            return self._escapes(case, result)
        state, paths, field_name = missing
        found = []
        if self.raw.get(state, {}).get("Type") == "Choice" and state not in case.pinned:
            for index, _ in self._outcomes(state):  # any outcome: a rule with its values
                found += self._forcing(result, state, index)
        for path in paths or [""]:
            found += self._fill(result, state, path, field_name)
        return found

    def _fill(self, result: Any, state: str, path: str, field_name: str) -> list[Mutation]:
        """Mutations putting a value at ``path`` of ``state``'s input (or of its own result,
        for its ResultSelector), as a string and as a number (a list for items)."""
        if path.startswith("$$.Map.Item.Value"):
            return self._fill_item(result, state, path)
        ref = forcing.reference(path)
        if ref is not None and ref[0] is not None:
            values = [forcing.placeholder_for(ref[1]), 1]
            return [m for v in values for m in self._assigned(result, ref[0], ref[1], v)]
        raw = self.raw.get(state)
        if raw is not None and not path and field_name == "ItemsPath":
            path = raw.get("ItemsPath", "$")
        keys = forcing.path_keys(path)
        if keys is None or raw is None:
            return []
        items = field_name in ("ItemsPath", "Items")
        own = raw.get("ResultSelector")
        if state in self.answers and any(p == path for _, p in forcing.selector_paths(own)):
            return [[(state, keys, self._leaf(state, keys))]]
        if field_name not in ("InputPath", "ResultPath", "OutputPath"):
            keys = (forcing.path_keys(raw.get("InputPath", "$")) or ()) + keys
        values = [[{}]] if items else [forcing.placeholder_for(keys), 1]
        found = [m for value in values for m in self._placed(result, state, keys, value)]
        owner = self._map_of(state) if not found and path.startswith("$.") else None
        if owner is not None and owner != state and not self._selects_items(owner):
            return self._fill_item(result, state, "$$.Map.Item.Value" + path[1:])
        return found

    def _selects_items(self, owner: str) -> bool:
        """Whether a Map's iterations get something else than the item itself."""
        raw = self.raw[owner]
        return any(key in raw for key in ("ItemSelector", "Parameters", "ItemBatcher"))

    def _fill_item(self, result: Any, state: str, path: str) -> list[Mutation]:
        """``$$.Map.Item.Value.x`` missing: put ``x`` in the item of the Map around it."""
        rest = forcing.path_keys("$" + path[len("$$.Map.Item.Value") :])
        owner = self._map_of(state)
        if rest is None or owner is None:
            return []
        values = [forcing.placeholder_for(rest), 1]
        if owner in self.answers:  # a mocked ItemReader: its items are the answer
            return [[(owner, (0, *rest), value)] for value in values]
        items = self._items_keys(owner)
        if items is None:
            return []
        return [m for v in values for m in self._placed(result, owner, (*items, 0, *rest), v)]

    def _items_keys(self, owner: str) -> forcing.Keys | None:
        raw = self.raw[owner]
        if self.jsonata[owner]:
            return forcing.input_keys(raw.get("Items", "{% $states.input %}"))
        return forcing.path_keys(raw.get("ItemsPath", "$"))

    def _map_of(self, state: str, itself: bool = True) -> str | None:
        """The innermost Map whose iterations run ``state`` (``state`` itself, if a Map,
        unless not ``itself``)."""
        if itself and self.raw.get(state, {}).get("Type") == "Map":
            return state
        owners = [
            (len(forcing.nested_names(raw)), name)
            for name, raw in self.raw.items()
            if raw.get("Type") == "Map" and state in forcing.nested_names(raw)
        ]
        return min(owners)[1] if owners else None

    def _placed(self, result: Any, consumer: str, keys: forcing.Keys, value: Any) -> list[Mutation]:
        """Mutations putting ``value`` at ``keys`` of ``consumer``'s input, one per Task
        that ran before it (latest first); in a Map iteration with none, in the item."""
        found = []
        for state in self._upstream(result, consumer):
            found += [[(task, loc, value)] for task, loc in self._into(state, keys)]
        owner = self._map_of(consumer, itself=False)
        if found or owner is None:
            return found
        outside = self._through_item(owner, keys)
        if outside is None:
            return []
        if outside[0] == "item" and owner in self.answers:  # a mocked ItemReader's items
            return [[(owner, (0, *outside[1]), value)]]
        return self._placed(result, owner, outside[1], value)

    def _through_item(self, owner: str, keys: forcing.Keys) -> tuple[str, forcing.Keys] | None:
        """Where ``keys`` of an iteration's input come from: ``("item", keys)`` of the
        item, or ``("input", keys)`` of the Map's input (ItemSelector taken into account)."""
        raw = self.raw[owner]
        selector = raw.get("ItemSelector", raw.get("Parameters"))
        found: tuple[str, forcing.Keys] | None = None
        if selector is None:
            found = ("item", keys)
        elif keys and isinstance(keys[0], str) and isinstance(selector, Mapping):
            source = selector.get(f"{keys[0]}.$", selector.get(keys[0]))
            found = _selected(source, keys[1:])
        if found is None or found[0] == "input" or owner in self.answers:
            return found
        items = self._items_keys(owner)
        return None if items is None else ("input", (*items, 0, *found[1]))

    def _into(self, state: str, keys: forcing.Keys) -> list[tuple[str, forcing.Keys]]:
        """(Task, place in its answer) for ``keys`` of ``state``'s output; through a
        Parallel's branches and a Map's processor down to the Tasks that end them."""
        raw = self.raw[state]
        loc = forcing.result_location(raw, keys, self.jsonata[state])
        if loc is None:
            return []
        if raw.get("Type") == "Task":
            return [(state, loc)]
        if not loc or not isinstance(loc[0], int):
            return []
        branches = raw.get("Branches") or [raw.get("ItemProcessor") or raw.get("Iterator")]
        if raw.get("Type") == "Parallel" and loc[0] >= len(branches):
            return []
        branch = branches[loc[0] if raw.get("Type") == "Parallel" else 0]
        found = []
        for name, inner in (branch or {}).get("States", {}).items():
            if inner.get("End") and inner.get("Type") in ("Task", "Parallel", "Map"):
                found += self._into(name, loc[1:])
        return found

    def _upstream(self, result: Any, consumer: str) -> list[str]:
        entered = runs.entered(result)
        last = max((i for i, name in enumerate(entered) if name == consumer), default=None)
        before = entered if last is None else entered[:last]
        owner = self._map_of(consumer, itself=False)
        # An iteration sees only its item: what ran outside the Map reaches it through that.
        scope = forcing.nested_names(self.raw[owner]) if owner else set(self.raw)
        tasks: list[str] = []
        for name in reversed(before):
            kind = self.raw[name].get("Type")
            if name not in tasks and name in scope and kind in ("Task", "Parallel", "Map"):
                tasks.append(name)
        return tasks

    def _escapes(self, case: Plan, result: Any) -> list[Mutation]:
        """Other outcomes of the Choices the run went through, latest first."""
        visits = runs.choice_visits(result)
        found = []
        for choice, taken in reversed(visits):
            if choice in case.pinned:
                continue
            for rule, target in self._outcomes(choice):
                if target != taken:
                    found += self._forcing(result, choice, rule)
        return found

    def _outcomes(self, choice: str) -> list[tuple[int | None, str]]:
        raw = self.raw[choice]
        outcomes: list[tuple[int | None, str]] = [
            (i, rule["Next"]) for i, rule in enumerate(raw.get("Choices", []))
        ]
        if raw.get("Default"):
            outcomes.append((None, raw["Default"]))
        return outcomes

    def _forcing(self, result: Any, choice: str, index: int | None) -> list[Mutation]:
        """Mutations making ``choice`` take rule ``index`` (None: Default)."""
        tests = [self._rule(choice, r, result) for r in self.raw[choice].get("Choices", [])]
        stop = len(tests) if index is None else index
        assignment: list[tuple[str, Any]] = []
        for test in tests[:stop]:
            assignment += (rules.witness(test, False) or []) if test else []
        if index is not None:
            chosen = tests[index]
            wanted = rules.witness(chosen, True) if chosen else None
            if wanted is None:
                return []
            assignment += wanted
        if not assignment:
            return []
        prefix = forcing.path_keys(self.raw[choice].get("InputPath", "$")) or ()
        per_variable = []
        for variable, value in dict(assignment).items():
            ref = forcing.reference(variable)
            if ref is None:
                return []
            if ref[0] is None:
                placed = self._placed(result, choice, prefix + ref[1], value)
            else:
                placed = self._assigned(result, ref[0], ref[1], value)
            if not placed:
                return []
            per_variable.append(placed)
        return [
            [step for options in per_variable for step in options[min(j, len(options) - 1)]]
            for j in range(max(len(options) for options in per_variable))
        ]

    def _rule(self, choice: str, rule: Mapping[str, Any], result: Any) -> Mapping[str, Any] | None:
        if not self.jsonata[choice]:
            return rule
        return rules.jsonata_rule(
            rule.get("Condition"), lambda ref: runs.value_at(result, choice, ref)
        )

    def _assigned(
        self, result: Any, variable: str, keys: forcing.Keys, value: Any
    ) -> list[Mutation]:
        """Mutations giving ``variable`` ``value`` at ``keys``: in the answer of a Task
        whose JSONata Assign takes it from ``$states.result``, or in the input of a state
        whose Assign takes it from ``$states.input``."""
        found = []
        for name, raw in self.raw.items():
            assign = raw.get("Assign")
            expression = assign.get(variable) if isinstance(assign, Mapping) else None
            if not self.jsonata[name] or not isinstance(expression, str):
                continue
            source, loc = forcing.assignment_source(expression, keys)
            if loc is None:
                continue
            if source == "result" and name in self.answers:
                found.append([(name, loc, value)])
            elif source == "input":
                found += self._placed(result, name, loc, value)
        return found


_JSONATA = re.compile(r"\{%\s*(?P<expression>.*?)\s*%\}", re.DOTALL)
_ITEM_VALUE = "$$.Map.Item.Value"


def _selected(source: Any, rest: forcing.Keys) -> tuple[str, forcing.Keys] | None:
    """Where an ItemSelector field's value comes from: ``("item", keys)`` of the item or
    ``("input", keys)`` of the Map's input; None when it is computed."""
    if not isinstance(source, str):
        return None
    text = source.strip()
    jsonata = _JSONATA.fullmatch(text)
    if jsonata is not None:
        text = jsonata["expression"]
        for prefix, path in (("$states.context", "$$"), ("$states.input", "$")):
            if text.startswith(prefix):
                text = path + text[len(prefix) :]
                break
        else:
            return None
    if text.startswith(_ITEM_VALUE):
        keys = forcing.path_keys("$" + text[len(_ITEM_VALUE) :])
        return None if keys is None else ("item", (*keys, *rest))
    keys = forcing.path_keys(text)
    return None if keys is None else ("input", (*keys, *rest))
