"""Find (or start) the PostgreSQL and RabbitMQ servers integration tests run against."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

Found = tuple[str | None, str, Callable[[], None]]


def _noop() -> None:
    pass


def _docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


def postgres_server_url() -> Found:
    url = os.environ.get("CRM_TEST_DATABASE_URL")
    if url:
        return url, "", _noop
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver="psycopg").start()
        return container.get_connection_url(), "", container.stop
    return None, "no PostgreSQL: set CRM_TEST_DATABASE_URL or install Docker", _noop


def amqp_server_url() -> Found:
    url = os.environ.get("CRM_TEST_AMQP_URL")
    if url:
        return url, "", _noop
    if _docker_available():
        from testcontainers.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:3.13-management-alpine").start()
        params = container.get_connection_params()
        url = f"amqp://guest:guest@{params.host}:{params.port}//"
        return url, "", container.stop
    return None, "no RabbitMQ: set CRM_TEST_AMQP_URL or install Docker", _noop


def _admin_engine(server_url: str):  # type: ignore[no-untyped-def]
    return create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database(server_url: str, name: str) -> str:
    engine = _admin_engine(server_url)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    engine = _admin_engine(server_url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
