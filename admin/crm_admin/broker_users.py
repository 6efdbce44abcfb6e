"""``crm-broker-users``: a RabbitMQ user per service, and users for outside subscribers.

Each service's user may only touch what is its own: configure (declare, delete) its queues
``<prefix>.<svc>``, ``<prefix>.<svc>.*`` (retry, parking) and its forward exchange
``<prefix>.<svc>.forward``; write (publish) to the events exchange, the dead-letter exchange
(RabbitMQ requires it of a queue that dead-letters there) and its own queues and forward
exchange; read (consume, and bind from) its own queues and the events and dead-letter
exchanges. It cannot consume or purge another service's queue, and cannot publish to the
default exchange, through which any queue could be reached.

An outside subscriber's user (``--subscriber NAME[:QUEUE_PREFIX]``) may declare and bind only
queues under its own prefix, read the events exchange, and never publish to it.

The shared exchanges are created here too (users may check but not create them), as a
RabbitMQ definitions document:

    crm-broker-users definitions > defs.json     # to import, e.g. rabbitmqctl import_definitions
    crm-broker-users apply                       # the same, straight into rabbitmqctl (idempotent)
    crm-broker-users delete --user crm_leads     # remove users (rabbitmqctl delete_user)
    crm-broker-users show                        # the permissions, without passwords

``--monitor USER`` adds a user that may only read queue depths (KEDA); ``--admin USER`` an
administrator.

Passwords come from ``--passwords FILE`` (JSON ``{"user": "password"}``; with ``--generate``
missing ones are created there, mode 0600) or from ``BROKER_PASSWORD_<USER>`` variables.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import SERVICES

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class Grant:
    user: str
    configure: str
    write: str
    read: str
    tags: str = ""


def _own(name: str) -> str:
    """A resource named ``name`` or anything below it (``name.…``), and nothing else."""
    return rf"{re.escape(name)}(\..*)?"


def service_grant(user: str, service: str, prefix: str, exchange: str) -> Grant:
    own = _own(f"{prefix}.{service}")
    events, dlx = re.escape(exchange), re.escape(f"{exchange}.dlx")
    # Write on the dead-letter exchange: RabbitMQ requires it to declare a queue that
    # dead-letters there (the main queue parks what exceeds its delivery limit).
    return Grant(user, configure=f"^{own}$", write=f"^({own}|{events}|{dlx})$",
                 read=f"^({own}|{events}|{dlx})$")


def subscriber_grant(user: str, queue_prefix: str, exchange: str) -> Grant:
    own = _own(queue_prefix)
    return Grant(user, configure=f"^{own}$", write=f"^{own}$", read=f"^({own}|{re.escape(exchange)})$")


def monitor_grant(user: str) -> Grant:
    """Access to the vhost and nothing else: enough to read queue depths (a passive declare
    needs no permission), e.g. for KEDA; the ``monitoring`` tag lets it use the management API."""
    return Grant(user, configure="^$", write="^$", read="^$", tags="monitoring")


def admin_grant(user: str) -> Grant:
    """The operator's user (management UI, rabbitmqctl-free administration)."""
    return Grant(user, configure=".*", write=".*", read=".*", tags="administrator")


def grants(services: Sequence[str], subscribers: Sequence[str], *, prefix: str, exchange: str,
           user_prefix: str, monitor: str | None = None, admin: str | None = None) -> list[Grant]:
    out = [service_grant(f"{user_prefix}{s}", s, prefix, exchange) for s in services]
    if monitor:
        out.append(monitor_grant(monitor))
    if admin:
        out.append(admin_grant(admin))
    for spec in subscribers:
        name, _, queue_prefix = spec.partition(":")
        queue_prefix = queue_prefix or name
        if queue_prefix == prefix or queue_prefix.startswith(f"{prefix}."):
            raise ValueError(f"subscriber {name}: its queue prefix must not be under the CRM's {prefix!r}")
        out.append(subscriber_grant(name, queue_prefix, exchange))
    for g in out:
        if not _NAME.match(g.user):
            raise ValueError(f"not a usable user name: {g.user!r}")
    return out


def passwords_for(users: Sequence[str], path: Path | None, generate: bool) -> dict[str, str]:
    known: dict[str, str] = json.loads(path.read_text()) if path and path.exists() else {}
    out: dict[str, str] = {}
    for user in users:
        env = os.environ.get("BROKER_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", user).upper())
        password = env or known.get(user)
        if password is None and generate:
            password = known[user] = secrets.token_urlsafe(24)
        if password is None:
            raise ValueError(f"no password for {user}: use --passwords FILE [--generate] "
                             f"or BROKER_PASSWORD_{user.upper()}")
        out[user] = password
    if generate and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(known, f, indent=2)
    return out


def definitions(grant_list: Sequence[Grant], passwords: dict[str, str], *, vhost: str,
                exchange: str) -> dict[str, Any]:
    """A RabbitMQ definitions document: the vhost, the shared exchanges, users, permissions.
    Importing it again changes nothing but the passwords it names (idempotent)."""
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": [
            {"name": exchange, "vhost": vhost, "type": "topic", "durable": True,
             "auto_delete": False, "internal": False, "arguments": {}},
            {"name": f"{exchange}.dlx", "vhost": vhost, "type": "direct", "durable": True,
             "auto_delete": False, "internal": False, "arguments": {}},
        ],
        "users": [{"name": g.user, "password": passwords[g.user], "tags": g.tags} for g in grant_list],
        "permissions": [{"user": g.user, "vhost": vhost, "configure": g.configure, "write": g.write,
                         "read": g.read} for g in grant_list],
    }


def _rabbitmqctl(args: argparse.Namespace, *command: str, stdin: str | None = None) -> str:
    argv = [*args.rabbitmqctl.split(), *(["--node", args.node] if args.node else []), *command]
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}… failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def _wait_applied(args: argparse.Namespace, grant_list: Sequence[Grant], timeout: float = 30) -> None:
    """``import_definitions`` returns before the import is done: wait until every permission
    is in place, so that callers can use the users at once."""
    wanted = {(g.user, g.configure, g.write, g.read) for g in grant_list}
    deadline = time.monotonic() + timeout
    while True:
        lines = _rabbitmqctl(args, "-q", "list_permissions", "--vhost", args.vhost).splitlines()
        have = {tuple(line.split("\t")) for line in lines if line.count("\t") == 3}
        if wanted <= have:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the broker did not apply the definitions within {timeout:g} s")
        time.sleep(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-broker-users", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("command", choices=["definitions", "apply", "delete", "show"])
    parser.add_argument("--vhost", default=os.environ.get("BROKER_VHOST", "/"))
    parser.add_argument("--exchange", default=os.environ.get("EVENTS_EXCHANGE") or "crm.events")
    parser.add_argument("--prefix", default=os.environ.get("EVENTS_QUEUE_PREFIX") or "crm",
                        help="queue prefix (EVENTS_QUEUE_PREFIX)")
    parser.add_argument("--user-prefix", default="crm_", help="service users are <user-prefix><service>")
    parser.add_argument("--service", action="append", choices=SERVICES, help="default: all four")
    parser.add_argument("--subscriber", action="append", default=[], metavar="NAME[:QUEUE_PREFIX]",
                        help="an outside subscriber's user (repeatable)")
    parser.add_argument("--monitor", metavar="USER", help="also a user that may only read queue depths")
    parser.add_argument("--admin", metavar="USER", help="also an administrator (e.g. the compose demo's)")
    parser.add_argument("--passwords", type=Path, help="JSON file {user: password}")
    parser.add_argument("--generate", action="store_true", help="create missing passwords in --passwords")
    parser.add_argument("--user", action="append", default=[], help="for delete: users to remove")
    parser.add_argument("--rabbitmqctl", default=os.environ.get("RABBITMQCTL", "rabbitmqctl"))
    parser.add_argument("--node", help="RabbitMQ node for rabbitmqctl")
    args = parser.parse_args(argv)
    try:
        grant_list = grants(args.service or SERVICES, args.subscriber, prefix=args.prefix,
                            exchange=args.exchange, user_prefix=args.user_prefix,
                            monitor=args.monitor, admin=args.admin)
        if args.command == "delete":
            for user in args.user or [g.user for g in grant_list]:
                _rabbitmqctl(args, "delete_user", user)
            return 0
        if args.command == "show":  # what would be granted, without passwords
            json.dump([g.__dict__ for g in grant_list], sys.stdout, indent=2)
            sys.stdout.write("\n")
            return 0
        passwords = passwords_for([g.user for g in grant_list], args.passwords, args.generate)
        doc = definitions(grant_list, passwords, vhost=args.vhost, exchange=args.exchange)
        if args.command == "definitions":
            json.dump(doc, sys.stdout, indent=2)
            sys.stdout.write("\n")
            return 0
        _rabbitmqctl(args, "import_definitions", "--format", "json", stdin=json.dumps(doc))
        _wait_applied(args, grant_list)
        print(f"broker users up to date on vhost {args.vhost}: {', '.join(g.user for g in grant_list)}")
        return 0
    except (ValueError, RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
