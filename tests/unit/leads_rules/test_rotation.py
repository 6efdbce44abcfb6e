"""Reception rotation over a day, make-up turns, named reps, returning customers, redistribution."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from leads.intake.rules import RuleViolation
from leads.ownership.rotation import (
    NamedRep,
    NewCustomer,
    ReturningCustomer,
    RotationState,
    mark_away,
    mark_returned,
    next_rep,
    redistribute,
    start_day,
)

DAY = date(2026, 3, 2)


def serve(state: RotationState, n: int, prefix: str = "c") -> tuple[RotationState, list[str]]:
    reps = []
    for i in range(n):
        state, a = next_rep(state, NewCustomer(f"{prefix}{i}"))
        reps.append(a.rep)
    return state, reps


def test_strict_round_robin_is_fair_over_a_day() -> None:
    state = start_day("east", DAY, ["a", "b", "c"])
    state, reps = serve(state, 9)
    assert reps == ["a", "b", "c"] * 3
    assert [state.turns_of(r) for r in "abc"] == [3, 3, 3]


def test_away_rep_is_skipped_and_gets_make_up_turns_first_on_return() -> None:
    state = start_day("east", DAY, ["a", "b", "c"])
    state, first = serve(state, 1)  # a
    state = mark_away(state, "b")
    state, while_away = serve(state, 4, "w")  # c, a, c, a — b skipped twice
    assert first + while_away == ["a", "c", "a", "c", "a"]
    assert state.owed("b") == 2
    state = mark_returned(state, "b")
    state, a1 = next_rep(state, NewCustomer("r1"))
    state, a2 = next_rep(state, NewCustomer("r2"))
    assert (a1.rep, a1.kind, a2.rep, a2.kind) == ("b", "makeup", "b", "makeup")
    assert state.owed("b") == 0
    state, rest = serve(state, 2, "n")  # normal order resumes where it stopped: b, c
    assert rest == ["b", "c"]
    # Fair after 9 customers: everyone served 3 (a: 3 normal; b: 2 make-up + 1; c: 3 normal).
    assert [state.turns_of(r) for r in "abc"] == [3, 3, 3]


def test_skipped_rep_is_named_in_the_log_line() -> None:
    state = mark_away(start_day("east", DAY, ["a", "b"]), "a")
    state, a = next_rep(state, NewCustomer("x"))
    assert a.rep == "b" and a.skipped_away == ("a",) and "make-up" in a.reason


def test_make_up_turns_wait_while_still_away() -> None:
    state = mark_away(start_day("east", DAY, ["a", "b", "c"]), "a")
    state, reps = serve(state, 4)
    assert reps == ["b", "c", "b", "c"] and state.owed("a") == 2


def test_named_rep_outside_rotation_consumes_no_turn() -> None:
    state = start_day("east", DAY, ["a", "b", "c"])
    state, a = next_rep(state, NamedRep("x", ("c",)))
    assert (a.rep, a.kind, a.consumed_turn) == ("c", "named", False)
    state, reps = serve(state, 3)
    assert reps == ["a", "b", "c"]
    assert state.turns_of("c") == 1


def test_several_names_first_present_then_rotation() -> None:
    state = mark_away(start_day("east", DAY, ["a", "b", "c"]), "c")
    _, a = next_rep(state, NamedRep("x", ("c", "b")))
    assert a.rep == "b" and a.kind == "named"
    new_state, fallback = next_rep(state, NamedRep("y", ("c", "zed")))
    assert fallback.rep == "a" and fallback.kind == "rotation" and fallback.consumed_turn
    assert "no named rep present" in fallback.reason
    assert new_state.turns_of("a") == 1


def test_returning_customer_consumes_no_turn() -> None:
    state = start_day("east", DAY, ["a", "b", "c"])
    state, a = next_rep(state, ReturningCustomer("old", owner="b"))
    assert (a.rep, a.served_by, a.kind, a.consumed_turn) == ("b", "b", "returning", False)
    state, reps = serve(state, 3)
    assert reps == ["a", "b", "c"]


def test_returning_customer_of_an_absent_rep_is_assisted_outside_the_rotation() -> None:
    state = mark_away(start_day("east", DAY, ["a", "b", "c"]), "b")
    after, a = next_rep(state, ReturningCustomer("old", owner="b"))
    assert (a.rep, a.served_by, a.kind, a.consumed_turn) == ("b", "a", "returning_assisted", False)
    assert after == state


def test_nobody_present_is_refused() -> None:
    state = mark_away(start_day("east", DAY, ["a"]), "a")
    with pytest.raises(RuleViolation):
        next_rep(state, NewCustomer("x"))


def test_day_validation() -> None:
    with pytest.raises(ValueError):
        start_day("east", DAY, [])
    with pytest.raises(ValueError):
        start_day("east", DAY, ["a", "a"])
    with pytest.raises(RuleViolation):
        mark_away(start_day("east", DAY, ["a"]), "z")
    carried = start_day("east", DAY, ["a", "b"], carried_makeup={"b": 1, "z": 4})
    _, a = next_rep(carried, NewCustomer("x"))
    assert a.rep == "b" and a.kind == "makeup"


# --- redistribution -------------------------------------------------------------------------------

LEADS = [f"lead-{i:02d}" for i in range(23)]
REPS = ["r1", "r2", "r3", "r4"]


def test_random_redistribution_is_reproducible_for_the_same_seed() -> None:
    one = redistribute(LEADS, REPS, "random", seed=42, departing="gone")
    two = redistribute(list(reversed(LEADS)), list(reversed(REPS)), "random", seed=42, departing="gone")
    assert one == two
    assert {lead for lead, _ in one.assignments} == set(LEADS)
    assert {rep for _, rep in one.assignments} <= set(REPS)
    assert "seed=42" in one.log[0] and "gone" in one.log[0]
    assert len(one.log) == len(LEADS) + 1
    other = redistribute(LEADS, REPS, "random", seed=43)
    assert other.assignments != one.assignments


def test_departing_rep_never_receives_leads() -> None:
    result = redistribute(LEADS, [*REPS, "gone"], "random", seed="x", departing="gone")
    assert "gone" not in {rep for _, rep in result.assignments}


def test_even_redistribution_is_balanced_within_one() -> None:
    result = redistribute(LEADS, REPS, "even", seed=1)
    counts = Counter(rep for _, rep in result.assignments)
    assert sum(counts.values()) == len(LEADS)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_even_redistribution_starts_with_the_least_loaded() -> None:
    result = redistribute(["x"], REPS, "even", current_load={"r1": 5, "r2": 5, "r3": 0, "r4": 2})
    assert result.assignments == (("x", "r3"),)


def test_redistribution_refusals() -> None:
    with pytest.raises(RuleViolation):
        redistribute(LEADS, ["gone"], departing="gone")
    with pytest.raises(ValueError):
        redistribute(LEADS, REPS, "lottery")  # type: ignore[arg-type]
