from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from notify.app import create_app
from notify.channels import DeliveryError, Outgoing
from notify.models import Notification
from notify.wiring import NotifyContext, build


@pytest.fixture
def notify_ctx(db_url: str, isolated_bus: str) -> NotifyContext:
    return build(db_url, "memory://")


@pytest.fixture
def client(notify_ctx: NotifyContext, issuer) -> FlaskClient:  # type: ignore[no-untyped-def]
    return create_app(notify_ctx, verifier=issuer.verifier()).test_client()


@pytest.fixture
def notification(notify_ctx: NotifyContext) -> Callable[..., str]:
    """Put a notification straight into the database; each one a second newer than the last."""
    base = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    made: list[str] = []

    def add(recipient_id: str, title: str = "Lead converted", read: bool = False) -> str:
        at = base + timedelta(seconds=len(made))
        note = Notification(
            id=str(uuid.uuid4()), recipient_id=recipient_id, kind="lead_converted", title=title,
            body=f"{title} for {recipient_id}", subject_type="account", subject_id=str(uuid.uuid4()),
            source_event_id=str(uuid.uuid4()), created_at=at, read_at=at if read else None,
        )
        with notify_ctx.bus.session_factory() as s, s.begin():
            s.add(note)
        made.append(note.id)
        return note.id

    return add


class FakeClock:
    """The service's clock in tests: set and advanced by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeSender:
    """A channel that fails the first ``failures`` sends (temporarily unless ``permanent``)."""

    def __init__(self, failures: int = 0, permanent: bool = False) -> None:
        self.failures, self.permanent = failures, permanent
        self.sent: list[Outgoing] = []
        self.calls = 0

    def send(self, message: Outgoing) -> str | None:
        self.calls += 1
        if self.calls <= self.failures:
            raise DeliveryError(f"try {self.calls} failed", permanent=self.permanent)
        self.sent.append(message)
        return f"ref-{len(self.sent)}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 1, 4, 0, tzinfo=UTC))  # Tuesday 12:00 in Shanghai


@pytest.fixture
def email_sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def ctx(db_url: str, isolated_bus: str, clock: FakeClock, email_sender: FakeSender) -> NotifyContext:
    """The service on the fake clock, e-mail to a fake sender, SMS to the recording provider."""
    return build(db_url, "memory://", clock=clock, senders={"email": email_sender})
