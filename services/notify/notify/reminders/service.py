"""Deliver the reminders an event causes: in-app for every staff recipient, e-mail / SMS as
each one chose, SMS to the customer where the event carries one; each exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..channels import inapp
from ..domain import Draft
from ..messages import rules as mrules
from ..messages import service as messages
from ..messages.models import Message
from ..policy.service import current_policy
from ..preferences.service import prefs_of
from ..templates import rules as trules
from ..templates import service as templates
from .rules import CUSTOMER, USER, Plan

log = logging.getLogger(__name__)
Emit = Callable[[Session, str, dict[str, Any], str | None], object]


def _text(
    session: Session, plan: Plan, channel: str, language: str, extra: dict[str, Any] | None = None
) -> tuple[str, str, bool] | None:
    found = templates.resolve(session, plan.event_type, channel, language)
    if found is None:
        return None
    text, product = found
    ctx = {**trules.sample_context(plan.event_type), **plan.context, **(extra or {})}
    try:
        subject, body = trules.render(text.subject, text.body, ctx)
    except trules.TemplateRuleError:
        log.exception("template for %s/%s/%s does not render", plan.event_type, channel, language)
        return None
    return subject, body, product


def deliver(
    session: Session, event_id: str, plan: Plan, now: datetime, emit: Emit, sender_name: str = "客服部"
) -> list[Message]:
    """Everything ``plan`` says, keyed by ``event_id`` so a redelivery creates nothing new."""
    policy = current_policy(session)
    queued: list[Message] = []
    for r in plan.recipients:
        if r.kind == CUSTOMER:
            for channel in r.channels:
                text = _text(
                    session, plan, channel, "zh-CN", {"salutation": r.salutation, "sender_name": sender_name}
                )
                if text is None or not r.address:
                    continue
                draft = mrules.MessageDraft(
                    channel=channel,
                    audience=mrules.CUSTOMER,
                    recipient_id=r.id,
                    address=r.address,
                    subject=text[0],
                    body=text[1],
                    purpose=plan.purpose,
                    timezone=r.timezone,
                    salutation=r.salutation,
                    sender_name=sender_name,
                    product_content=text[2],
                    source_event_id=event_id,
                    event_type=plan.event_type,
                    subject_type=plan.subject_type,
                    subject_id=plan.subject_id,
                )
                queued.append(_queue(session, draft, now, policy, event_id))
            continue
        prefs = prefs_of(session, r.id) if r.kind == USER else None
        language = prefs.language if prefs else "zh-CN"
        text = _text(session, plan, mrules.INAPP, language)
        if text is None:
            continue
        inapp.deliver(
            session,
            event_id,
            Draft(r.id, plan.kind, text[0], text[1], plan.subject_type or "", plan.subject_id or ""),
            now,
            emit,
        )
        for channel, address in prefs.routes() if prefs else []:
            if channel == mrules.INAPP:
                continue
            other = _text(session, plan, channel, language) or text
            draft = mrules.MessageDraft(
                channel=channel,
                audience=mrules.STAFF,
                recipient_id=r.id,
                address=address,
                subject=other[0],
                body=other[1],
                purpose=plan.purpose,
                critical=r.critical,
                timezone=prefs.timezone if prefs else None,
                language=language,
                source_event_id=event_id,
                event_type=plan.event_type,
                subject_type=plan.subject_type,
                subject_id=plan.subject_id,
            )
            queued.append(_queue(session, draft, now, policy, event_id, prefs.quiet if prefs else None))
    return queued


def _queue(
    session: Session,
    draft: mrules.MessageDraft,
    now: datetime,
    policy: Any,
    key: str,
    quiet: mrules.Quiet | None = None,
) -> Message:
    try:
        return messages.enqueue(session, draft, now, policy, key=key, quiet=quiet)[0]
    except mrules.MessageRuleError as exc:
        return messages.record_refused(session, draft, now, key, str(exc))
