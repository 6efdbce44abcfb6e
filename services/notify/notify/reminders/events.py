"""What notify reads of the reminder events it consumes: tolerant (unknown fields excluded,
absent optional fields None), so producers may add fields without breaking notify."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

LEADS = (
    "leads.followup.due.v1",
    "leads.followup.overdue.v1",
    "leads.protection.expiring.v1",
    "leads.protection.expired.v1",
)
SUPPORT = (
    "support.sla.warning.v1",
    "support.sla.breached.v1",
    "support.appointment.scheduled.v1",
    "support.appointment.reminder_due.v1",
    "support.return_visit.due.v1",
    "support.major_fault.reported.v1",
)
ACCOUNTS = (
    "accounts.payment.overdue.v1",
    "accounts.credit.hold_placed.v1",
    "accounts.credit.hold_released.v1",
    "accounts.credit.approval_requested.v1",
    "accounts.credit.approval_decided.v1",
    "accounts.credit.temporary_increase_expiring.v1",
)
CONSUMED = LEADS + SUPPORT + ACCOUNTS


def _opt() -> fields.Raw:
    return fields.Raw(load_default=None, allow_none=True)


class _Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


class LeadReminderIn(_Tolerant):
    lead_id = fields.String(required=True)
    code = fields.String(required=True)
    owner_id = fields.String(required=True)
    owner_team, kind, due_at, escalate_to, reminder_key = _opt(), _opt(), _opt(), _opt(), _opt()


class SupportReminderIn(_Tolerant):
    ticket_id = fields.String(required=True)
    code = fields.String(required=True)
    (
        account_id,
        owner_id,
        assignee_id,
        role,
        kind,
        priority,
        percent,
        due_at,
        metric,
        technician_id,
        starts_at,
        customer,
        agent_id,
        reason,
        account_owner_id,
        place,
        symptoms,
        plan,
        occurred_at,
        roles,
        critical,
        appointment_id,
        visit_id,
        fault_id,
        at,
    ) = (_opt() for _ in range(25))


class AccountsReminderIn(_Tolerant):
    account_id = fields.String(required=True)
    account_code = fields.String(load_default="")
    account_name = fields.String(load_default="")
    (
        owner_id,
        owner_team,
        amount_due,
        currency,
        due_on,
        days_overdue,
        reasons,
        held_at,
        released_by,
        reason,
        request_id,
        kind,
        step,
        approver_role,
        proposed_limit,
        requested_by,
        decision,
        decided_by,
        opinion,
        final,
        increase_id,
        ends_on,
        amount,
        charge_id,
    ) = (_opt() for _ in range(24))


def loader_for(event_type: str) -> Schema:
    if event_type in LEADS:
        return LeadReminderIn()
    if event_type in SUPPORT:
        return SupportReminderIn()
    return AccountsReminderIn()
