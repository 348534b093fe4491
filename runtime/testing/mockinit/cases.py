"""``asl mock init``: a MockConfigFile with one test case per path worth testing.

The test cases: the happy path; each Catch of each Task (and of each Parallel or Map, by a
failing Task inside it); a retried Task; each Choice outcome that mocked answers can force.
Every mocked answer starts as the service's real response shape
(:mod:`runtime.testing.mockinit.responses`); what else a path needs is found by running it
(:mod:`runtime.testing.mockinit.search`). What is written is what was run: the file is loaded by
the strict loader and each test case in it run once more, its outcome reported. Paths that
could not be forced are reported, not invented.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from asl.model import StateMachine
from runtime.testing.mockinit import forcing, plan, rules, runs
from runtime.testing.mockinit.plan import Plan
from runtime.testing.mockinit.search import SEARCH_LIMIT, Search

__all__ = ["GeneratedCase", "MockInit", "generate"]


@dataclass(frozen=True, slots=True)
class GeneratedCase:
    """One generated test case and the outcome its run showed."""

    name: str
    #: What it tests, e.g. "the Catch of RunJob on States.ALL, to ExplainFailure".
    purpose: str
    #: SUCCEEDED, or FAILED when the tested path ends at a Fail state by design.
    status: str
    error: str | None
    #: The states entered, in order.
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MockInit:
    """What :func:`generate` made."""

    #: The MockConfigFile, as a JSON value.
    document: dict[str, Any]
    cases: tuple[GeneratedCase, ...]
    #: Paths that could not be tested, and why: one sentence each.
    notes: tuple[str, ...]


def generate(
    machine: StateMachine,
    input: Any = None,
    state_machine: str = "StateMachine",
    services: Any = None,
) -> MockInit:
    """A MockConfigFile for ``machine`` whose test cases run as reported when the
    execution's input is ``input`` (default ``{}``). ``services``
    (:class:`runtime.adapters.Services`, offline) serve what mocks do not, e.g. the
    local S3 folders of a Distributed Map's ResultWriter."""
    payload = {} if input is None else input
    return _Generator(machine, payload, state_machine, services).generate()


def _also_entering(goal: Callable[[Any], int], states: set[str]) -> Callable[[Any], int]:
    """``goal``, met only by runs that enter one of ``states``."""
    return lambda result: goal(result) if states & set(runs.entered(result)) else 0


class _Generator(Search):
    """The test cases of one state machine."""

    def generate(self) -> MockInit:
        happy = Plan("HappyPath", "the happy path", self._base_returns())
        happy.goal = lambda r: 2 if r.succeeded else 1 if runs.designed_end(r) else 0
        found = self.search(happy)
        cases = [found] if found is not None else []
        if found is None:
            self.notes.append(
                "no run of the mocks reached the end of the definition: "
                + runs.ending(self.furthest)
            )
            return self._finish(cases)
        found = self._widen(found)
        cases = [found]
        for make in (self._catch_cases, self._retry_cases):
            cases += make(found)
        cases += self._choice_cases(cases)
        return self._finish(cases)

    def _widen(self, happy: Plan) -> Plan:
        """The happy path with one item for each Map it ran without any (so the Tasks
        inside run and get mocks), where an answer gives the items."""
        for name, raw in self.raw.items():
            inner = forcing.nested_names(raw) & set(self.mocked)
            if raw.get("Type") != "Map" or not inner or name not in runs.entered(happy.result):
                continue
            keys = self._items_keys(name)
            if inner & set(runs.entered(happy.result)) or keys is None:
                continue
            goal = happy.goal
            for mutation in self._placed(happy.result, name, keys, [{}])[:2]:
                trial = self._with(happy, mutation)
                trial.goal = _also_entering(goal, inner)
                widened = self.search(trial)
                if widened is not None and widened.goal(widened.result) == 2:
                    happy = widened
                    break
        return happy

    def _catch_cases(self, happy: Plan) -> list[Plan]:
        made = []
        for name, raw in self.raw.items():
            catchers = raw.get("Catch") or []
            if not catchers:
                continue
            thrower = self._thrower(name, happy)
            if thrower is None:
                why = "no run reached it"
                if name in runs.entered(happy.result):
                    why = "no mocked Task that ran can fail into it"
                self.notes.append(f"the Catch of '{name}': {why}")
                continue
            for i in range(len(catchers)):
                made += self._catch_case(happy, name, thrower, catchers, i)
        return made

    def _catch_case(
        self, happy: Plan, name: str, thrower: str, catchers: list[Any], i: int
    ) -> list[Plan]:
        catcher = catchers[i]
        error = rules.error_for(catcher.get("ErrorEquals", []), catchers[:i])
        label = f"the Catch #{i + 1} of '{name}' ({', '.join(catcher.get('ErrorEquals', []))})"
        if error is None:
            self.notes.append(f"{label}: an earlier catcher catches its errors")
            return []
        count = SEARCH_LIMIT if thrower != name else rules.attempts(self.raw[name], error)
        throw = {"Error": error, "Cause": f"The mock of '{thrower}' throws {error}."}
        target = catcher["Next"]
        case = replace(
            happy,
            name=plan.title(name, "Caught" if len(catchers) == 1 else f"Caught{i + 1}"),
            purpose=f"{label}: {thrower} throws {error}, then {target}",
            throws={**happy.throws, thrower: (count, throw)},
            goal=lambda r: runs.ended(r) if runs.reached_after(r, name, target) else 0,
        )
        found = self.search(case)
        if found is None:
            self.notes.append(f"{label}: {runs.ending(self.furthest)}")
            return []
        return [found]

    def _thrower(self, name: str, happy: Plan) -> str | None:
        """The mocked Task whose failure reaches ``name``'s Catch: itself, or a Task
        inside it (Parallel, Map) that has no Catch of its own."""
        if self.raw[name].get("Type") == "Task":
            return name if happy.calls.get(name) else None
        inner = forcing.nested_names(self.raw[name])
        for task in self.mocked:
            if task in inner and happy.calls.get(task) and not self.raw[task].get("Catch"):
                return task
        return None

    def _retry_cases(self, happy: Plan) -> list[Plan]:
        made = []
        for name in self.mocked:
            retriers = [r for r in self.raw[name].get("Retry") or [] if r.get("MaxAttempts") != 0]
            if not retriers or not happy.calls.get(name):
                continue
            error = rules.error_for(retriers[0].get("ErrorEquals", []), [])
            first = self.raw[name].get("Retry", [])[0]
            if error is None or first is not retriers[0]:
                continue
            throw = {"Error": error, "Cause": f"The mock of '{name}' throws {error} once."}
            case = replace(
                happy,
                name=plan.title(name, "Retried"),
                purpose=f"the Retry of '{name}' ({error}): it fails once, then succeeds",
                throws={**happy.throws, name: (1, throw)},
                goal=lambda r: runs.ended(r) if runs.FAILED_EVENTS & set(r.event_types) else 0,
            )
            found = self.search(case)
            if found is None:
                self.notes.append(f"the Retry of '{name}': {runs.ending(self.furthest)}")
            else:
                made.append(found)
        return made

    def _choice_cases(self, bases: list[Plan]) -> list[Plan]:
        covered = {visit for case in bases for visit in runs.choice_visits(case.result)}
        made: list[Plan] = []
        for choice in [n for n, raw in self.raw.items() if raw.get("Type") == "Choice"]:
            reaching = [c for c in [*bases, *made] if choice in runs.entered(c.result)]
            base = reaching[0] if reaching else None
            for index, target in self._outcomes(choice):
                if (choice, target) in covered:
                    continue
                label = f"'{choice}' -> '{target}'"
                if base is None:
                    self.notes.append(f"{label}: no test case reaches '{choice}'")
                    continue
                found = self._choice_case(base, choice, index, target)
                if found is None:
                    self.notes.append(f"{label}: {self._why_not(choice, index, base)}")
                    continue
                found = self._widen(found)
                made.append(found)
                covered |= set(runs.choice_visits(found.result))
        return made

    def _choice_case(self, base: Plan, choice: str, index: int | None, target: str) -> Plan | None:
        outcome = "Default" if index is None else f"Rule{index + 1}"
        forcings = self._forcing(base.result, choice, index)[:3]
        # Every time, else only the first time (a Choice in a loop must leave it).
        for mutation, once in [(m, False) for m in forcings] + [(m, True) for m in forcings]:
            case = self._with(base, mutation, once)
            case.name = plan.title(choice, outcome)
            case.purpose = f"the Choice '{choice}' takes {outcome.lower()} to '{target}'"
            case.pinned = base.pinned | {choice}
            case.goal = lambda r: runs.ended(r) if (choice, target) in runs.choice_visits(r) else 0
            found = self.search(case)
            if found is not None:
                return found
        return None

    def _why_not(self, choice: str, index: int | None, base: Plan) -> str:
        rules = self.raw[choice].get("Choices", [])
        deciding = rules if index is None else rules[: index + 1]
        unsolved = [i for i, r in enumerate(deciding) if self._rule(choice, r, base.result) is None]
        if unsolved:
            which = ", ".join(f"#{i + 1}" for i in unsolved)
            return f"the generator cannot solve rule {which} (edit a mocked answer by hand)"
        return (
            "no mocked answer feeds the values its rules read (they come from the "
            "execution input or the context), or no run confirmed it"
        )

    def _finish(self, cases: list[Plan]) -> MockInit:
        names: set[str] = set()
        for case in cases:
            base, n = case.name, 2
            while case.name in names:
                case.name, n = f"{base}{n}", n + 1
            names.add(case.name)
        confirmed = list(self._confirm(plan.document(self.name, cases), cases))
        kept = [case for case in cases if case.name in {c.name for c in confirmed}]
        unreached = [s for s in self.mocked if not any(c.calls.get(s) for c in kept)]
        if unreached and kept:
            listed = ", ".join(f"'{name}'" for name in unreached)
            self.notes.append(f"no test case runs {listed}: no mock is written for them")
        document = plan.document(self.name, kept)
        return MockInit(document, tuple(confirmed), tuple(self.notes))

    def _confirm(self, document: dict[str, Any], cases: list[Plan]) -> Iterator[GeneratedCase]:
        """Each test case as written, loaded by the strict loader and run again; one that
        does not end as its search saw is left out, and said so (it would be a bug)."""
        from runtime.adapters.mock_config import MockConfig
        from runtime.api import run_sync

        config = MockConfig.parse(document)
        for case in cases:
            result = run_sync(
                self.machine,
                copy.deepcopy(self.payload),
                mocks=config.test_case(case.name, self.name),
                state_machine_name=self.name,
                seed=0,
                services=self.services,
            )
            if case.goal(result) == 0:
                self.notes.append(
                    f"{case.name}: left out, as its run from the written file ended "
                    f"otherwise than its search ({runs.ending(result)})"
                )
                continue
            yield GeneratedCase(
                case.name,
                case.purpose,
                result.status,
                result.error,
                tuple(runs.entered(result)),
            )
