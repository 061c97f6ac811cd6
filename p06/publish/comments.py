"""Table and column comments (Vietnamese and English) from catalog/dictionary.yaml, and the data dictionary.

A comment is stored as two lines, Vietnamese then English. `apply_comments` writes the declared ones for the
tables and columns that exist; `write_data_dictionary` documents what the database holds, from its comments,
so the document never describes a table the warehouse does not have.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

import duckdb
from pydantic import RootModel, StringConstraints

from p06 import config, staging
from p06.declared.base import Declared, read_yaml, shown, validate
from p06.publish.files import quote_identifier, sql_string

DICTIONARY_FILE = config.CATALOG_DIR / "dictionary.yaml"
SCHEMAS = ("raw", "staging", "marts", "ref")


OneLine = Annotated[str, StringConstraints(min_length=1, pattern=r"^[^\n]+$")]


class Description(Declared):
    """A table's or column's comment, one line in each language."""

    vi: OneLine
    en: OneLine


class TableDescription(Description):
    columns: dict[str, Description] = {}


class Dictionary(RootModel[dict[str, TableDescription]]):
    """catalog/dictionary.yaml: 'schema.table' -> its description and its columns'."""


@cache
def dictionary(path: Path = DICTIONARY_FILE) -> dict[str, dict]:
    """Declared descriptions: {'schema.table': {vi, en, columns: {column: {vi, en}}}}; staging.observations
    comes from its declaration in p06/staging.py."""
    doc = validate(Dictionary, read_yaml(Path(path)), shown(path)).model_dump()
    if staging.TABLE in doc:
        raise ValueError(f"{shown(path)}: {staging.TABLE} is described in p06/staging.py, with its columns")
    return {**doc, staging.TABLE: staging.dictionary_entry()}


def comment_text(entry: dict) -> str:
    return f"{entry['vi']}\n{entry['en']}"


def _objects(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """'schema.table' -> 'TABLE' | 'VIEW' for the warehouse schemas."""
    rows = con.execute("""
        SELECT schema_name || '.' || table_name, 'TABLE' FROM duckdb_tables() WHERE schema_name IN (SELECT unnest($1))
        UNION ALL
        SELECT schema_name || '.' || view_name, 'VIEW' FROM duckdb_views()
        WHERE schema_name IN (SELECT unnest($1)) AND NOT internal""", [list(SCHEMAS)]).fetchall()
    return dict(rows)


def _columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str | None]]:
    """(schema.table, column, type, comment) in table and column order."""
    return con.execute("""
        SELECT schema_name || '.' || table_name, column_name, data_type, comment FROM duckdb_columns()
        WHERE schema_name IN (SELECT unnest($1)) ORDER BY schema_name, table_name, column_index""",
                       [list(SCHEMAS)]).fetchall()


def apply_comments(con: duckdb.DuckDBPyConnection, path: Path = DICTIONARY_FILE) -> int:
    """COMMENT ON every declared table (or view) and column that exists; returns how many were written."""
    objects = _objects(con)
    existing = {(t, c) for t, c, _, _ in _columns(con)}
    written = 0
    for table, entry in dictionary(path).items():
        kind = objects.get(table)
        if kind is None:
            continue
        name = ".".join(quote_identifier(p) for p in table.split("."))
        con.execute(f"COMMENT ON {kind} {name} IS {sql_string(comment_text(entry))}")
        written += 1
        for column, text in (entry.get("columns") or {}).items():
            if (table, column) in existing:
                con.execute(f"COMMENT ON COLUMN {name}.{quote_identifier(column)} IS {sql_string(comment_text(text))}")
                written += 1
    return written


def missing_comments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables and columns of the warehouse schemas that have no comment."""
    table_comments = dict(con.execute("""
        SELECT schema_name || '.' || table_name, comment FROM duckdb_tables() WHERE schema_name IN (SELECT unnest($1))
        UNION ALL
        SELECT schema_name || '.' || view_name, comment FROM duckdb_views() WHERE schema_name IN (SELECT unnest($1))
          AND NOT internal""", [list(SCHEMAS)]).fetchall())
    missing = [t for t, c in sorted(table_comments.items()) if not c]
    missing += [f"{t}.{col}" for t, col, _, c in _columns(con) if not c]
    return missing


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").strip()


def _split(comment: str | None) -> tuple[str, str]:
    vi, _, en = (comment or "").partition("\n")
    return vi, en


def write_data_dictionary(con: duckdb.DuckDBPyConnection, docs_dir: Path) -> Path:
    """Write docs_dir/data_dictionary.md from the comments stored in the database; returns its path."""
    objects = _objects(con)
    tables = dict(con.execute("""
        SELECT schema_name || '.' || table_name, comment FROM duckdb_tables() WHERE schema_name IN (SELECT unnest($1))
        UNION ALL
        SELECT schema_name || '.' || view_name, comment FROM duckdb_views() WHERE schema_name IN (SELECT unnest($1))
          AND NOT internal""", [list(SCHEMAS)]).fetchall())
    columns: dict[str, list[tuple[str, str, str | None]]] = {}
    for table, column, kind, comment in _columns(con):
        columns.setdefault(table, []).append((column, kind, comment))
    lines = ["# Từ điển dữ liệu / Data dictionary", "",
             "Sinh tự động từ chú thích (COMMENT ON) trong kho dữ liệu; sửa catalog/dictionary.yaml, không sửa tệp này.",
             "Generated from the comments (COMMENT ON) stored in the warehouse; edit catalog/dictionary.yaml, not this file.",
             ""]
    for table in sorted(objects, key=lambda t: (SCHEMAS.index(t.split(".")[0]), t)):
        vi, en = _split(tables.get(table))
        lines += [f"## `{table}`" + (" (view)" if objects[table] == "VIEW" else ""), "",
                  f"{vi or '—'}  ", f"*{en or '—'}*", "",
                  "| Cột / Column | Kiểu / Type | Mô tả | Description |", "|---|---|---|---|"]
        for column, kind, comment in columns.get(table, []):
            cvi, cen = _split(comment)
            lines.append(f"| `{column}` | {kind} | {_cell(cvi)} | {_cell(cen)} |")
        lines.append("")
    docs_dir = Path(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    out = docs_dir / "data_dictionary.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    return out
