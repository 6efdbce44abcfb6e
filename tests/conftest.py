"""Shared fixtures: real PostgreSQL, RabbitMQ and Redis, a test token issuer, isolated names.

Servers are found through environment variables (CRM_TEST_DATABASE_URL, CRM_TEST_AMQP_URL);
without them, testcontainers starts them when Docker is available; otherwise integration
tests are skipped with the reason, unless CRM_REQUIRE_INTEGRATION=1 (as in CI), which turns
the skip into a failure so CI always runs the real tiers.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from testkit.issuer import TestIssuer
from testkit.servers import amqp_server_url, create_database, drop_database, postgres_server_url


def _unavailable(reason: str) -> None:
    if os.environ.get("CRM_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"integration servers required but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    url, reason, stop = postgres_server_url()
    if url is None:
        _unavailable(reason)
    yield url
    stop()


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    url, reason, stop = amqp_server_url()
    if url is None:
        _unavailable(reason)
    yield url
    stop()


@pytest.fixture(scope="session")
def redis_server() -> str:
    """Redis for the gateway's shared counters: CRM_TEST_REDIS_URL, else the local one."""
    url = os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"no Redis at {url}: {exc}")
    return url


@pytest.fixture
def redis_prefix(redis_server: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_server)
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (SQLAlchemy URL)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = create_database(pg_server, name)
    yield url
    drop_database(pg_server, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database for one service-tier test, once on each backend: SQLite (what the
    embedded ``make run`` uses) and PostgreSQL (the distributed mode), so behaviour cannot
    differ between them unnoticed."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/service.db"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def isolated_bus(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh exchange and queue prefix so tests sharing one broker never see each other."""
    tag = uuid.uuid4().hex[:10]
    monkeypatch.setenv("EVENTS_EXCHANGE", f"test.{tag}.events")
    monkeypatch.setenv("EVENTS_QUEUE_PREFIX", f"test.{tag}")
    return tag


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()
