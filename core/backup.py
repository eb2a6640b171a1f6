"""Backups of the PostgreSQL database: `pg_dump --format=custom`, a restore into a fresh
database with `pg_restore`, and a check of the restored copy (`manage.py verify_ledger` run
against it, and the row count of every table compared with the database backed up).

Used by `manage.py backup_db` and `manage.py restore_db` (README, "Backups"). The counts of the
source are read in the same snapshot as the dump (`pg_export_snapshot()` handed to
`pg_dump --snapshot`), so they compare exactly even while the street keeps working.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from psycopg import sql


@dataclass
class Check:
    """What checking a restored copy found."""

    database: str
    ledger_ok: bool
    ledger_output: str
    counts: dict[str, int] = field(default_factory=dict)
    mismatches: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.ledger_ok and not self.mismatches


def db_settings(alias: str = "default") -> dict[str, Any]:
    db: dict[str, Any] = settings.DATABASES[alias]
    if not db["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured("Backups need PostgreSQL (DATABASE_URL=postgres://…).")
    return db


def _conninfo(db: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    info = {
        "dbname": name or db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": str(db["PORT"]) if db.get("PORT") else None,
    }
    return {k: v for k, v in info.items() if v is not None}


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    """The environment of pg_dump/pg_restore: the password never on a command line."""
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
    ):
        if value:
            env[key] = str(value)
    return env


def table_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """The row count of every table of the public schema."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        tables = [row[0] for row in cur.fetchall()]
        counts = {}
        for table in tables:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = int(cur.fetchone()[0])  # type: ignore[index]
    return counts


def dump(path: Path, *, alias: str = "default") -> dict[str, int]:
    """Write the database to `path` (custom format) and return its row counts, both from one
    snapshot."""
    db = db_settings(alias)
    with psycopg.connect(**_conninfo(db)) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        counts = table_counts(conn)
        # The snapshot lives while this transaction is open: pg_dump reads the same state.
        subprocess.run(
            [
                "pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                f"--file={path}", db["NAME"],
            ],
            env=_pg_env(db),
            check=True,
            capture_output=True,
            text=True,
        )  # fmt: skip
        conn.rollback()
    return counts


def create_database(name: str, *, alias: str = "default") -> None:
    """A new, empty database; refuses a name that exists (a restore never overwrites)."""
    db = db_settings(alias)
    with psycopg.connect(**_conninfo(db, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            raise FileExistsError(f"database {name} exists; a restore needs a new database")
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))


def drop_database(name: str, *, alias: str = "default") -> None:
    db = db_settings(alias)
    with psycopg.connect(**_conninfo(db, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def restore(path: Path, name: str, *, alias: str = "default") -> None:
    """Restore the dump at `path` into the new database `name`."""
    db = db_settings(alias)
    create_database(name, alias=alias)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={name}", str(path)],
        env=_pg_env(db),
        check=True,
        capture_output=True,
        text=True,
    )


def database_url(name: str, *, alias: str = "default") -> str:
    db = db_settings(alias)
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    at = "@" if user or password else ""
    host = db.get("HOST") or ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}{at}{host}{port}/{name}"


def check_restored(
    name: str, *, expected: dict[str, int] | None = None, alias: str = "default"
) -> Check:
    """verify_ledger against the restored database `name` (a separate process pointed at it),
    and its row counts compared with `expected` (the source's, from the dump's snapshot)."""
    db = db_settings(alias)
    env = {**os.environ, "DATABASE_URL": database_url(name, alias=alias)}
    env.setdefault("DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE", ""))
    manage = Path(settings.BASE_DIR) / "manage.py"
    verified = subprocess.run(
        [sys.executable, str(manage), "verify_ledger"],
        env=env,
        capture_output=True,
        text=True,
    )
    with psycopg.connect(**_conninfo(db, name)) as conn:
        counts = table_counts(conn)
    result = Check(
        database=name,
        ledger_ok=verified.returncode == 0,
        ledger_output=(verified.stdout + verified.stderr).strip(),
        counts=counts,
    )
    if expected is not None:
        for table in sorted(set(expected) | set(counts)):
            if expected.get(table) != counts.get(table):
                result.mismatches[table] = (expected.get(table), counts.get(table))
    return result
