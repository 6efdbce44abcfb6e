"""App factory of the gateway (``crm-web 'gateway.app:create_app()'``): the composition root
that tests reuse with their own ``GatewayConfig``."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import urllib3
from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from httpapi import install_problem_handlers
from telemetry.http import RequestTelemetry, metrics_payload
from telemetry.tracing import setup_tracing

from .asyncapi import AsyncApiAggregator, asyncapi_blueprint
from .auth import PUBLIC_API, build_verifier, install_guard
from .config import GatewayConfig
from .docs import docs_blueprint
from .fastpath import FastPath
from .health import health_blueprint
from .issuer import TokenIssuer, issuer_blueprint
from .openapi import OPENAPI_PATH, OpenApiAggregator, openapi_blueprint
from .proxy import API_PREFIX, OPS, Proxy, make_pool, proxy_blueprint
from .ratelimit import LimitStore, RateLimiter
from .requestctx import install_request_context
from .throttle import LoginThrottle

log = logging.getLogger("gateway")


@dataclass
class GatewayRuntime:
    """What the app holds open; ``close()`` releases pooled connections and threads."""

    config: GatewayConfig
    client: httpx.Client
    pool: urllib3.PoolManager
    executor: ThreadPoolExecutor
    issuer: TokenIssuer | None
    limiter: RateLimiter
    throttle: LoginThrottle

    def close(self) -> None:
        self.client.close()
        self.pool.clear()
        self.executor.shutdown(wait=False, cancel_futures=True)


def _fanout_client(config: GatewayConfig) -> httpx.Client:
    """For readiness probes and OpenAPI fetches (not the proxied traffic). ``trust_env`` is off
    so an HTTP_PROXY meant for the outside world never captures service-to-service calls."""
    timeout = httpx.Timeout(config.upstream_timeout, connect=config.connect_timeout,
                            pool=config.connect_timeout)
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)


def proxied_route(upstreams: dict[str, str], environ: dict[str, Any]) -> str | None:
    """The route label of a proxied path: per service, never the raw path (ids would make a
    new series per record)."""
    path = environ.get("PATH_INFO", "")
    if not path.startswith(API_PREFIX):
        return None
    head, _, tail = path[len(API_PREFIX):].partition("/")
    if head == OPS:
        service = tail.partition("/")[0]
        return f"{API_PREFIX}{OPS}/{service}/*" if service in upstreams else None
    return f"{API_PREFIX}{head}/*" if head in upstreams else None


def create_app(config: GatewayConfig | None = None) -> Flask:
    config = config or GatewayConfig.from_env()
    setup_tracing("gateway")  # off unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    issuer = TokenIssuer.from_config(config) if config.dev_issuer else None
    verifier = build_verifier(config, issuer)
    limiter = RateLimiter.from_specs(config.rate_limits, config.redis_url, config.redis_prefix)
    throttle = LoginThrottle(LimitStore(config.redis_url, f"{config.redis_prefix}-login", moving=True),
                             config.login_account_limits, config.login_address_limits)
    client = _fanout_client(config)
    pool = make_pool(config)
    # Fan-out for readiness probes and OpenAPI fetches: one task per upstream at a time.
    executor = ThreadPoolExecutor(max_workers=max(4, 2 * len(config.upstreams)),
                                  thread_name_prefix="gateway-fanout")
    runtime = GatewayRuntime(config, client, pool, executor, issuer, limiter, throttle)
    app.extensions["gateway"] = runtime

    # Order matters: the request id first, so the 413/401/429 answers carry it.
    install_request_context(app)
    install_problem_handlers(app)
    install_guard(app, verifier, limiter)

    app.register_blueprint(health_blueprint(client, config.upstreams, config.ready_timeout, executor))
    app.register_blueprint(issuer_blueprint(issuer, throttle))
    app.register_blueprint(openapi_blueprint(OpenApiAggregator(
        client, config.upstreams, executor, timeout=config.openapi_timeout,
        ttl=config.openapi_cache_seconds)))
    app.register_blueprint(asyncapi_blueprint(AsyncApiAggregator(
        client, config.upstreams, executor, broker_host=config.asyncapi_broker,
        exchange=config.events_exchange, timeout=config.openapi_timeout,
        ttl=config.openapi_cache_seconds)))
    app.register_blueprint(docs_blueprint(OPENAPI_PATH))
    proxy = Proxy(config, pool)
    app.register_blueprint(proxy_blueprint(proxy))

    @app.get("/metrics")
    def metrics() -> Response:
        """Prometheus text of every worker process of this gateway (see telemetry)."""
        body, content_type = metrics_payload()
        return Response(body, content_type=content_type)

    app.wsgi_app = FastPath(  # type: ignore[method-assign]
        app.wsgi_app, proxy, verifier, limiter, PUBLIC_API, app.config["MAX_CONTENT_LENGTH"])
    # Around both paths (fast and Flask), so every answer is counted, timed and logged once.
    app.wsgi_app = RequestTelemetry(  # type: ignore[method-assign]
        app.wsgi_app, "gateway", route_of=lambda environ: proxied_route(config.upstreams, environ))
    if config.proxy_hops:  # outermost, so both paths see the client's real address
        n = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    log.info("gateway routes to %s; built-in issuer %s; external JWKS %s; issuer pinned to %r; "
             "rate limits %s in %s", ", ".join(f"{k}={v}" for k, v in config.upstreams.items()),
             "on" if issuer else "off", verifier.jwks_url or "none", config.issuer,
             limiter.describe(), "Redis" if config.redis_url else "memory")
    return app
