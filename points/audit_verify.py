"""Checking a points audit export (points.audit_export): the manifest's signature, each
table's hash chain, row count and last chain value, and with `against_db` its rows against the
database now (`manage.py verify_audit_export <file> [--against-db]`)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from openpyxl import load_workbook

from grids.models import Community
from points.audit_export import (
    FORMAT,
    MANIFEST_FILE,
    MANIFEST_HEADERS,
    MANIFEST_TITLE,
    README_FILE,
    SIGNATURE_FILE,
    TABLES,
    Row,
    Subject,
    Table,
    as_text,
    canonical,
    chain_link,
    chain_seed,
    key_id,
    sign,
    snapshot,
    table_rows,
)
from points.models import Period


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Parsed:
    kind: str  # "zip" or "xlsx"
    manifest: list[list[str]]  # rows after the header, without a signature row
    manifest_headers: list[str]
    signature: str | None
    tables: dict[str, list[list[str]]]  # header row first; missing tables absent
    readme: bytes | None = None


def _read_csv(archive: zipfile.ZipFile, name: str) -> list[list[str]] | None:
    if name not in archive.namelist():
        return None
    with archive.open(name) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        return [row for row in csv.reader(text)]


def _read_zip(archive: zipfile.ZipFile) -> _Parsed:
    manifest = _read_csv(archive, MANIFEST_FILE) or [[]]
    signature = None
    if SIGNATURE_FILE in archive.namelist():
        signature = archive.read(SIGNATURE_FILE).decode("utf-8", "replace").strip()
    tables = {}
    for table in TABLES:
        rows = _read_csv(archive, table.filename)
        if rows is not None:
            tables[table.key] = rows
    readme = archive.read(README_FILE) if README_FILE in archive.namelist() else None
    return _Parsed("zip", manifest[1:], manifest[0], signature, tables, readme)


def _sheet_rows(sheet: Any) -> list[list[str]]:
    rows = [[as_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        return []
    width = len(rows[0])
    while width and not rows[0][width - 1]:
        width -= 1
    return [(row + [""] * width)[:width] for row in rows]


def _read_xlsx(source: IO[bytes]) -> _Parsed:
    book = load_workbook(source, read_only=True, data_only=True)
    try:
        names = book.sheetnames
        manifest = _sheet_rows(book[MANIFEST_TITLE]) if MANIFEST_TITLE in names else [[]]
        tables = {t.key: _sheet_rows(book[t.title]) for t in TABLES if t.title in names}
    finally:
        book.close()
    body = [row for row in manifest[1:] if row and row[0] != "signature"]
    signatures = [row[2] for row in manifest[1:] if row and row[0] == "signature" and len(row) > 2]
    return _Parsed(
        "xlsx", body, manifest[0] if manifest else [], signatures[0] if signatures else None, tables
    )


def read_export(source: str | IO[bytes]) -> _Parsed:
    """A ZIP of CSVs or an xlsx workbook, told apart by what the archive holds."""
    with zipfile.ZipFile(source) as archive:
        names = set(archive.namelist())
        if MANIFEST_FILE in names:
            return _read_zip(archive)
        if "[Content_Types].xml" not in names:
            raise ValueError("neither an audit export ZIP nor an xlsx workbook")
    if not isinstance(source, str):
        source.seek(0)
    return _read_xlsx(source)  # type: ignore[arg-type]


def _label(table: Table, row: Sequence[Any]) -> str:
    return " ".join(
        f"{table.headers[i]} {as_text(row[i])}" for i in table.id_columns if i < len(row)
    )


def _key(table: Table, row: Sequence[Any]) -> str:
    return canonical([row[i] for i in table.id_columns])


def _first_break(rows: list[list[str]], seed: str) -> tuple[int, str] | None:
    """The first data row (1-based) whose chain value does not follow from the row before it
    and its own values, with what the chain can tell of the cause."""
    previous = seed
    for i, row in enumerate(rows):
        if chain_link(previous, row[:-1]) == row[-1]:
            previous = row[-1]
            continue
        # An unchanged row that follows another row of the file than the one before it: the
        # rows were reordered. Otherwise its values changed, or a row before it was removed
        # or added (a removed row's chain value is gone with it, so the chain cannot tell).
        before = [seed, *(r[-1] for r in rows)]
        if any(chain_link(p, row[:-1]) == row[-1] for j, p in enumerate(before) if j != i):
            return i + 1, "the rows were reordered"
        return i + 1, "the row was changed, or a row before it was removed or added"
    return None


def _check_table(
    table: Table,
    rows: list[list[str]] | None,
    *,
    community_id: str,
    quarter: str,
    manifest: dict[str, str],
    report: Verification,
) -> None:
    where = f"{table.key} ({table.title})"
    if rows is None:
        report.problems.append(f"{where}: missing from the file")
        return
    if not rows or rows[0] != table.file_headers:
        report.problems.append(f"{where}: the column headers differ from {FORMAT}")
        return
    data = rows[1:]
    width = len(table.file_headers)
    short = [i for i, row in enumerate(data, 1) if len(row) != width]
    if short:
        report.problems.append(f"{where}: row {short[0]} has {len(data[short[0] - 1])} columns")
        return
    seed = chain_seed(table, community_id=community_id, quarter=quarter)
    found = _first_break(data, seed)
    if found is not None:
        number, why = found
        report.problems.append(
            f"{where}: the chain breaks at row {number} ({_label(table, data[number - 1])}): {why}"
        )
    expected_rows, expected_head = (
        manifest.get(f"{table.key}.rows"),
        manifest.get(f"{table.key}.chain"),
    )
    head = data[-1][-1] if data else seed
    if expected_rows != str(len(data)):
        report.problems.append(
            f"{where}: {len(data)} rows, the manifest says {expected_rows} (rows removed or added)"
        )
    elif expected_head != head:
        report.problems.append(f"{where}: the last chain value differs from the manifest's")
    if found is None and expected_rows == str(len(data)) and expected_head == head:
        report.notes.append(f"{where}: {len(data)} rows, chain intact")


def verify_audit_export(source: str | IO[bytes], *, against_db: bool = False) -> Verification:
    """Check an audit export: the manifest's signature, each table's chain, row count and last
    chain value; with `against_db`, also the rows against the database now."""
    report = Verification()
    try:
        parsed = read_export(source)
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        report.problems.append(f"cannot read the file: {exc}")
        return report
    if parsed.manifest_headers != list(MANIFEST_HEADERS):
        report.problems.append("manifest: missing, or its column headers differ")
        return report
    manifest = {row[0]: row[2] for row in parsed.manifest if len(row) >= 3}
    if manifest.get("format") != FORMAT:
        report.problems.append(f"manifest: format {manifest.get('format')!r}, expected {FORMAT}")
        return report
    if parsed.signature is None:
        report.problems.append("signature: missing")
    elif not hmac.compare_digest(sign(parsed.manifest), parsed.signature):
        theirs, ours = manifest.get("key_id"), key_id()
        hint = "" if theirs == ours else f" (signed with key {theirs}, this server's is {ours})"
        report.problems.append(
            "signature: does not match the manifest: the manifest was changed or the "
            f"signature replaced{hint}"
        )
    else:
        report.notes.append(f"signature: valid (key {manifest.get('key_id')})")
    if parsed.kind == "zip":
        expected = manifest.get(f"{README_FILE}.sha256")
        if parsed.readme is None or expected != hashlib.sha256(parsed.readme).hexdigest():
            report.problems.append(f"{README_FILE}: missing or changed")
    community_id, quarter = manifest.get("community_id", ""), manifest.get("quarter", "")
    for table in TABLES:
        _check_table(
            table,
            parsed.tables.get(table.key),
            community_id=community_id,
            quarter=quarter,
            manifest=manifest,
            report=report,
        )
    if against_db:
        _compare_with_database(parsed, community_id=community_id, quarter=quarter, report=report)
    return report


# ---------------------------------------------------------------------------- against the db

LIST_AT_MOST = 20


def _compare_with_database(
    parsed: _Parsed, *, community_id: str, quarter: str, report: Verification
) -> None:
    period = Period.objects.filter(code=quarter).first()
    community = (
        Community.objects.select_related("street").filter(pk=int(community_id)).first()
        if community_id.isdigit()
        else None
    )
    if period is None or community is None:
        report.problems.append(
            f"database: no quarter {quarter!r} or no community {community_id!r} to compare with"
        )
        return
    ctx = Subject(period=period, community=community)
    with snapshot():
        for table in TABLES:
            rows = parsed.tables.get(table.key)
            if rows and rows[0] == table.file_headers:
                _compare_table(table, rows[1:], table_rows(table, ctx), report)


def _compare_table(
    table: Table, file_rows: list[list[str]], db_rows: Iterable[Row], report: Verification
) -> None:
    in_file = {_key(table, row): canonical(row[:-1]) for row in file_rows}
    missing: list[str] = []  # in the database, not in the file
    different: list[str] = []
    seen: set[str] = set()
    for values in db_rows:
        key, text = _key(table, values), canonical(values)
        seen.add(key)
        theirs = in_file.get(key)
        if theirs is None:
            missing.append(_label(table, values))
        elif theirs != text:
            old, new = json.loads(theirs), json.loads(text)
            changes = [
                f"{h}: {a!r} in the file, {b!r} in the database"
                for h, a, b in zip(table.headers, old, new, strict=False)
                if a != b
            ]
            different.append(f"{_label(table, new)}: " + "; ".join(changes))
    added = [_label(table, json.loads(v)) for key, v in in_file.items() if key not in seen]
    where = f"{table.key} ({table.title})"
    for what, items in (
        ("in the database but missing from the file", missing),
        ("in the file but not in the database", added),
        ("different from the database", different),
    ):
        if items:
            shown = "\n    ".join(items[:LIST_AT_MOST])
            more = (
                f"\n    … and {len(items) - LIST_AT_MOST} more" if len(items) > LIST_AT_MOST else ""
            )
            report.problems.append(f"{where}: {len(items)} row(s) {what}:\n    {shown}{more}")
    if not (missing or added or different):
        report.notes.append(f"{where}: matches the database")
