"""``crm-backup`` and ``crm-restore``: every service's database, one command each.

A backup is a directory ``<out>/<UTC timestamp>/`` with one file per service — a
``pg_dump --format=custom`` archive (distributed mode) or a consistent SQLite copy made with
SQLite's online backup API (embedded mode, safe while the service runs) — and
``manifest.json``: when, which schema revision, and each table's row count at backup time.
``crm-restore DIR`` puts them back (``pg_restore --clean --if-exists``, or the backup API in
reverse) and compares every table's rows with the manifest; a difference is an error.

The databases are found like the services find them: ``<SERVICE>_DATABASE_URL``,
``DATABASE_URL`` or ``CRM_DATA_DIR`` (embedded). ``--target SERVICE=URL`` restores into
another database (a scratch copy to check a backup, or a new server).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, inspect, select, table
from sqlalchemy.engine import make_url

from servicedb import DatabaseSettings

from . import SERVICES

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    pass


def database_url(service: str, overrides: dict[str, str]) -> str:
    return overrides.get(service) or DatabaseSettings.from_env(service).require_url(service)


def row_counts(url: str) -> dict[str, int]:
    """Rows per table (the outbox and inbox included): what a restore must give back."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            return {name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
                    for name in names}
    finally:
        engine.dispose()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (which goes in PGPASSWORD, not on a command line)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise BackupError(f"not a SQLite file: {url}")
    return path


def _run(argv: list[str], env: dict[str, str]) -> None:
    if shutil.which(argv[0]) is None:
        raise BackupError(f"{argv[0]} not found: install the PostgreSQL client (same major version "
                          "as the server, or newer)")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=6 * 3600)
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {done.stderr.strip()[-2000:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup_service(service: str, url: str, directory: Path) -> dict[str, Any]:
    counts = row_counts(url)
    if url.startswith("sqlite"):
        target = directory / f"{service}.sqlite"
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)  # a consistent copy even while the service writes
        finally:
            source.close()
            dest.close()
        fmt = "sqlite"
    elif url.startswith("postgresql"):
        target = directory / f"{service}.dump"
        dsn, env = _libpq(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", dsn], env)
        fmt = "pg_dump-custom"
    else:
        raise BackupError(f"{service}: cannot back up {make_url(url).drivername} databases")
    return {"service": service, "format": fmt, "file": target.name, "bytes": target.stat().st_size,
            "sha256": _sha256(target), "rows": counts}


def restore_service(entry: dict[str, Any], directory: Path, url: str) -> dict[str, Any]:
    source = directory / entry["file"]
    if _sha256(source) != entry["sha256"]:
        raise BackupError(f"{entry['service']}: {source} does not match its checksum in the manifest")
    if entry["format"] == "sqlite":
        if not url.startswith("sqlite"):
            raise BackupError(f"{entry['service']}: a SQLite backup restores only into SQLite")
        path = Path(_sqlite_path(url))
        path.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(source)
        dest = sqlite3.connect(path)
        try:
            with dest:
                src.backup(dest)  # replaces the target's whole content
        finally:
            src.close()
            dest.close()
    else:
        if not url.startswith("postgresql"):
            raise BackupError(f"{entry['service']}: a pg_dump archive restores only into PostgreSQL")
        dsn, env = _libpq(url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", f"--dbname={dsn}", str(source)], env)
    restored = row_counts(url)
    wrong = {name: {"backup": n, "restored": restored.get(name)}
             for name, n in entry["rows"].items() if restored.get(name) != n}
    if wrong:
        raise BackupError(f"{entry['service']}: restored rows differ from the backup: {wrong}")
    return {"service": entry["service"], "restored_into": make_url(url).render_as_string(),
            "tables": len(restored), "rows": sum(restored.values())}


def _targets(values: Sequence[str]) -> dict[str, str]:
    out = {}
    for value in values:
        service, sep, url = value.partition("=")
        if not sep or service not in SERVICES:
            raise SystemExit(f"--target wants SERVICE=URL with SERVICE one of {', '.join(SERVICES)}")
        out[service] = url
    return out


def backup_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-backup", description=__doc__.split("\n\n")[0],
                                     epilog="See docs/operations.md, Backups.")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("CRM_BACKUP_DIR", "backups")),
                        help="where to create the backup directory (CRM_BACKUP_DIR; default ./backups)")
    parser.add_argument("--service", action="append", choices=SERVICES, help="default: all four")
    parser.add_argument("--source", action="append", default=[], metavar="SERVICE=URL",
                        help="back up this database instead of the configured one")
    args = parser.parse_args(argv)
    sources = _targets(args.source)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = args.out / stamp
    directory.mkdir(parents=True, exist_ok=False)
    manifest: dict[str, Any] = {"created_at": datetime.now(UTC).isoformat(), "services": []}
    try:
        for service in args.service or SERVICES:
            manifest["services"].append(backup_service(service, database_url(service, sources), directory))
    except (BackupError, RuntimeError, OSError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2))
    print(directory)
    return 0


def restore_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-restore", description=__doc__.split("\n\n")[0],
                                     epilog="Stop the services' workers first. See docs/operations.md.")
    parser.add_argument("backup", type=Path, help="a directory made by crm-backup")
    parser.add_argument("--service", action="append", choices=SERVICES, help="default: all in the backup")
    parser.add_argument("--target", action="append", default=[], metavar="SERVICE=URL",
                        help="restore into this database instead of the configured one")
    parser.add_argument("--yes", action="store_true", help="replace the target databases' content")
    args = parser.parse_args(argv)
    if not args.yes:
        parser.error("restoring replaces the databases' content: add --yes")
    targets = _targets(args.target)
    try:
        manifest = json.loads((args.backup / MANIFEST).read_text())
        for entry in manifest["services"]:
            if args.service and entry["service"] not in args.service:
                continue
            result = restore_service(entry, args.backup, database_url(entry["service"], targets))
            print(json.dumps(result), flush=True)
    except (BackupError, RuntimeError, OSError, KeyError, ValueError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
