"""seed_demo() for tests, built once per test process and copied in after that.

seed_demo() takes seconds (it runs the services: rule books, claims, needs, notifications), and
dozens of tests start from the demo street. The first test of a process (an xdist worker) that
asks for it runs the real seed_demo() and records the rows it added, table by table, as the
database's own text (PostgreSQL's COPY format, SQLite's quote()); each later test whose database
is in the same state beforehand gets those very rows copied in, inside its own transaction,
which is rolled back as usual. The result is the database the real seed_demo() made, row for
row, ids and all.

The copy is used only when it is the same database to start from: every table's rows are
compared (by digest) with the state the recorded seed_demo() started from, and the date, the
arguments the same, and no time travel (time-machine) on; otherwise, and when the recorded
seed changed or deleted rows that were there before it, the real seed_demo() runs.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from demo.seed import SeedReport

Rows = dict[str, tuple[tuple[str, ...], list[str]]]  # table -> (columns, rows as text)


@dataclass
class _Recorded:
    added: Rows | None  # None: the seed changed rows it found; not reusable
    report: SeedReport


_recorded: dict[tuple[Any, ...], _Recorded] = {}


def seed_demo(**kwargs: Any) -> SeedReport:
    """demo.seed.seed_demo(**kwargs), the first time for real, then as a copy of its rows."""
    from demo.seed import seed_demo as real_seed_demo

    if _time_travelling():
        return real_seed_demo(**kwargs)
    with transaction.atomic():
        before = _dump()
        key = (
            connection.alias,
            connection.vendor,
            tuple(sorted(kwargs.items())),
            timezone.localdate(),
            _digest(before),
        )
        recorded = _recorded.get(key)
        if recorded is not None and recorded.added is not None:
            _load(recorded.added)
            return copy.deepcopy(recorded.report)
        report = real_seed_demo(**kwargs)
        if recorded is None:
            _recorded[key] = _Recorded(
                added=_difference(before, _dump()), report=copy.deepcopy(report)
            )
        return report


def _time_travelling() -> bool:
    try:
        import time_machine
    except ImportError:  # pragma: no cover - a dev dependency
        return False
    return bool(time_machine.escape_hatch.is_travelling())


def _table_columns(cur: Any) -> dict[str, tuple[str, ...]]:
    """Every table and its columns, in the database's order (one or two cheap queries: the
    introspection API would take longer than the copy itself)."""
    if connection.vendor == "postgresql":
        cur.execute(
            "SELECT c.relname, a.attname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relkind = 'r' AND n.nspname = current_schema()"
            " AND a.attnum > 0 AND NOT a.attisdropped"
            " ORDER BY c.relname, a.attnum"
        )
        tables: dict[str, list[str]] = {}
        for table, column in cur.fetchall():
            tables.setdefault(table, []).append(column)
        return {t: tuple(cols) for t, cols in tables.items()}
    if connection.vendor == "sqlite":
        cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        names = [row[0] for row in cur.fetchall()]
        result = {}
        for table in names:
            cur.execute(f"PRAGMA table_info({connection.ops.quote_name(table)})")
            result[table] = tuple(row[1] for row in cur.fetchall())
        return result
    raise NotImplementedError(connection.vendor)  # pragma: no cover - SQLite and PostgreSQL


def _dump() -> Rows:
    """Every table's rows as the database writes them out, exactly."""
    rows: Rows = {}
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        for table, columns in _table_columns(cur).items():
            if connection.vendor == "postgresql":
                cols = ", ".join(qn(c) for c in columns)
                with cur.cursor.copy(f"COPY {qn(table)} ({cols}) TO STDOUT") as out:
                    text = b"".join(bytes(chunk) for chunk in out).decode()
                # One row a line: COPY escapes a newline inside a value (a backslash and n).
                rows[table] = (columns, text.split("\n")[:-1])
            else:
                quoted = " || ',' || ".join(f"quote({qn(c)})" for c in columns)
                cur.execute(f"SELECT {quoted} FROM {qn(table)}")  # noqa: S608 (our tables)
                rows[table] = (columns, [r[0] for r in cur.fetchall()])
    return rows


def _digest(rows: Rows) -> str:
    h = hashlib.sha256()
    for table in sorted(rows):
        columns, lines = rows[table]
        h.update(f"{table}({','.join(columns)})\0".encode())
        for line in sorted(lines):
            h.update(line.encode())
            h.update(b"\0")
    return h.hexdigest()


def _difference(before: Rows, after: Rows) -> Rows | None:
    """The rows the seed added; None if it also changed or deleted rows that were there."""
    added: Rows = {}
    for table, (columns, lines) in after.items():
        old_columns, old_lines = before.get(table, (columns, []))
        if old_columns != columns:
            return None
        old = set(old_lines)
        if not old <= set(lines):
            return None
        new = [line for line in lines if line not in old]
        if new:
            added[table] = (columns, new)
    if set(before) - set(after):
        return None
    return added


def _load(rows: Rows) -> None:
    """Insert the recorded rows (foreign keys are checked at commit, as Django creates them)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        for table, (columns, lines) in rows.items():
            cols = ", ".join(qn(c) for c in columns)
            if connection.vendor == "postgresql":
                with cur.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as into:
                    into.write("".join(f"{line}\n" for line in lines).encode())
                top = _max_id(columns, lines)
                if top is not None:
                    # The ids were drawn from this very sequence before (sequences never go
                    # back), so it is past them; should anything have set it back, move it on.
                    cur.execute(
                        "SELECT setval(s, %s) FROM"
                        " (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS s) q"
                        " WHERE s IS NOT NULL AND %s > COALESCE(pg_sequence_last_value(s), 0)",
                        [top, qn(table), top],
                    )
            else:
                for start in range(0, len(lines), 200):
                    values = ", ".join(f"({line})" for line in lines[start : start + 200])
                    # Literals made by SQLite's quote(); no parameters, so no % handling.
                    cur.execute(f"INSERT INTO {qn(table)} ({cols}) VALUES {values}")  # noqa: S608


def _max_id(columns: tuple[str, ...], lines: list[str]) -> int | None:
    """The largest integer `id` among COPY lines; None without one."""
    if "id" not in columns:
        return None
    at = columns.index("id")
    try:
        return max(int(line.split("\t")[at]) for line in lines)
    except ValueError:  # not an integer key
        return None
