"""The native hot path: an nginx configuration generated from the gateway's own route table.

In the distributed and container modes nginx listens where the gateway is expected and proxies
``/api/v1/<service>[/...]`` and ``/api/v1/ops/<service>/...`` straight to the services (the
same prefixes :func:`gateway.proxy.resolve` routes); everything else (the built-in issuer and
its JWKS, the merged OpenAPI and AsyncAPI documents, ``/docs``, ``/healthz``, ``/readyz``,
``/metrics``, unknown paths) goes to the Python gateway behind it. Each request through a
Python process costs about 1.3 ms of CPU that the services then lack; nginx costs a fraction.

The gateway's duties on the hot path, as nginx does them:

- **request ids**: a valid client ``X-Request-ID`` is kept, any other replaced by nginx's
  ``$request_id``; sent upstream and returned. A valid ``traceparent`` passes; a missing or
  broken one is replaced by a new one whose trace id is the request id.
- **rate limits** per caller and route class (read: GET/HEAD/OPTIONS, write: the rest), from
  the same ``GATEWAY_RATE_LIMIT[_READ|_WRITE|_PUBLIC]`` settings: each ``N per S seconds`` item
  becomes a ``limit_req`` zone with rate N/S and burst N. The caller is its credentials (the
  ``Authorization`` or ``X-API-Key`` value; nginx does not verify tokens — every service does);
  requests without any spend the client address's ``public`` budget, and every client address
  has a cap of ten times the read budget, so inventing tokens buys nothing. Zones are shared
  by every nginx worker; with several nginx replicas each enforces ``1/replicas`` of the limit
  (``--replicas``).
- **timeouts and body size**: ``GATEWAY_CONNECT_TIMEOUT``, ``GATEWAY_UPSTREAM_TIMEOUT`` and the
  services' 1 MiB body limit.
- **problem+json** for nginx's own refusals: 413, 429 (with ``Retry-After``), an unreachable
  service 503 (``Retry-After: 5``), a timed-out one 504, an invalid answer 502; the upstream's
  own answers (its problem documents included) pass unchanged.
- **one JSON access line per request** (``crm.access``, the same fields as the Python
  gateway's: request id, trace id, principal, status, duration).

    python -m gateway.nginx render --listen 127.0.0.1:8080 --app 127.0.0.1:8090 --out nginx.conf
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from limits import parse_many

from httpapi.app import PRINCIPAL_HEADER
from httpapi.problems import MAX_BODY_BYTES

from .config import GatewayConfig
from .proxy import API_PREFIX, OPS

ADDRESS_FACTOR = 10  # per client address: this many times the (first) read budget



@dataclass(frozen=True)
class Zone:
    name: str
    key: str
    rate: str  # nginx notation: "100r/s" or "30r/m"
    burst: int


def nginx_rate(amount: int, seconds: int, replicas: int = 1) -> tuple[str, int]:
    """``amount`` per ``seconds`` as an nginx rate and burst, for one of ``replicas`` proxies."""
    per_second = amount / seconds / replicas
    # nginx passes a request whenever the excess stays <= burst: burst + 1 at once.
    burst = max(0, math.ceil(amount / replicas) - 1)
    if per_second >= 1:
        return f"{max(1, round(per_second))}r/s", burst
    return f"{max(1, round(per_second * 60))}r/m", burst


def zones(rate_limits: Mapping[str, str], replicas: int = 1) -> list[Zone]:
    """One ``limit_req`` zone per route class and limit item; the address cap last."""
    out: list[Zone] = []
    for route in ("read", "write", "public"):
        spec = rate_limits.get(route, "")
        for i, item in enumerate(parse_many(spec) if spec else []):
            rate, burst = nginx_rate(item.amount, item.get_expiry(), replicas)
            out.append(Zone(f"crm_{route}_{i}", f"$crm_key_{route}", rate, burst))
    read = rate_limits.get("read", "")
    if read:
        first = parse_many(read)[0]
        rate, burst = nginx_rate(first.amount * ADDRESS_FACTOR, first.get_expiry(), replicas)
        out.append(Zone("crm_address", "$binary_remote_addr", rate, burst))
    return out


def _problem(status: int, title: str, detail: str, retry_after: str | None = None) -> str:
    """A named location answering a problem document with the request's id and path."""
    head = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    # nginx fills in the variables inside the literal at answer time.
    body = head[:-1] + ', "instance": "$crm_path_json", "request_id": "$crm_request_id"}'
    lines = [f"        location @crm_{status} {{",
             "            default_type application/problem+json;",
             "            add_header X-Request-ID $crm_request_id always;"]
    if retry_after:
        lines.append(f"            add_header Retry-After {retry_after} always;")
    lines += [f"            return {status} '{body}';", "        }"]
    return "\n".join(lines)


def _location(match: str, upstream: str, route: str, common: Path, uri: str = "") -> str:
    return (f"        location {match} {{\n"
            f"            set $crm_route \"{route}\";\n"
            f"            proxy_pass http://{upstream}{uri};\n"
            f"            include {common};\n"
            "        }")


_TEMPLATE = r"""# Generated by `python -m gateway.nginx render` from the gateway's route table
# (GATEWAY_UPSTREAMS) and settings; do not edit (re-render instead).
@@DAEMON@@worker_processes @@WORKERS@@;
pid @@RUN@@/nginx.pid;
error_log @@ERROR_LOG@@ warn;
events { worker_connections 4096; }

http {
    client_body_temp_path @@RUN@@/tmp/body;
    proxy_temp_path @@RUN@@/tmp/proxy;
    fastcgi_temp_path @@RUN@@/tmp/fastcgi;
    uwsgi_temp_path @@RUN@@/tmp/uwsgi;
    scgi_temp_path @@RUN@@/tmp/scgi;
    server_tokens off;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 10000;
    client_max_body_size @@MAX_BODY@@;
    client_body_buffer_size @@MAX_BODY@@;
    default_type application/octet-stream;
    map_hash_bucket_size 128;

    # Request id: the client's when it is short and header-safe, else nginx's own.
    map $http_x_request_id $crm_request_id {
        "~^[A-Za-z0-9._:@+/=-]{1,128}$" $http_x_request_id;
        default $request_id;
    }
    # W3C trace context: a valid parent passes; otherwise a new trace (its id = the request id).
    map $http_traceparent $crm_traceparent_ok {
        "~^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$" 1;
        default 0;
    }
    map $request_id $crm_new_traceparent {
        "~^(?<crm_span>[0-9a-f]{16})" "00-$request_id-$crm_span-01";
    }
    map $crm_traceparent_ok $crm_traceparent { 1 $http_traceparent; default $crm_new_traceparent; }
    map $crm_traceparent_ok $crm_tracestate { 1 $http_tracestate; default ""; }
    map $crm_traceparent $crm_trace_id { "~^00-(?<crm_tid>[0-9a-f]{32})-" $crm_tid; default ""; }
    # The caller's rate-limit key per route class (an empty key is not counted by that zone).
    map $request_method $crm_read_method { GET 1; HEAD 1; OPTIONS 1; default 0; }
    map "$crm_read_method:$http_authorization$http_x_api_key" $crm_key_read {
        "~^1:(?<crm_k>.+)$" $crm_k;
        default "";
    }
    map "$crm_read_method:$http_authorization$http_x_api_key" $crm_key_write {
        "~^0:(?<crm_k>.+)$" $crm_k;
        default "";
    }
    map "$http_authorization$http_x_api_key" $crm_key_public {
        "" $binary_remote_addr;
        default "";
    }
    # The access line: milliseconds from nginx's "seconds.milliseconds".
    map $request_time $crm_duration_ms {
        "~^0\.0*(?<crm_ms>[0-9]+)$" "$crm_ms.0";
        "~^(?<crm_s>[0-9]+)\.(?<crm_ms3>[0-9]{3})$" "$crm_s$crm_ms3.0";
        default "0.0";
    }
    # A problem document's "instance": the path when it needs no JSON escaping.
    map $uri $crm_path_json { "~^[A-Za-z0-9/._~:@!&()*+,;=%-]*$" $uri; default "(path not shown)"; }
    map $status $crm_level { "~^5" "ERROR"; default "INFO"; }

    log_format crm_access escape=json '{"ts":"$time_iso8601","level":"$crm_level",'
        '"logger":"crm.access","message":"$request_method $uri $status ${crm_duration_ms}ms",'
        '"service":"gateway","proxy":"nginx","method":"$request_method","path":"$uri",'
        '"route":"$crm_route","status":$status,"duration_ms":$crm_duration_ms,'
        '"principal":"$upstream_http_x_crm_principal","request_id":"$crm_request_id",'
        '"trace_id":"$crm_trace_id","upstream":"$upstream_addr",'
        '"upstream_status":"$upstream_status","bytes_sent":$bytes_sent,"client":"$remote_addr"}';
    access_log @@ACCESS_LOG@@ crm_access buffer=32k flush=1s;

@@ZONES@@
    limit_req_status 429;
    limit_req_log_level warn;

@@UPSTREAMS@@
    upstream crm_gateway_app {
        server @@APP@@ max_fails=0;
        keepalive 32;
        keepalive_timeout 1s;
    }

    server {
        listen @@LISTEN@@ reuseport backlog=4096;
        set $crm_route "";
        error_page 413 = @crm_413;
        error_page 429 = @crm_429;
        error_page 502 = @crm_503;
        error_page 504 = @crm_504;

        location / {
            # Issuer, JWKS, merged documents, docs, probes, metrics, unknown paths.
            proxy_pass http://crm_gateway_app;
            include @@RUN@@/headers.inc;
            proxy_set_header Host $http_host;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_redirect off;
            access_log off;  # the Python gateway writes its own access line
        }

@@LOCATIONS@@

@@PROBLEMS@@
    }
}
"""

_HEADERS_INC = r"""# Generated by `python -m gateway.nginx render`; do not edit (re-render instead).
# What every upstream gets: keep-alive, the request id, trace context, the client's address.
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header X-Request-ID $crm_request_id;
proxy_set_header traceparent $crm_traceparent;
proxy_set_header tracestate $crm_tracestate;
proxy_set_header X-Forwarded-For $remote_addr;
proxy_set_header X-Forwarded-Proto $scheme;
proxy_set_header X-Forwarded-Host $http_host;
"""

_PROXY_INC = r"""# Generated by `python -m gateway.nginx render`; do not edit (re-render instead).
include @@RUN@@/headers.inc;
proxy_set_header Accept-Encoding "";
proxy_hide_header @@PRINCIPAL@@;
proxy_hide_header X-Request-ID;
proxy_connect_timeout @@CONNECT@@s;
proxy_send_timeout @@READ@@s;
proxy_read_timeout @@READ@@s;
# A kept connection that fails before an answer is retried once on a new one (idempotent
# methods only; nginx never resends a POST).
proxy_next_upstream error;
proxy_redirect default;
add_header X-Request-ID $crm_request_id always;
@@LIMITS@@
"""


def render(config: GatewayConfig, *, listen: str, app: str, run_dir: str | Path,
           replicas: int = 1, access_log: str = "/dev/stdout", error_log: str = "stderr",
           worker_processes: str = "auto", max_body: int = MAX_BODY_BYTES,
           foreground: bool = True) -> dict[str, str]:
    """The files of one nginx instance (name → text): ``nginx.conf``, its ``proxy.inc`` (the
    services' locations) and ``headers.inc`` (what every upstream gets).
    ``listen``: where clients connect (``host:port``); ``app``: the Python gateway."""
    run = Path(run_dir)
    common = run / "proxy.inc"
    limit_zones = zones(config.rate_limits, replicas)
    upstreams, locations = [], []
    for service, base in config.upstreams.items():
        hostport = base.split("://", 1)[1].rstrip("/")
        # Idle connections are closed by nginx before the service's web server closes them
        # (servers close idle keep-alive connections after a few seconds): a request sent on a connection
        # the server is closing at that moment would otherwise fail with a 502.
        upstreams.append(f"    upstream crm_{service} {{\n        server {hostport} max_fails=0;\n"
                         "        keepalive 64;\n        keepalive_timeout 1s;\n    }")
        route = f"{API_PREFIX}{service}/*"
        locations.append(_location(f"= {API_PREFIX}{service}", f"crm_{service}", route, common))
        locations.append(_location(f"^~ {API_PREFIX}{service}/", f"crm_{service}", route, common))
        locations.append(_location(f"^~ {API_PREFIX}{OPS}/{service}/", f"crm_{service}",
                                   f"{API_PREFIX}{OPS}/{service}/*", common, "/ops/"))
    problems = [
        _problem(413, "Payload Too Large", f"the body may be at most {max_body} bytes"),
        _problem(429, "Too Many Requests", "rate limit exceeded; retry in 1 s", "1"),
        _problem(503, "Service Unavailable", "the service is unreachable", "5"),
        _problem(504, "Gateway Timeout",
                 f"the service did not answer within {config.upstream_timeout:g} s"),
    ]
    values = {
        "DAEMON": "daemon off;\n" if foreground else "",
        "WORKERS": worker_processes, "RUN": str(run), "ERROR_LOG": error_log,
        "ACCESS_LOG": access_log, "MAX_BODY": str(max_body), "APP": app, "LISTEN": listen,
        "ZONES": "\n".join(f"    limit_req_zone {z.key} zone={z.name}:32m rate={z.rate};"
                           for z in limit_zones),
        "UPSTREAMS": "\n".join(upstreams), "LOCATIONS": "\n".join(locations),
        "PROBLEMS": "\n".join(problems),
    }
    conf = _TEMPLATE
    for key, value in values.items():
        conf = conf.replace(f"@@{key}@@", value)
    inc = _PROXY_INC
    for key, value in {"RUN": str(run), "PRINCIPAL": PRINCIPAL_HEADER,
                       "CONNECT": f"{config.connect_timeout:g}",
                       "READ": f"{config.upstream_timeout:g}",
                       "LIMITS": "\n".join(f"limit_req zone={z.name} burst={z.burst} nodelay;"
                                           for z in limit_zones)}.items():
        inc = inc.replace(f"@@{key}@@", value)
    return {"nginx.conf": conf, "proxy.inc": inc, "headers.inc": _HEADERS_INC}


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (kustomize's env files); comments and blank lines skipped."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def write(files: Mapping[str, str], run_dir: str | Path) -> Path:
    """Write the rendered files (and nginx's temporary directories) into ``run_dir``."""
    run = Path(run_dir)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        # nginx's workers drop privileges (nobody, nginx) when started as root and buffer
        # large bodies and answers here.
        (run / "tmp" / sub).chmod(0o1777)
    for name, text in files.items():
        (run / name).write_text(text)
    return run / "nginx.conf"


def render_ingress(config: GatewayConfig, *, host: str = "crm.example.com",
                   max_body: int = MAX_BODY_BYTES) -> str:
    """The Kubernetes form of the same front door: ingress-nginx ``Ingress`` objects with one
    path per route of the table to its Service, ``/`` to the gateway. Limits per caller are
    ingress-nginx's global rate limit keyed on the credentials (shared by every controller
    replica through its memcached), timeouts and body size as the gateway's settings."""
    read = parse_many(config.rate_limits.get("read") or "400 per 4 seconds")[0]
    common = {
        "nginx.ingress.kubernetes.io/proxy-body-size": f"{max(1, max_body // (1 << 20))}m",
        "nginx.ingress.kubernetes.io/proxy-connect-timeout": f"{config.connect_timeout:g}",
        "nginx.ingress.kubernetes.io/proxy-read-timeout": f"{config.upstream_timeout:g}",
        "nginx.ingress.kubernetes.io/proxy-send-timeout": f"{config.upstream_timeout:g}",
        "nginx.ingress.kubernetes.io/global-rate-limit": str(read.amount),
        "nginx.ingress.kubernetes.io/global-rate-limit-window": f"{read.get_expiry()}s",
        "nginx.ingress.kubernetes.io/global-rate-limit-key": "$http_authorization$http_x_api_key$remote_addr",
        "nginx.ingress.kubernetes.io/custom-http-errors": "",
    }
    docs = []

    def ingress(name: str, paths: list[tuple[str, str, str, int]], extra: dict[str, str]) -> str:
        notes = "\n".join(f"    {k}: {json.dumps(v)}" for k, v in {**common, **extra}.items() if v)
        rules = "\n".join(
            f"          - path: {path}\n            pathType: {kind}\n            backend:\n"
            f"              service:\n                name: {svc}\n                port:\n"
            f"                  number: {port}" for path, kind, svc, port in paths)
        return (f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n"
                f"  annotations:\n{notes}\nspec:\n  ingressClassName: nginx\n  rules:\n"
                f"    - host: {host}\n      http:\n        paths:\n{rules}\n")

    api = []
    for service, base in config.upstreams.items():
        target, _, port = base.split("://", 1)[1].rstrip("/").partition(":")
        api.append((f"{API_PREFIX}{service}", "Prefix", target, int(port or 80)))
    docs.append(ingress("crm-api", api, {}))
    ops = []
    for service, base in config.upstreams.items():
        target, _, port = base.split("://", 1)[1].rstrip("/").partition(":")
        ops.append((f"{API_PREFIX}{OPS}/{service}(/|$)(.*)", "ImplementationSpecific", target,
                    int(port or 80)))
    docs.append(ingress("crm-ops", ops, {"nginx.ingress.kubernetes.io/use-regex": "true",
                                         "nginx.ingress.kubernetes.io/rewrite-target": "/ops/$2"}))
    docs.append(ingress("crm-gateway", [("/", "Prefix", "gateway", 8080)], {
        "nginx.ingress.kubernetes.io/global-rate-limit": "",
        "nginx.ingress.kubernetes.io/global-rate-limit-window": "",
        "nginx.ingress.kubernetes.io/global-rate-limit-key": ""}))
    head = ("# Generated by `python -m gateway.nginx ingress` from gateway.env's route table; do not\n"
            "# edit (re-render). The API goes straight to the services; the rest to the gateway.\n")
    return head + "---\n".join(docs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.nginx", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="write nginx.conf and proxy.inc from the gateway's settings")
    r.add_argument("--listen", default=os.environ.get("CRM_NGINX_LISTEN", "0.0.0.0:8080"))
    r.add_argument("--app", default=os.environ.get("CRM_GATEWAY_APP", "127.0.0.1:8090"),
                   help="host:port of the Python gateway (issuer, documents, docs, probes)")
    r.add_argument("--out", default=os.environ.get("CRM_NGINX_DIR", "var/nginx"),
                   help="directory for nginx.conf, proxy.inc, its pid and temporary files")
    r.add_argument("--replicas", type=int, default=int(os.environ.get("CRM_NGINX_REPLICAS", "1")),
                   help="nginx instances sharing the traffic: each enforces 1/replicas of a limit")
    r.add_argument("--access-log", default="/dev/stdout")
    r.add_argument("--error-log", default="stderr")
    r.add_argument("--workers", default=os.environ.get("CRM_NGINX_WORKERS", "auto"))
    i = sub.add_parser("ingress", help="print ingress-nginx Ingress objects for the route table")
    i.add_argument("--env-file", help="read settings from this KEY=VALUE file (e.g. gateway.env)")
    i.add_argument("--host", default="crm.example.com")
    args = parser.parse_args(argv)
    if args.command == "ingress":
        env = dict(os.environ)
        if args.env_file:
            env.update(read_env_file(Path(args.env_file)))
        print(render_ingress(GatewayConfig.from_env(env), host=args.host), end="")
        return 0
    config = GatewayConfig.from_env()
    files = render(config, listen=args.listen, app=args.app, run_dir=Path(args.out).resolve(),
                   replicas=max(1, args.replicas), access_log=args.access_log,
                   error_log=args.error_log, worker_processes=args.workers)
    path = write(files, Path(args.out).resolve())
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
