"""Small inputs must not cause unbounded work: YAML alias bombs, long JSONPaths.

Speed itself is measured by ``make fuzz`` (its bounds phase), never timed here; these tests
check the bound and the shape of the work.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.errors import SourceError
from asl.paths import compile_path
from asl.paths._evaluate import Plan
from asl.paths._syntax import parse
from asl.source import MAX_EXPANDED_VALUES, load_definition


def alias_chain(levels: int, width: int) -> str:
    """YAML whose last anchor expands to ``width ** levels`` scalars (about 30 bytes a level)."""
    lines = ["l0: &l0 [" + ", ".join(["x"] * width) + "]"]
    for level in range(1, levels):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{refs}]")
    lines += [
        "StartAt: A",
        "States:",
        "  A:",
        "    Type: Pass",
        f"    Result: *l{levels - 1}",
        "    End: true",
    ]
    return "\n".join(lines) + "\n"


def expanded(levels: int, width: int) -> int:
    """Values once expanded: each level's list plus its items."""
    size = 1 + width  # the innermost list and its scalars
    for _ in range(1, levels):
        size = 1 + width * size
    return size


def test_a_billion_laughs_is_refused_with_its_place() -> None:
    with pytest.raises(SourceError, match="aliases expand") as raised:
        load_definition(alias_chain(9, 9), format="yaml", source="bomb.yaml")
    assert raised.value.line is not None


@settings(max_examples=40, deadline=None)
@given(levels=st.integers(1, 8), width=st.integers(1, 12))
def test_aliases_are_refused_when_their_expansion_is_over_the_bound(
    levels: int, width: int
) -> None:
    text = alias_chain(levels, width)
    size = expanded(levels, width)
    if size > MAX_EXPANDED_VALUES:
        with pytest.raises(SourceError, match="aliases expand"):
            load_definition(text, format="yaml")
    elif 3 * size < MAX_EXPANDED_VALUES:  # the whole document, every anchor counted
        loaded = load_definition(text, format="yaml")
        assert loaded.positions["/States/A/Result"][0] == levels + 5


def test_positions_are_kept_for_aliased_values() -> None:
    loaded = load_definition(alias_chain(2, 3), format="yaml")
    assert loaded.value["States"]["A"]["Result"] == [["x", "x", "x"]] * 3
    assert "/States/A/Result" in loaded.positions


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([".a", "[0]", "['b']", "[*]", "..c", "[1:2]", "[-1:]", ".*"]),
        max_size=30,
    )
)
def test_the_plan_of_a_path_says_which_steps_are_upstream_definite(steps: list[str]) -> None:
    """Computed in one pass (it was n² for n steps); same answer as the definition."""
    parsed = parse("$" + "".join(steps))
    plan = Plan.of(parsed.steps)
    from asl.paths._evaluate import is_definite_step

    last = len(parsed.steps) - 1
    flags = [is_definite_step(s, i == last) for i, s in enumerate(parsed.steps)]
    assert plan.upstream == tuple(all(flags[:i]) for i in range(len(flags)))
    assert plan.definite == all(flags)


def test_a_100000_segment_path_compiles() -> None:
    path = compile_path("$" + ".a" * 100_000)
    assert path is not None
