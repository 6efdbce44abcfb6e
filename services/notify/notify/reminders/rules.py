"""Pure routing: which event reaches whom, on which channels, with which template variables.

Staff are addressed by user id, or by role (``role:<role>`` / ``role:<role>@<team>``) when the
event names a role rather than a person: notify keeps no staff directory, so a role-addressed
note lands in the in-app inbox of everyone holding the role (their token says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import authn

USER, ROLE, CUSTOMER = "user", "role", "customer"


@dataclass(frozen=True)
class Recipient:
    kind: str  # user | role | customer
    id: str  # user id, role audience, or account id
    critical: bool = False
    channels: tuple[str, ...] = ()  # customer channels (staff follow their preferences)
    address: str | None = None
    salutation: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Plan:
    event_type: str
    kind: str
    purpose: str
    context: dict[str, Any]
    recipients: list[Recipient] = field(default_factory=list)
    subject_type: str | None = None
    subject_id: str | None = None


def role_audience(role: str, team: str | None = None) -> str:
    return f"role:{role}@{team}" if team else f"role:{role}"


def audiences(roles: frozenset[str], team: str | None) -> set[str]:
    """Every role audience a member of staff belongs to."""
    out = {role_audience(r) for r in roles}
    if team:
        out |= {role_audience(r, team) for r in roles}
    return out


def salutation(customer: Mapping[str, Any] | None) -> str | None:
    """王总 from {name: 王五, title: 总}; the name alone when there is no title."""
    if not customer or not customer.get("name"):
        return None
    name, title = str(customer["name"]).strip(), customer.get("title")
    return f"{name[:1]}{title}" if title else name


def _customer(data: Mapping[str, Any], account_id: str) -> list[Recipient]:
    c = data.get("customer") or {}
    if not c.get("mobile") or not salutation(c):
        return []
    return [
        Recipient(
            CUSTOMER,
            account_id,
            channels=("sms",),
            address=c["mobile"],
            salutation=salutation(c),
            timezone=c.get("timezone"),
        )
    ]


def _users(*ids: Any, critical: bool = False) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for i in ids:
        if i and i not in seen:
            seen[str(i)] = Recipient(USER, str(i), critical=critical)
    return list(seen.values())


def _kind(event_type: str) -> str:
    return event_type.split(".", 1)[1].rsplit(".", 1)[0]


def plan(
    event_type: str, data: Mapping[str, Any], company: str = "", service_sender: str = "客服部"
) -> Plan | None:
    """The reminders an event causes, or None for events notify ignores."""
    service, _, _ = event_type.partition(".")
    ctx: dict[str, Any] = {
        k: ("" if v is None else v) for k, v in data.items() if not isinstance(v, dict | list)
    }
    ctx["company"] = company
    ctx.setdefault("recipient_name", "")
    kind = str(data.get("kind") or _kind(event_type)) if service == "leads" else _kind(event_type)
    recipients: list[Recipient] = []
    purpose, subject_type, subject_id = "reminder", None, None
    if service == "leads":
        subject_type, subject_id = "lead", data.get("lead_id")
        recipients = _users(data.get("owner_id"))
        if data.get("escalate_to") == "manager":
            recipients.append(Recipient(ROLE, role_audience(authn.SALES_MANAGER, data.get("owner_team"))))
    elif event_type in ("support.sla.warning.v1", "support.sla.breached.v1"):
        critical = event_type.endswith("breached.v1")
        purpose, subject_type, subject_id = "alert", "ticket", data.get("ticket_id")
        recipients = _users(data.get("owner_id"), data.get("assignee_id"), critical=critical)
        if data.get("role"):
            recipients.append(Recipient(ROLE, role_audience(str(data["role"])), critical=critical))
        ctx.setdefault("percent", 100)
    elif event_type in ("support.appointment.scheduled.v1", "support.appointment.reminder_due.v1"):
        subject_type, subject_id = "ticket", data.get("ticket_id")
        ctx.update(salutation=salutation(data.get("customer")) or "", sender_name=service_sender)
        recipients = _users(data.get("technician_id")) + _customer(
            data, str(data.get("account_id") or data.get("ticket_id"))
        )
    elif event_type == "support.return_visit.due.v1":
        subject_type, subject_id = "ticket", data.get("ticket_id")
        recipients = _users(data.get("agent_id")) or [
            Recipient(ROLE, role_audience(authn.SUPPORT_SUPERVISOR))
        ]
    elif event_type == "support.major_fault.reported.v1":
        purpose, subject_type, subject_id = "alert", "ticket", data.get("ticket_id")
        recipients = _users(data.get("owner_id"), data.get("account_owner_id"), critical=True)
        recipients += [Recipient(ROLE, role_audience(str(r)), critical=True) for r in data.get("roles") or ()]
    elif (service == "accounts" and ".credit." in event_type) or event_type == "accounts.payment.overdue.v1":
        subject_type, subject_id = "account", data.get("account_id")
        if "reasons" in data:
            ctx["reasons"] = "; ".join(str(r) for r in data.get("reasons") or ())
        if event_type == "accounts.credit.approval_requested.v1":
            recipients = [
                Recipient(ROLE, role_audience(str(data.get("approver_role") or authn.SALES_OPS_MANAGER)))
            ]
        else:
            recipients = _users(data.get("owner_id"))
            if event_type == "accounts.payment.overdue.v1":
                recipients.append(Recipient(ROLE, role_audience(authn.FINANCE)))
    else:
        return None
    return Plan(
        event_type,
        kind[:50],
        purpose,
        ctx,
        recipients,
        subject_type,
        None if subject_id is None else str(subject_id),
    )
