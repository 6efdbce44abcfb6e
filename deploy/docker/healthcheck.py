#!/usr/bin/env python3
"""Container health check: ``crm-healthcheck [URL] [TIMEOUT]``.

Exits 0 when URL answers 2xx within TIMEOUT seconds, 1 otherwise. The slim base image has no
curl or wget, and this needs nothing beyond the standard library. Proxies from the
environment are ignored: the probe always talks to this container itself.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/readyz"


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else DEFAULT_URL
    timeout = float(argv[2]) if len(argv) > 2 else 3.0
    if not url.startswith(("http://", "https://")):
        print(f"unhealthy: not an http(s) URL: {url}", file=sys.stderr)
        return 1
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return 0 if 200 <= resp.status < 300 else 1
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
