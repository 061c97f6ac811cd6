"""staging.observations, declared once: the warehouse DDL, the loader's frame and insert list, the delivery
schema (p06/ingest/schema.py), the reconciliation's frame layout and the data dictionary derive from it."""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

TABLE = "staging.observations"


@dataclass(frozen=True)
class Column:
    name: str
    duckdb: str                  # DuckDB type
    polars: pl.DataType          # the matching polars dtype
    nullable: bool
    vi: str                      # description, Vietnamese (one line)
    en: str                      # description, English (one line)


DESCRIPTION = {"vi": "Mỗi số liệu được gửi một dòng, đã chuẩn hóa đơn vị, chỉ tiêu và số",
               "en": "One row per delivered figure, with unit, measure and number normalised"}

COLUMNS: tuple[Column, ...] = (
    Column("period", "VARCHAR", pl.String, False, "Kỳ báo cáo (YYYY-MM)", "Reporting month (YYYY-MM)"),
    Column("as_of_date", "DATE", pl.Date, True, "Ngày chốt số liệu", "Cut-off date"),
    Column("source", "VARCHAR", pl.String, False, "Nguồn số liệu", "Source"),
    Column("unit_kind", "VARCHAR", pl.String, False,
           "Loại đơn vị: province (dòng tổng của tệp), subtotal (dòng cộng khối/vùng của tệp, hoặc dòng tổng của một "
           "phần khi số liệu gửi thành nhiều tệp), district, commune, tax_office, tax_unit, service",
           "Unit kind: province (the file's own total row), subtotal (the file's regional subtotal row, or a part's "
           "total row when the delivery came in several files), district, commune, tax_office, tax_unit, service"),
    Column("unit_code", "VARCHAR", pl.String, False,
           "Mã đơn vị (tỉnh 2 chữ số, huyện 3, xã 5, CCT01.. chi cục thuế, TCS01.. thuế cơ sở, PL2-01.. dịch vụ công; "
           "dòng cộng khối: nhãn của dòng; dòng tổng của một phần: tệp và trang tính); xem ref.units",
           "Unit code (province 2 digits, district 3, commune 5, CCT01.. tax offices, TCS01.. tax units, PL2-01.. "
           "public services; a subtotal row: its label; a part's total row: its file and sheet); see ref.units"),
    Column("unit_name", "VARCHAR", pl.String, False, "Tên đơn vị như được gửi", "Unit name as delivered"),
    Column("group_label", "VARCHAR", pl.String, True,
           "Nhóm (sở, ngành của dịch vụ công ở phụ lục III; khối/vùng có dòng cộng của đơn vị)",
           "Group (department of an appendix III service; the regional subtotal block a unit belongs to)"),
    Column("measure", "VARCHAR", pl.String, False, "Mã số liệu (khai báo trong catalog/sources)",
           "Measure id (declared in catalog/sources)"),
    Column("value", "DOUBLE", pl.Float64, True, "Giá trị số; tỷ lệ lưu dạng phân số (0,962); NULL nếu ô trống",
           "Numeric value; ratios as fractions (0.962); NULL when the cell was blank"),
    Column("value_text", "VARCHAR", pl.String, True, "Giá trị chữ (tình trạng kết nối, khó khăn)",
           "Text value (connection status, difficulties)"),
    Column("stated", "BOOLEAN", pl.Boolean, False,
           "Đúng nếu là số liệu tự khai: dòng tổng của tệp hoặc cột tỷ lệ; dùng để đối chiếu, không công bố",
           "True for claims: the file's total row and every ratio column; reconciled, never published"),
    Column("decimals", "INTEGER", pl.Int32, True, "Số chữ số thập phân của tỷ lệ tự khai (tính theo %)",
           "Decimals shown of a stated ratio (in percent)"),
    Column("file", "VARCHAR", pl.String, False, "Tệp nguồn", "Source file"),
    Column("sheet", "VARCHAR", pl.String, False, "Trang tính", "Sheet"),
    Column("cell", "VARCHAR", pl.String, False, "Ô chứa số liệu", "Cell holding the figure"),
    Column("delivery_id", "BIGINT", pl.Int64, False, "Mã lần nhận tệp", "Delivery identifier"),
    Column("old_province", "VARCHAR", pl.String, True,
           "Tỉnh cũ gửi tệp (mã trước 01/07/2025), với tỉnh hợp nhất trong các tháng trước khi hợp nhất; NULL nếu không",
           "The old province whose file it is (its code before 1 July 2025), for a merged province's months before "
           "the merger; NULL otherwise"),
)
NAMES = [c.name for c in COLUMNS]
SET_BY_LOADER = {"period", "source", "delivery_id"}   # not in what the reader returns: the loader adds them
READER_ONLY = {"row": pl.Int32}                        # what the reader returns beyond the table (1-based sheet row)


def ddl() -> str:
    """CREATE TABLE IF NOT EXISTS staging.observations (...)."""
    lines = ",\n".join(f"    {c.name:<13} {c.duckdb}{'' if c.nullable else ' NOT NULL'}" for c in COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {TABLE} (\n{lines}\n);\n"


def schema() -> dict[str, pl.DataType]:
    """The polars schema of the table."""
    return {c.name: c.polars for c in COLUMNS}


def read_schema() -> dict[str, pl.DataType]:
    """The polars schema of the observations a reader returns (before the loader adds period, source, delivery)."""
    return {c.name: c.polars for c in COLUMNS if c.name not in SET_BY_LOADER} | READER_ONLY


def dictionary_entry() -> dict:
    """The table's entry for the data dictionary: {vi, en, columns: {name: {vi, en}}}."""
    return {**DESCRIPTION, "columns": {c.name: {"vi": c.vi, "en": c.en} for c in COLUMNS}}


def part_total_code(file: str, sheet: str) -> str:
    """unit_code of a part's total row (unit_kind 'subtotal'): the delivery came in several files or sheets, and
    this total covers only the units of its own file and sheet (p06.ingest.parts)."""
    return f"{file} '{sheet}'"


def part_subtotal_code(label: str, file: str, sheet: str) -> str:
    """unit_code of a part's regional or group subtotal row when several parts supply its measures: its label and
    its part, so that two parts' 'Cộng khối miền núi' stay two figures."""
    return f"{label} ({part_total_code(file, sheet)})"
