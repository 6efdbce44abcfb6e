"""Pipeline stages, exit checklists, outcomes, A/B/C tracking class and time spent in each stage.

Rules (seeds digest §1.5 P1, §1.3):
- Stages come from the policy (default the five P1 stages: identify → information & samples → value
  assessment → relationship → closing); a lead leaves a stage only when that stage's exit checklist
  holds (e.g. leaving "information" needs an inside contact, sufficient information and a clear
  need: 「内线确定;信息充分;需求明确」).
- Outcomes: won (converted), lost (reason required, from the policy's managed list), terminated
  (credit / business / financial risk: 「请求终止对其的调查和业务洽谈」).
- A and B leads must have a follow-up plan: next step and next date (「A、B类客户,要填写《客户追踪表》」).

Choices (§9.17):
- Skipping forward needs the checklists of every stage left behind; moving back needs nothing.
- Won is allowed from any active stage (a customer may sign early; checklists guard stage moves, not
  the outcome) and is final; terminated is final; a lost lead may be re-opened at the first stage
  (§1.5 P11 "re-track / deal failed").
- Time in the outcome stages is not counted (the clock stops when the lead is closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from leads.intake.rules import RuleViolation
from leads.policy.rules import TERMINAL_STAGES, LeadPolicy, require_aware

WON, LOST, TERMINATED = TERMINAL_STAGES


def _satisfied(lead_facts: Mapping[str, object] | Iterable[str]) -> set[str]:
    if isinstance(lead_facts, Mapping):
        return {k for k, v in lead_facts.items() if v}
    return set(lead_facts)


def can_advance(
    lead_facts: Mapping[str, object] | Iterable[str],
    from_stage: str,
    to_stage: str,
    policy: LeadPolicy | None = None,
) -> list[str]:
    """Checklist items still missing to move ``from_stage`` → ``to_stage`` between active stages.

    ``lead_facts`` is the set of satisfied checklist items (or a mapping item → truthy). An empty list
    means the move is allowed. Unknown stages or outcome stages raise ValueError (use ``close`` for
    outcomes).
    """
    policy = policy or LeadPolicy()
    keys = policy.stage_keys
    for stage in (from_stage, to_stage):
        if stage not in keys:
            raise ValueError(f"unknown active stage {stage!r}")
    start, end = keys.index(from_stage), keys.index(to_stage)
    if end <= start:
        return []
    done = _satisfied(lead_facts)
    missing: list[str] = []
    for spec in policy.stages[start:end]:
        missing.extend(item for item in spec.exit_checklist if item not in done and item not in missing)
    return missing


@dataclass(frozen=True)
class Outcome:
    stage: str  # won / lost / terminated
    reason: str | None


def close(
    from_stage: str, outcome: str, reason: str | None = None, policy: LeadPolicy | None = None
) -> Outcome:
    """Close an active lead as won, lost (reason from the list) or terminated (risk reason from the list)."""
    policy = policy or LeadPolicy()
    if from_stage in (WON, TERMINATED, LOST):
        raise RuleViolation(f"a {from_stage} lead cannot be closed again")
    if from_stage not in policy.stage_keys:
        raise ValueError(f"unknown active stage {from_stage!r}")
    if outcome == WON:
        return Outcome(WON, reason)
    if outcome == LOST:
        if not reason:
            raise RuleViolation("a lost lead needs a reason")
        if reason not in policy.lost_reasons:
            raise RuleViolation(f"unknown lost reason {reason!r}; allowed: {', '.join(policy.lost_reasons)}")
        return Outcome(LOST, reason)
    if outcome == TERMINATED:
        if not reason:
            raise RuleViolation("a terminated lead needs a risk reason")
        if reason not in policy.termination_reasons:
            raise RuleViolation(
                f"unknown termination reason {reason!r}; allowed: {', '.join(policy.termination_reasons)}"
            )
        return Outcome(TERMINATED, reason)
    raise ValueError(f"unknown outcome {outcome!r}")


def reopen(from_stage: str, policy: LeadPolicy | None = None) -> str:
    """Only a lost lead may be re-opened; it restarts at the first stage."""
    policy = policy or LeadPolicy()
    if from_stage != LOST:
        raise RuleViolation(f"a {from_stage} lead cannot be re-opened")
    return policy.stage_keys[0]


@dataclass(frozen=True)
class FollowUpPlan:
    next_step: str
    next_date: date


def tracking_class_problems(
    tracking_class: str,
    plan: FollowUpPlan | None,
    policy: LeadPolicy | None = None,
    today: date | None = None,
) -> list[str]:
    """Why ``tracking_class`` with ``plan`` is refused (empty = fine).

    A and B (``policy.plan_required_classes``) need a plan with a next step and a next date; with
    ``today`` given (the caller's org-local date), a next date in the past is refused too.
    """
    policy = policy or LeadPolicy()
    if tracking_class not in policy.tracking_classes:
        return [f"unknown tracking class {tracking_class!r}"]
    if tracking_class not in policy.plan_required_classes:
        return []
    if plan is None:
        return ["follow_up_plan"]
    problems = []
    if not plan.next_step or not plan.next_step.strip():
        problems.append("next_step")
    if plan.next_date is None:
        problems.append("next_date")
    elif today is not None and plan.next_date < today:
        problems.append("next_date_in_past")
    return problems


@dataclass(frozen=True)
class StageEntry:
    stage: str
    entered_at: datetime


def time_in_stages(history: Sequence[StageEntry], now: datetime) -> dict[str, timedelta]:
    """Total time spent in each stage (repeat visits summed), in order of first entry.

    The current stage counts up to ``now``; outcome stages (won/lost/terminated) are not timed.
    """
    require_aware(now, "now")
    totals: dict[str, timedelta] = {}
    for i, entry in enumerate(history):
        require_aware(entry.entered_at, "entered_at")
        end = history[i + 1].entered_at if i + 1 < len(history) else now
        if end < entry.entered_at:
            raise ValueError("stage history must be in time order and not after now")
        if entry.stage in TERMINAL_STAGES:
            continue
        totals[entry.stage] = totals.get(entry.stage, timedelta(0)) + (end - entry.entered_at)
    return totals
