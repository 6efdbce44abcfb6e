#!/bin/sh
# Default command of the CRM image: says which command runs which role. Installed as
# /usr/local/bin/crm-usage; kept in sync with docs/operations.md ("Processes and ports").
cat <<'USAGE'
CRM image: one image for every process; the command chooses the role.

  Service web (SERVICE = leads | accounts | support | notify), port 8000:
    crm-web --bind 0.0.0.0:8000 'SERVICE.app:create_app()'
  Service worker (outbox relay + event consumer), probes on WORKER_HEALTH_PORT (e.g. 9000):
    SERVICE-worker run
  Gateway, port 8080:
    crm-web --bind 0.0.0.0:8080 'gateway.app:create_app()'

  Schema (before the web and worker processes when MIGRATE_ON_START=0; fails loudly):
    crm-migrate                           every service's schema to this release
    SERVICE-worker migrate                one service's

  Operator tools (same environment as the worker; read-only ones never migrate):
    SERVICE-worker outbox                 unsent outbox rows and the oldest one's age
    SERVICE-worker depths                 depth of crm.SERVICE and crm.SERVICE.parked
    SERVICE-worker parked [--limit N]     list parked (dead-lettered) messages
    SERVICE-worker replay --id EVENT_ID   put one parked message back on the queue (exit 3: no such id)
    SERVICE-worker replay --all           put every parked message back
    SERVICE-worker discard --id EVENT_ID  remove one parked message for good (exit 3: no such id)
    SERVICE-worker discard --type T --older-than 7d --yes   remove those matching a filter
  Whole system:
    crm-backup --out DIR                  every service's database (pg_dump -Fc) + manifest
    crm-restore DIR --yes                 put a backup back, checking every table's rows
    crm-broker-users definitions|apply    a RabbitMQ user per service (see docs/operations.md)

  Everything in one process (demo only: SQLite, in-process broker, demo users):
    docker run --rm -p 8080:8080 -e CRM_HOST=0.0.0.0 IMAGE crm-embedded

Configuration comes only from environment variables: SERVICE_DATABASE_URL, EVENTS_BROKER_URL,
AUTH_JWKS_URL, ... (see docs/operations.md). Probes: /healthz, /readyz, /metrics.
USAGE
