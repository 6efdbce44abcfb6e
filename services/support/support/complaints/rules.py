"""The complaint flow of §3.2a, pure: nine steps in order, what each needs, where it may branch.

①受理 the complaint and the customer's material → ②核查 (no problem found → closed with the
explanation) → ③初步判断 quality / non-quality → ④相关部门协商 a handling plan → ⑤销售管理部经理
talks to the customer and signs an opinion, then the approvals the policy names (销售总经理; also
集团总经理 when the compensation reaches the policy's threshold) → ⑥与客户协商: satisfied → ⑧按照
方案执行; not satisfied → ⑦诉讼程序 → ⑨月度客诉统计 (automatic when the flow ends).

The source prints the nodes without arrows (§9.8); the branches above are the digest's reading.
A rejected approval sends the complaint back to ④ (a new plan).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

RECEIVED, CHECKED, TRIAGED, PLANNED, SIGNED, NEGOTIATED, LITIGATION, EXECUTED, COUNTED = range(1, 10)
NAMES = {
    1: "received",
    2: "checked",
    3: "triaged",
    4: "plan_proposed",
    5: "signed",
    6: "negotiated",
    7: "litigation",
    8: "executed",
    9: "counted",
}
LABELS = {
    1: "①受理",
    2: "②核查",
    3: "③初步判断",
    4: "④处理方案",
    5: "⑤签署意见",
    6: "⑥协商",
    7: "⑦诉讼程序",
    8: "⑧按方案执行",
    9: "⑨月度客诉统计",
}
CATEGORIES = ("quality", "non_quality")


class OutOfOrder(ValueError):
    """The step does not come next (409)."""


@dataclass(frozen=True)
class State:
    step: int = 0  # the last completed step
    problem_found: bool | None = None
    satisfied: bool | None = None
    approvals_missing: tuple[str, ...] = ()


def next_steps(state: State) -> frozenset[int]:
    """The steps that may be recorded now (⑨ is never recorded by hand)."""
    if state.step == CHECKED and state.problem_found is False:
        return frozenset()
    if state.step == NEGOTIATED:
        return frozenset({EXECUTED} if state.satisfied else {LITIGATION})
    if state.step in (LITIGATION, EXECUTED, COUNTED):
        return frozenset()
    return frozenset({state.step + 1})


def check_order(state: State, step: int) -> None:
    allowed = next_steps(state)
    if step not in allowed:
        expected = ", ".join(LABELS[s] for s in sorted(allowed)) or "nothing (the complaint is finished)"
        raise OutOfOrder(f"step {LABELS.get(step, step)} cannot come now: next is {expected}")
    if step == NEGOTIATED and state.approvals_missing:
        raise OutOfOrder(f"⑥ needs the approvals of {', '.join(state.approvals_missing)} first")


def finishes(step: int, data: Mapping[str, Any]) -> bool:
    """Whether recording ``step`` ends the flow (then ⑨ counts it)."""
    return (step == CHECKED and data.get("problem_found") is False) or step in (LITIGATION, EXECUTED)


def step_errors(step: int, data: Mapping[str, Any]) -> dict[str, str]:
    """What each step must carry."""
    need: dict[int, tuple[str, ...]] = {
        RECEIVED: ("material",),
        CHECKED: ("problem_found",),
        TRIAGED: ("category",),
        PLANNED: ("plan",),
        SIGNED: ("opinion",),
        NEGOTIATED: ("satisfied",),
        LITIGATION: ("note",),
        EXECUTED: ("note",),
    }
    errors = {
        name: f"{LABELS[step]} needs {name}."
        for name in need.get(step, ())
        if data.get(name) is None or data.get(name) == ""
    }
    if step == CHECKED and data.get("problem_found") is False and not data.get("note"):
        errors["note"] = "No problem found: give the explanation for the customer."
    if step == TRIAGED and data.get("category") not in (None, *CATEGORIES):
        errors["category"] = f"Must be one of {', '.join(CATEGORIES)}."
    if step != PLANNED and data.get("compensation") is not None:
        errors["compensation"] = "Only the handling plan (④) carries a compensation."
    return errors


def required_approvals(
    approval_roles: Iterable[str], compensation: Decimal | None, group_gm_threshold: Decimal
) -> tuple[str, ...]:
    """The approvals ⑤ needs: the policy's roles, and the group GM at or above the threshold."""
    roles = list(dict.fromkeys(approval_roles))
    if compensation is not None and compensation >= group_gm_threshold and "group_gm" not in roles:
        roles.append("group_gm")
    return tuple(roles)


def missing_approvals(required: Iterable[str], approved_roles: Iterable[str]) -> tuple[str, ...]:
    done = set(approved_roles)
    return tuple(role for role in required if role not in done)


def transfer_queue(current: str, queues: tuple[str, ...]) -> str:
    """A grievance not resolved in time passes to another department (§3.2d 「移交给其他部门员工」):
    the queue after the current one in the policy's list (wrapping), or the first that differs."""
    if current in queues:
        return queues[(queues.index(current) + 1) % len(queues)]
    return next(q for q in queues if q != current)
