"""What ownership.py stores and hands to the rule modules, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

from leads.ownership import rotation
from leads.ownership import service as ownership
from leads.ownership.models import LeadContact
from leads.ownership.rules import ConflictRule, Decision, owner_change
from leads.policy.rules import LeadPolicy

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_rotation_state_survives_its_json_round_trip() -> None:
    state = rotation.start_day("east", date(2026, 3, 2), ["a", "b", "c"])
    state, _ = rotation.next_rep(state, rotation.NewCustomer("x"))
    state = rotation.mark_away(state, "b")
    state, _ = rotation.next_rep(state, rotation.NewCustomer("y"))
    data = ownership.rotation_to_json(state)
    assert data == {"order": ["a", "b", "c"], "position": 0, "away": ["b"], "makeup": {"b": 1},
                    "turns": {"a": 1, "c": 1}}
    assert ownership.rotation_from_json("east", date(2026, 3, 2), data) == state


def test_phone_contacts_renew_only_when_made_out_of_town() -> None:
    def contact(kind: str, out_of_town: bool, day: int) -> LeadContact:
        return LeadContact(id=str(day), lead_id="l", at=T0.replace(day=day), kind=kind, by="rep1",
                           out_of_town=out_of_town)

    local = ownership.state_of("rep1", T0, [contact("phone", False, 10)], T0.replace(day=20),
                               LeadPolicy())
    assert local.renewed_by is None
    away = ownership.state_of("rep1", T0, [contact("phone", True, 10), contact("email", True, 12)],
                              T0.replace(day=20), LeadPolicy())
    assert away.renewed_by is not None and away.renewed_by.at == T0.replace(day=10)
    naive = ownership.aware(datetime(2026, 3, 2, 2, 0))
    assert naive == T0


def test_redistribution_is_a_rule_of_the_owner_history() -> None:
    decision = Decision("b", ConflictRule.REDISTRIBUTION, True, None, "a left the company")
    change = owner_change(decision, "a", "manager", T0)
    assert change is not None and change.rule == "redistribution" and change.reason == "a left the company"
