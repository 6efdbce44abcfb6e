#!/bin/sh
# Default command of the CRM image: says which command runs which role. Installed as
# /usr/local/bin/crm-usage; kept in sync with docs/operations.md ("Processes and ports").
cat <<'USAGE'
CRM image: one image for every process; the command chooses the role.

  Service web (SERVICE = leads | accounts | support | notify), port 8000:
    gunicorn --bind 0.0.0.0:8000 'SERVICE.app:create_app()'
  Service worker (outbox relay + event consumer), probes on WORKER_HEALTH_PORT (e.g. 9000):
    SERVICE-worker run
  Gateway, port 8080:
    gunicorn --bind 0.0.0.0:8080 'gateway.app:create_app()'

  Operator tools (same environment as the worker):
    SERVICE-worker outbox                 unsent outbox rows and the oldest one's age
    SERVICE-worker depths                 depth of crm.SERVICE and crm.SERVICE.parked
    SERVICE-worker parked [--limit N]     list parked (dead-lettered) messages
    SERVICE-worker replay --id EVENT_ID   put one parked message back on the queue
    SERVICE-worker replay --all           put every parked message back
  One-off migration (when MIGRATE_ON_START=0):
    python -c 'from SERVICE.wiring import build; build()'

  Everything in one process (demo only: SQLite, in-process broker, demo users):
    docker run --rm -p 8080:8080 -e CRM_HOST=0.0.0.0 IMAGE crm-embedded

Configuration comes only from environment variables: SERVICE_DATABASE_URL, EVENTS_BROKER_URL,
AUTH_JWKS_URL, ... (see docs/operations.md). Probes: /healthz, /readyz, /metrics.
USAGE
