"""Reception rotation (轮流接待) and redistribution of a leaving rep's leads.

Rules (seeds digest §1.4A):
- A strict round-robin of the team's on-duty reps for new walk-ins and calls (「严格遵循轮流接待程序」).
- A rep away on business gets make-up turns on return (「当外出销售员归来时,空几轮,补接几名新客户」):
  each turn skipped while away is owed, and owed turns are served before the normal order resumes.
- A first-time customer who names a rep goes to that rep outside the rotation (「可不按排序表接待」);
  several names: the first present one (rule 5); none present: the rotation serves (rule 5, C).
- Returning customers do not consume a turn (「均不计入接待名额」); if their rep is absent, the next rep
  in the order assists without consuming a turn, and the deal stays the owner's (rule 3, 80/20).
- A rep on long leave or leaving: their leads are redistributed by random draw (rule 12,
  「按随机抽数分配」) or evenly (§1.4C 「平均分配」), as the manager chooses, and logged.

Choices:
- Several reps owing make-up turns are served in rotation order; make-up turns belong to the day
  (``start_day`` accepts turns carried over if the service wants to keep them).
- "Random" is an independent draw per lead (a lottery: it need not be balanced); "even" deals the
  leads round-robin starting with the least loaded rep, so counts differ by at most one. Inputs are
  sorted before drawing and the seed is logged, so the same inputs and seed give the same result.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from leads.intake.rules import RuleViolation


@dataclass(frozen=True)
class RotationState:
    team: str
    day: date
    order: tuple[str, ...]  # on-duty reps in rotation order
    position: int = 0  # index in ``order`` of the next normal turn
    away: frozenset[str] = frozenset()
    makeup: tuple[tuple[str, int], ...] = ()  # rep -> owed make-up turns (only non-zero entries)
    turns: tuple[tuple[str, int], ...] = ()  # rep -> turns consumed today (fairness report)

    def owed(self, rep: str) -> int:
        return dict(self.makeup).get(rep, 0)

    def turns_of(self, rep: str) -> int:
        return dict(self.turns).get(rep, 0)

    def present(self, rep: str) -> bool:
        return rep in self.order and rep not in self.away


@dataclass(frozen=True)
class NewCustomer:
    """A first-time walk-in or call that names nobody."""

    customer: str


@dataclass(frozen=True)
class NamedRep:
    """A first-time customer naming one or more reps, in the order named."""

    customer: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class ReturningCustomer:
    customer: str
    owner: str


RotationEvent = NewCustomer | NamedRep | ReturningCustomer


@dataclass(frozen=True)
class Assignment:
    """Who gets the customer and why (one line of the reception log)."""

    customer: str
    rep: str  # who the customer belongs to
    served_by: str  # who actually receives them now (differs when the owner is absent)
    kind: Literal["rotation", "makeup", "named", "returning", "returning_assisted"]
    consumed_turn: bool
    reason: str
    skipped_away: tuple[str, ...] = field(default=())


def start_day(
    team: str, day: date, reps: Iterable[str], carried_makeup: Mapping[str, int] | None = None
) -> RotationState:
    order = tuple(reps)
    if not order:
        raise ValueError("a rotation needs at least one on-duty rep")
    if len(set(order)) != len(order):
        raise ValueError("a rep appears twice in the rotation")
    makeup = tuple((r, n) for r, n in (carried_makeup or {}).items() if n > 0 and r in order)
    return RotationState(team=team, day=day, order=order, makeup=makeup)


def mark_away(state: RotationState, rep: str) -> RotationState:
    """The rep leaves on business: their turns are skipped and owed until ``mark_returned``."""
    _require_on_duty(state, rep)
    return replace(state, away=state.away | {rep})


def mark_returned(state: RotationState, rep: str) -> RotationState:
    _require_on_duty(state, rep)
    return replace(state, away=state.away - {rep})


def next_rep(state: RotationState, event: RotationEvent) -> tuple[RotationState, Assignment]:
    """Apply one reception event; returns the new state and the assignment with its reason."""
    if isinstance(event, ReturningCustomer):
        return _returning(state, event)
    if isinstance(event, NamedRep):
        for name in event.names:
            if state.present(name):
                why = f"customer named {name}: outside the rotation, no turn consumed"
                return state, Assignment(event.customer, name, name, "named", False, why)
        new_state, assignment = _take_turn(state, event.customer)
        why = f"no named rep present ({', '.join(event.names)}): {assignment.reason}"
        return new_state, replace(assignment, reason=why)
    if isinstance(event, NewCustomer):
        return _take_turn(state, event.customer)
    raise TypeError(f"unknown rotation event {event!r}")


def _returning(state: RotationState, event: ReturningCustomer) -> tuple[RotationState, Assignment]:
    if state.present(event.owner):
        return state, Assignment(
            event.customer,
            event.owner,
            event.owner,
            "returning",
            False,
            "returning customer: no turn consumed",
        )
    helper = _peek_present(state)
    why = f"returning customer; owner {event.owner} absent, {helper} assists outside the rotation (80/20)"
    return state, Assignment(event.customer, event.owner, helper, "returning_assisted", False, why)


def _take_turn(state: RotationState, customer: str) -> tuple[RotationState, Assignment]:
    owed = dict(state.makeup)
    for rep in state.order:  # make-up turns first, in rotation order
        if owed.get(rep, 0) > 0 and rep not in state.away:
            owed[rep] -= 1
            new_state = replace(state, makeup=_pairs(state.order, owed), turns=_bump(state, rep))
            why = f"make-up turn for {rep} (owed {owed[rep] + 1} after being away)"
            return new_state, Assignment(customer, rep, rep, "makeup", True, why)
    n = len(state.order)
    skipped: list[str] = []
    for step in range(n):
        index = (state.position + step) % n
        rep = state.order[index]
        if rep in state.away:
            skipped.append(rep)
            continue
        for s in skipped:
            owed[s] = owed.get(s, 0) + 1
        new_state = replace(
            state, position=(index + 1) % n, makeup=_pairs(state.order, owed), turns=_bump(state, rep)
        )
        why = f"rotation turn of {rep}"
        if skipped:
            why += f"; skipped away reps {', '.join(skipped)} (make-up owed)"
        return new_state, Assignment(customer, rep, rep, "rotation", True, why, tuple(skipped))
    raise RuleViolation(f"no rep of team {state.team} is present")


def _peek_present(state: RotationState) -> str:
    n = len(state.order)
    for step in range(n):
        rep = state.order[(state.position + step) % n]
        if rep not in state.away:
            return rep
    raise RuleViolation(f"no rep of team {state.team} is present")


def _pairs(order: tuple[str, ...], counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple((r, counts[r]) for r in order if counts.get(r, 0) > 0)


def _bump(state: RotationState, rep: str) -> tuple[tuple[str, int], ...]:
    turns = dict(state.turns)
    turns[rep] = turns.get(rep, 0) + 1
    return _pairs(state.order, turns)


def _require_on_duty(state: RotationState, rep: str) -> None:
    if rep not in state.order:
        raise RuleViolation(f"{rep} is not on duty in team {state.team} on {state.day.isoformat()}")


# --- redistribution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redistribution:
    assignments: tuple[tuple[str, str], ...]  # (lead, rep), in sorted lead order
    log: tuple[str, ...]


def redistribute(
    leads: Iterable[str],
    reps: Iterable[str],
    method: Literal["random", "even"] = "random",
    seed: int | str = 0,
    *,
    departing: str | None = None,
    current_load: Mapping[str, int] | None = None,
) -> Redistribution:
    """Reassign ``leads`` among ``reps`` (the departing rep excluded); reproducible for the same seed."""
    lead_list = sorted(set(leads))
    rep_list = sorted(set(reps) - ({departing} if departing else set()))
    if not rep_list:
        raise RuleViolation("no rep to redistribute to")
    if method not in ("random", "even"):
        raise ValueError(f"unknown redistribution method {method!r}")
    log = [
        f"redistribute {len(lead_list)} leads"
        + (f" of {departing}" if departing else "")
        + f" among {', '.join(rep_list)} by {method} draw, seed={seed!r}"
    ]
    assignments: list[tuple[str, str]] = []
    if method == "random":
        rng = random.Random(f"{seed}")  # str seeds are hashed with SHA-512: stable across runs
        for lead in lead_list:
            rep = rng.choice(rep_list)
            assignments.append((lead, rep))
            log.append(f"{lead} -> {rep} (drawn)")
    else:
        load = {r: (current_load or {}).get(r, 0) for r in rep_list}
        dealing = sorted(rep_list, key=lambda r: (load[r], r))
        for i, lead in enumerate(lead_list):
            rep = dealing[i % len(dealing)]
            assignments.append((lead, rep))
            log.append(f"{lead} -> {rep} (even share)")
    return Redistribution(tuple(assignments), tuple(log))
