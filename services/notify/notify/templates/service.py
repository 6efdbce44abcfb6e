"""Save templates (validated at save time) and resolve the text for a message."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import rules
from .models import Template


class DuplicateTemplateError(ValueError):
    """A template for that (event type, channel, language) exists already (409)."""


def create(session: Session, data: Mapping[str, Any], actor: str, now: datetime) -> Template:
    rules.validate(data["event_type"], data["subject"], data["body"])
    if (
        session.scalar(
            select(Template.id).where(
                Template.event_type == data["event_type"],
                Template.channel == data["channel"],
                Template.language == data["language"],
            )
        )
        is not None
    ):
        raise DuplicateTemplateError("a template for this event type, channel and language exists")
    t = Template(
        id=str(uuid.uuid4()),
        event_type=data["event_type"],
        channel=data["channel"],
        language=data["language"],
        subject=data["subject"],
        body=data["body"],
        product_content=data.get("product_content", False),
        version=1,
        updated_at=now,
        updated_by=actor,
    )
    session.add(t)
    session.flush()
    return t


def update(session: Session, t: Template, changes: Mapping[str, Any], actor: str, now: datetime) -> Template:
    subject, body = changes.get("subject", t.subject), changes.get("body", t.body)
    rules.validate(t.event_type, subject, body)
    t.subject, t.body = subject, body
    if "product_content" in changes:
        t.product_content = changes["product_content"]
    t.version += 1
    t.updated_at, t.updated_by = now, actor
    session.flush()
    return t


def resolve(session: Session, event_type: str, channel: str, language: str) -> tuple[rules.Text, bool] | None:
    """The text for a message: the saved template in that language, else zh-CN, else the
    built-in default; with whether it carries product content."""
    for lang in dict.fromkeys((language, "zh-CN", "en")):
        t = session.scalar(
            select(Template).where(
                Template.event_type == event_type, Template.channel == channel, Template.language == lang
            )
        )
        if t is not None:
            return rules.Text(t.subject, t.body), t.product_content
    text = rules.default_text(event_type, channel, language)
    return (text, False) if text is not None else None
