"""``crm-web``'s settings: the command line wins over the environment, bad values are refused
with a usage error (exit 2), never a traceback."""

from __future__ import annotations

from typing import Any

import pytest

from telemetry.webserver import logging_config, parse_args


def settings(args: Any) -> tuple[Any, ...]:
    return args.host, args.port, args.workers, args.threads, args.graceful_timeout


def test_defaults_then_environment_then_command_line() -> None:
    assert settings(parse_args(["leads.app:create_app()"], {})) == ("127.0.0.1", 8000, 2, 4, 20)
    env = {"WEB_BIND": "0.0.0.0:9000", "WEB_CONCURRENCY": "3", "WEB_THREADS": "8",
           "WEB_GRACEFUL_TIMEOUT": "5"}
    assert settings(parse_args(["x:app"], env)) == ("0.0.0.0", 9000, 3, 8, 5)
    args = parse_args(["x:app", "--bind", "[::1]:8080", "--workers", "1", "--threads", "2"], env)
    assert (args.host, args.port, args.workers, args.threads) == ("::1", 8080, 1, 2)
    assert parse_args(["x:app", "--bind", ":7000"], {}).host == "0.0.0.0"


@pytest.mark.parametrize(("argv", "env"), [
    (["x:app", "--bind", "localhost"], {}),
    (["x:app", "--bind", "localhost:http"], {}),
    (["x:app", "--workers", "0"], {}),
    (["x:app"], {"WEB_THREADS": "many"}),
    (["x:app"], {"WEB_CONCURRENCY": "-1"}),
])
def test_bad_settings_are_a_usage_error(argv: list[str], env: dict[str, str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv, env)
    assert stopped.value.code == 2
    assert "crm-web: error:" in capsys.readouterr().err


def test_the_servers_own_lines_use_the_crm_format() -> None:
    config = logging_config("INFO", "json")
    assert config["formatters"]["crm"]["()"] == "telemetry.logs.JsonFormatter"
    assert config["loggers"]["_granian"] == {"level": "INFO", "handlers": [], "propagate": True}
    assert config["loggers"]["granian.access"]["propagate"] is False  # the app logs each request
    assert config["loggers"]["httpcore"] == config["loggers"]["kombu"] == {"level": "WARNING"}
    assert logging_config("DEBUG", "text")["formatters"]["crm"]["()"] == "telemetry.logs.TextFormatter"
