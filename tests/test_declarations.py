"""Declarations are typed models: mistakes are refused naming the file and the field; sources are keyed by time.

Invalid declarations are made from the real files with one edit, as a newcomer's typo would be.
"""
from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from p06 import catalog, config, reference, staging, warehouse
from p06.declared.base import DeclarationError
from p06.publish import completeness as publish_completeness
from p06.publish import indicator_catalog
from p06.reconcile import engine
from p06.reconcile.rules import load_rules, parse_rules
from p06.reference import Unit

SOURCES = config.CATALOG_DIR / "sources"


def edited_catalog(tmp_path: Path, source: str, old: str, new: str) -> Path:
    """A copy of catalog/ whose sources/<source>.yaml has `old` replaced by `new` (once)."""
    root = tmp_path / "catalog"
    shutil.copytree(config.CATALOG_DIR, root)
    path = root / "sources" / f"{source}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


def refusal(root: Path) -> str:
    with pytest.raises(DeclarationError) as info:
        catalog.sources(root)
    return str(info.value)


# ----------------------------------------------------------------------------- sources and measures

def test_a_misspelt_measure_field_is_refused_naming_file_measure_and_field(tmp_path):
    root = edited_catalog(tmp_path, "tre_em", "    required: true\n", "    requried: true\n")
    message = refusal(root)
    assert re.search(r"sources/tre_em\.yaml: measures\[0\] \(children\)\.requried: unknown field", message), message


def test_a_ratio_of_an_undeclared_measure_is_refused(tmp_path):
    root = edited_catalog(tmp_path, "bhxh", "ratio_of: [participants_verified, participants]",
                          "ratio_of: [participants_verifed, participants]")
    message = refusal(root)
    assert "sources/bhxh.yaml" in message and "ratio_of" in message and "participants_verifed" in message, message


def test_a_bad_scope_is_refused(tmp_path):
    root = edited_catalog(tmp_path, "dvc", "    scope: month ", "    scope: monthly ")
    message = refusal(root)
    assert re.search(r"sources/dvc\.yaml: measures\[3\] \(dvc_online_ratio\)\.scope: Input should be 'month' or "
                     r"'cumulative'", message), message


def test_a_ratio_whose_scope_differs_from_its_parts_is_refused(tmp_path):
    """dvc's online share is of the month's dossiers: without `scope: month` it would pass for a cumulative figure."""
    root = edited_catalog(tmp_path, "dvc", "    scope: month ", "    # scope removed ")
    message = refusal(root)
    assert "dvc_online_ratio" in message and "declare scope: month" in message, message


def test_scope_follows_nature_unless_declared():
    sources = catalog.sources()
    assert sources["dvc"].measure("dvc_dossiers_total").scope == "month"            # flow: the month's dossiers
    assert sources["dvc"].measure("dvc_online_ratio").scope == "month"              # declared
    assert sources["vneid"].measure("eid_activated").scope == "cumulative"          # stock
    assert sources["vneid"].measure("eid_target").scope == "cumulative"             # target
    assert sources["bhxh"].measure("participants_verified_ratio").scope == "cumulative"   # no nature
    assert {m.scope for m in sources["dvc"].measures if m.nature == "flow"} == {"month"}


@pytest.mark.parametrize("spans, expected", [
    ("  - {unit_kind: district, until: 2025-06}\n  - {unit_kind: commune, from: 2025-06}\n", "overlap"),
    ("  - {unit_kind: district, until: 2025-06}\n  - {unit_kind: commune, from: 2025-09}\n", "gap"),
    ("  - {unit_kind: commune, from: 2025-07}\n  - {unit_kind: district, until: 2025-06}\n", "earliest first"),
    ("  - {unit_kind: district, until: 2025-06}\n  - {unit_kind: commune}\n", "needs `from`"),
    ("  - {unit_kind: district, until: 2025-06}\n  - {unit_kind: commune, from: 2025-13}\n", "should match pattern"),
])
def test_unit_kind_periods_that_overlap_or_leave_a_gap_are_refused(tmp_path, spans, expected):
    old = "  - {unit_kind: district, until: 2025-06}\n  - {unit_kind: commune, from: 2025-07}\n"
    message = refusal(edited_catalog(tmp_path, "vneid", old, spans))
    assert "sources/vneid.yaml" in message and "unit_kinds" in message and expected in message, message


def test_unit_kind_and_unit_kinds_together_are_refused(tmp_path):
    root = edited_catalog(tmp_path, "vneid", "unit_kinds:\n", "unit_kind: district\nunit_kinds:\n")
    assert "either unit_kind" in refusal(root)


def test_unit_kind_by_period():
    sources = catalog.sources()
    assert [sources["vneid"].unit_kind_in(p) for p in ("2023-01", "2025-06", "2025-07", "2030-01")] == \
        ["district", "district", "commune", "commune"]
    assert [sources["thue"].unit_kind_in(p) for p in ("2023-09", "2025-06", "2025-07")] == \
        ["tax_office", "tax_office", "tax_unit"]
    assert {sources["dvc"].unit_kind_in(p) for p in ("2023-08", "2025-07")} == {"service"}
    assert sources["thue"].all_unit_kinds == ("tax_office", "tax_unit")


def test_expected_by_period():
    sources = catalog.sources()
    assert [sources["tiem_chung"].expected_in(p) for p in ("2022-12", "2023-01", "2023-12", "2024-01", "2025-07")] == \
        [False, True, True, False, False]
    assert [sources["vneid"].expected_in(p) for p in ("2022-12", "2023-09", "2025-07")] == [False, True, True]


def test_a_closed_span_names_the_months_it_covers(tmp_path):
    root = edited_catalog(tmp_path, "tiem_chung", "unit_kind: district\n",
                          "unit_kinds:\n  - {unit_kind: district, from: 2023-01, until: 2023-12}\n")
    tiem_chung = catalog.sources(root)["tiem_chung"]
    assert tiem_chung.unit_kind_in("2023-12") == "district"
    with pytest.raises(ValueError, match="tiem_chung declares no unit kind for 2024-01: district from 2023-01 until 2023-12"):
        tiem_chung.unit_kind_in("2024-01")


def test_a_span_that_does_not_cover_the_expected_months_is_refused(tmp_path):
    root = edited_catalog(tmp_path, "tiem_chung", "unit_kind: district\n",
                          "unit_kinds:\n  - {unit_kind: district, from: 2023-01, until: 2023-06}\n")
    assert "ends before the source stops being expected (2023-12)" in refusal(root)


# ----------------------------------------------------------------------------- common.yaml, units

def test_common_is_a_plain_dict_with_the_reader_keys():
    common = catalog.common()
    assert type(common) is dict and "Tổng cộng" in common["total_row_labels"]
    assert set(common["reader_limits"]) >= {"max_rows", "max_columns", "max_cells"}
    assert set(common["scope_headers"]) == {"month", "cumulative"} and "Lũy kế" in common["scope_headers"]["cumulative"]
    assert "Ghi chú" in common["footer_markers"] and "Khối" in common["subtotal_row_labels"]


@pytest.mark.parametrize("line, field", [
    ("reader_limits: {max_rows: many}\n", "reader_limits.max_rows"),
    ("scope_headers: {monthly: [Trong tháng]}\n", "scope_headers.monthly"),
    ("total_row_label: [Tổng]\n", "total_row_label: unknown field"),
])
def test_common_refuses_wrong_keys_and_types(tmp_path, line, field):
    root = tmp_path / "catalog"
    shutil.copytree(config.CATALOG_DIR, root)
    with open(root / "common.yaml", "a", encoding="utf-8") as fh:
        fh.write(line)
    with pytest.raises(DeclarationError, match=re.escape(f"catalog/common.yaml: {field}")):
        catalog.common(root)


def test_a_declared_unit_with_dates_out_of_order_is_refused_naming_the_row(tmp_path):
    root = tmp_path / "catalog"
    shutil.copytree(config.CATALOG_DIR, root)
    path = root / "provinces" / "38" / "units.csv"
    text = path.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("tax_unit,TCS02,"))
    path.write_text(text.replace(line, line.replace("2025-07-01,", "2025-07-01,2025-06-01")), encoding="utf-8")
    with pytest.raises(DeclarationError, match=r"units\.csv: unit \d+ \(TCS02\): valid_to 2025-06-01 is before valid_from"):
        reference._declared("38", root)


# ----------------------------------------------------------------------------- rules and indicators

RULE = dict(id="t.rule", description_vi="x", description_en="x", severity="warning")


def test_an_unknown_rule_kind_is_refused_naming_file_rule_and_field(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {id: t.rule, description_vi: x, description_en: x, severity: warning,\n"
                    "     kind: stock_not_fallin, sources: all}\n", encoding="utf-8")
    with pytest.raises(DeclarationError) as info:
        load_rules(path)
    assert re.search(r"rules\.yaml: rules\[0\] \(t\.rule\)\.kind: unknown value 'stock_not_fallin'; expected one of "
                     r".*'stock_not_falling'", str(info.value)), str(info.value)


def test_a_field_of_another_rule_kind_is_refused():
    """`op` belongs to compare rules: on a stated_total rule it is a mistake, not something to ignore."""
    with pytest.raises(DeclarationError, match=r"rules\[0\] \(t\.rule\)\.op: unknown field"):
        parse_rules([dict(RULE, kind="stated_total", sources="all", op="==")])


def test_the_rule_table_parses_into_one_model_per_kind():
    kinds = {type(r).__name__: r.kind for r in load_rules()}
    assert kinds["CompareRule"] == "compare" and kinds["OutlierRule"] == "outlier"
    outliers = [r for r in load_rules() if r.kind == "outlier"]
    assert [r.params["series"] for r in outliers] == ["change", "value"]
    assert {r.params["min_absolute_change"] for r in outliers} == {100.0}


def test_a_misspelt_indicator_field_is_refused_naming_the_indicator(tmp_path):
    doc = indicator_catalog.CATALOG_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "indicators.yaml"
    bad.write_text(doc.replace("numerator: [eid_applications], target:", "numerator: [eid_applications], taget:", 1),
                   encoding="utf-8")
    with pytest.raises(DeclarationError, match=r"indicators\.yaml: indicators\.EID_APPLICATIONS\.taget: unknown field"):
        indicator_catalog.load(bad)


def test_indicator_names_with_commas_are_read_whole():
    """A flow mapping cut these names at their comma while the old loader ignored the rest."""
    names = {code: i.name_vi for code, i in indicator_catalog.indicators().items()}
    assert names["CHILDREN_UPDATED_SHARE"] == "Tỷ lệ trẻ em đã cập nhật, chuẩn hóa dữ liệu"
    assert names["BHXH_VERIFIED_SHARE"] == "Tỷ lệ người tham gia BHXH, BHYT đã xác thực với CSDLQG về dân cư"


# ----------------------------------------------------------------------------- completeness by period

def frame(rows: list[tuple], period: str) -> pl.DataFrame:
    """staging-shaped observations: (source, unit_kind, unit_code, measure, value)."""
    day = date(int(period[:4]), int(period[5:]), 15)
    return pl.DataFrame([
        dict(period=period, as_of_date=day, source=s, unit_kind=k, unit_code=c, unit_name=f"U{c}", group_label=None,
             measure=m, value=float(v), value_text=None, stated=k == "province", decimals=None, file=f"{s}.xlsx",
             sheet="S", cell=f"C{i + 2}", delivery_id=i + 1)
        for i, (s, k, c, m, v) in enumerate(rows)], schema=engine.OBSERVATION_SCHEMA)


def one_row_per_source(period: str, kind: str, skip: set[str]) -> list[tuple]:
    """A figure of a unit for every declared source but `skip`."""
    rows = []
    for s in catalog.sources().values():
        if s.id not in skip:
            m = next(m for m in s.measures if m.kind == "count")
            rows.append((s.id, kind if s.unit_kind_in(period) != "service" else "service", "1", m.id, 1))
    return rows


def source_findings(period: str, obs: pl.DataFrame) -> dict[str, list]:
    rules = [r for r in load_rules() if r.kind == "completeness_sources"]
    result = engine.reconcile(obs, period, rules, expected_units=lambda kind, day: [])
    return {s: result.findings.filter(pl.col("source") == s)["rule_id"].to_list() for s in catalog.sources()}


def test_completeness_does_not_ask_for_an_ended_source():
    """July 2025: every source but the COVID-19 vaccination data (campaign over) delivered; nothing is missing."""
    obs = frame(one_row_per_source("2025-07", "commune", skip={"tiem_chung"}), "2025-07")
    assert all(not found for found in source_findings("2025-07", obs).values())


def test_completeness_asks_for_the_same_source_while_it_is_expected():
    obs = frame(one_row_per_source("2023-09", "district", skip={"tiem_chung"}), "2023-09")
    findings = source_findings("2023-09", obs)
    assert findings["tiem_chung"] and not any(found for s, found in findings.items() if s != "tiem_chung")


def test_expected_units_are_those_of_the_months_unit_kind():
    """2025-07: vneid rows are communes; the expected units are asked for by that kind, not 'district'."""
    asked = []
    commune = Unit("commune", "14758", "Phường Hàm Rồng", "38", "38", date(2025, 7, 1), None)

    def expected(kind, day):
        asked.append(kind)
        return [commune] if kind == "commune" else []

    obs = frame([("vneid", "commune", "14758", "chip_id_applications", 5)], "2025-07")
    rules = [r for r in load_rules() if r.kind == "completeness_units"]
    result = engine.reconcile(obs, "2025-07", rules, expected_units=expected, only_sources=["vneid"])
    assert asked == ["commune"] and result.findings.is_empty()


def test_published_completeness_has_no_row_for_a_source_not_expected(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        rows = publish_completeness.compute(con, "2025-07")
        assert "tiem_chung" not in rows["source"].to_list()
        assert rows.filter(pl.col("source") == "thue")["unit_kind"].to_list() == ["tax_unit"]
        assert rows.filter(pl.col("source") == "vneid")["status"].to_list() == ["missing"]
        assert "tiem_chung" in publish_completeness.compute(con, "2023-09")["source"].to_list()


# ----------------------------------------------------------------------------- staging.observations, once

def test_the_warehouse_table_is_the_declared_one(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        got = con.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                          "WHERE table_schema = 'staging' AND table_name = 'observations' ORDER BY ordinal_position"
                          ).fetchall()
        assert got == [(c.name, c.duckdb, "YES" if c.nullable else "NO") for c in staging.COLUMNS]
        assert warehouse.frame(con, "SELECT * FROM staging.observations").schema == staging.schema()


def test_the_ingest_layer_imports_nothing_from_checks():
    offenders = [p.name for p in (config.REPO_DIR / "p06").rglob("*.py")
                 if re.search(r"^\s*(from|import) checks\b", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []


def test_duckdb_accepts_the_derived_ddl_alone():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    con.execute(staging.ddl())
    assert [r[0] for r in con.execute("DESCRIBE staging.observations").fetchall()] == staging.NAMES


def test_the_declarations_doc_is_generated_from_the_models(tmp_path):
    from p06.declared.docs import write_declarations_doc
    generated = write_declarations_doc(tmp_path).read_text(encoding="utf-8")
    assert "| `expected_until` | YYYY-MM or null | — | Last month the source is expected" in generated
    assert "| `kind` | count \\| ratio \\| text | required |" in generated
    assert generated == (config.REPO_DIR / "docs" / "declarations.md").read_text(encoding="utf-8"), \
        "docs/declarations.md is stale: regenerate it with `p06 docs`"
