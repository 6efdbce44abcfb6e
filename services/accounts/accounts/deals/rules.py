"""Pure deal rules: the stages in the documents' order (§1.3) and which register lists what."""

from __future__ import annotations

SMALL, LARGE, CONTRACT, PAYMENT = "small_deposit", "large_deposit", "contract", "payment"
STAGES = (SMALL, LARGE, CONTRACT, PAYMENT)  # 小定 → 大定 → 签约 → 交款
OPENING = (SMALL, LARGE)  # a deal starts with a small or a large deposit
DEPOSITS = (SMALL, LARGE)  # these notify central inventory control at once
# register name → (stage whose date and amount it lists, its title in the documents)
REGISTERS = {"small_deposits": (SMALL, "小订明细表"), "large_deposits": (LARGE, "大订明细表"),
             "contracts": (CONTRACT, "签约明细表"), "sales": (PAYMENT, "销售统计表")}


class StageError(ValueError):
    pass


def next_stage(current: str, wanted: str) -> None:
    """Deals move one stage forward at a time; raises StageError otherwise."""
    if STAGES.index(wanted) != STAGES.index(current) + 1:
        allowed = STAGES[STAGES.index(current) + 1] if current != PAYMENT else None
        raise StageError(f"the deal is at {current}; the next stage is {allowed or 'none (paid)'}")
