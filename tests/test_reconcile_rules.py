"""Reconciliation rules on small hand-made frames shaped like staging.observations.

Each rule kind: a case that passes, one that fails, one at the tolerance boundary and one
with missing values.
"""
from __future__ import annotations

from datetime import date
from statistics import median

import polars as pl
import pytest

from p06 import catalog, reference
from p06.reconcile import engine
from p06.reconcile.rules import load_rules, parse_expression, parse_rules

SEPT = date(2023, 9, 15)


def observations(rows, period="2023-09", source="nguoi_co_cong", as_of=SEPT, file="f.xlsx", sheet="S"):
    """rows: (unit_kind, unit_code, measure, value, cell[, decimals]) tuples."""
    ratio_ids = {m.id for s in catalog.sources().values() for m in s.measures if m.kind == "ratio"}
    return pl.DataFrame([
        dict(period=period, as_of_date=as_of, source=source, unit_kind=kind, unit_code=code, unit_name=f"U{code}",
             group_label=None, measure=measure, value=None if value is None else float(value), value_text=None,
             stated=kind == "province" or measure in ratio_ids, decimals=rest[0] if rest else None,
             file=file, sheet=sheet, cell=cell, delivery_id=1)
        for kind, code, measure, value, cell, *rest in rows
    ], schema=engine.OBSERVATION_SCHEMA)


def rule(**fields):
    entry = dict(id="t.rule", description_vi="quy tắc thử", description_en="test rule", severity="warning",
                 tolerance=0, missing="skip", applies_to="both")
    entry.update(fields)
    return parse_rules([entry])


def run(obs, rules, period="2023-09"):
    sources = sorted(set(obs["source"].to_list()))
    return engine.reconcile(obs, period, rules, only_sources=sources)


def counts(result, rule_id="t.rule"):
    row = result.summary.filter(pl.col("rule_id") == rule_id).select("items", "passed", "failed", "missing").sum()
    return row.row(0)


# ----------------------------------------------------------------------------- the rule table

def test_rule_table_loads_and_names_every_kind():
    rules = load_rules()
    assert len({r.id for r in rules}) == len(rules)
    assert {r.kind for r in rules} == {"compare", "stated_ratio", "stated_total", "stock_not_falling",
                                       "completeness_units", "completeness_sources", "completeness_figures", "outlier"}
    assert all(r.severity in ("error", "warning") for r in rules)


def test_expressions_parse_signed_sums():
    e = parse_expression("merit_to_review - merit_cleaned")
    assert [(t.sign, t.measure) for t in e.terms] == [(1, "merit_to_review"), (-1, "merit_cleaned")]
    assert parse_expression(["a", "b"]).measures == ("a", "b")
    with pytest.raises(ValueError):
        parse_expression("a b")


@pytest.mark.parametrize("bad", [
    dict(kind="compare", sources=["nguoi_co_cong"], left="no_such_measure", op="==", right="merit_cleaned"),
    dict(kind="compare", sources=["nguoi_co_cong"], left="merit_remaining", op="<>", right="merit_cleaned"),
    dict(kind="compare", sources=["no_such_source"], left="a", op="==", right="b"),
    dict(kind="no_such_kind", sources="all"),
    dict(kind="stated_total", sources="all", severity="fatal"),
    dict(kind="compare", sources=["nguoi_co_cong"], left="merit_remaining", op="==", right="merit_cleaned",
         tolerance="last_shown_decimal"),
])
def test_rule_table_mistakes_fail_loudly(bad):
    with pytest.raises(ValueError):
        rule(**bad)


def test_duplicate_rule_ids_fail():
    entry = dict(id="x", description_vi="x", description_en="x", kind="stated_total", sources="all", severity="warning")
    with pytest.raises(ValueError, match="duplicate"):
        parse_rules([entry, entry])


# ----------------------------------------------------------------------------- compare

REMAINING = dict(kind="compare", sources=["nguoi_co_cong"], left="merit_remaining", op="==",
                 right="merit_to_review - merit_cleaned")


def merit_total_row(remaining):
    return observations([("province", "38", "merit_to_review", 65546, "C33"),
                         ("province", "38", "merit_cleaned", 60468, "D33"),
                         ("province", "38", "merit_remaining", remaining, "E33")])


def test_compare_passes_when_remaining_is_total_minus_done():
    result = run(merit_total_row(5078), rule(**REMAINING))
    assert result.findings.is_empty()
    assert counts(result) == (1, 1, 0, 0)


def test_compare_fails_with_expected_actual_and_lineage():
    result = run(merit_total_row(5123), rule(**REMAINING))
    f = result.findings.row(0, named=True)
    assert (f["unit_code"], f["expected"], f["actual"], f["difference"]) == ("38", 5078.0, 5123.0, 45.0)
    assert f["cell"] == "E33; C33; D33" and f["file"] == "f.xlsx" and f["sheet"] == "S"
    assert "5.123" in f["message_vi"] and "65.546 − 60.468 = 5.078" in f["message_vi"]
    assert "Ô E33 (trang S, tệp f.xlsx)" in f["message_vi"]
    assert counts(result) == (1, 0, 1, 0)


def test_compare_tolerance_boundary():
    tolerant = rule(**REMAINING, tolerance=45)
    assert run(merit_total_row(5123), tolerant).findings.is_empty()          # |45| <= 45
    assert run(merit_total_row(5124), tolerant).findings.height == 1         # |46| > 45


def test_compare_blank_figure_is_missing_not_failed():
    result = run(merit_total_row(None), rule(**REMAINING))
    assert result.findings.is_empty()
    assert counts(result) == (1, 0, 0, 1)


HANDLED = dict(kind="compare", sources=["dvc"], left="dvc_on_time + dvc_overdue", op="<=",
               right="dvc_dossiers_online", severity="error", missing="zero")


def dvc_service(on_time, overdue, online):
    return observations([("service", "PL3-01", "dvc_on_time", on_time, "G7"),
                         ("service", "PL3-01", "dvc_overdue", overdue, "H7"),
                         ("service", "PL3-01", "dvc_dossiers_online", online, "E7")], source="dvc")


def test_numerator_above_denominator_is_an_error():
    result = run(dvc_service(47, None, 4), rule(**HANDLED))          # blank overdue counts as none
    f = result.findings.row(0, named=True)
    assert (f["severity"], f["expected"], f["actual"], f["difference"]) == ("error", 4.0, 47.0, 43.0)
    assert "47 + 0 = 47" in f["message_vi"] and "ô E7" in f["message_vi"]


def test_numerator_equal_to_denominator_passes():
    result = run(dvc_service(3, 1, 4), rule(**HANDLED))
    assert result.findings.is_empty() and counts(result) == (1, 1, 0, 0)


def test_all_blank_figures_are_missing_under_zero_policy():
    assert counts(run(dvc_service(None, None, None), rule(**HANDLED))) == (1, 0, 0, 1)


def test_zero_policy_still_catches_a_blank_denominator():
    assert run(dvc_service(3, None, None), rule(**HANDLED)).findings.height == 1


def test_attainment_against_a_target_may_pass_100_percent():
    rules = [r for r in load_rules() if "vneid" in r.sources and r.kind in ("compare", "stated_ratio")]
    obs = observations([("district", "380", "eid_target", 193087, "D7"),
                        ("district", "380", "eid_applications", 305859, "E7"),
                        ("district", "380", "eid_activated", 198724, "F7"),
                        ("district", "380", "eid_activated_target_ratio", 1.0292, "G7", 2)], source="vneid")
    assert run(obs, rules).findings.is_empty()


# ----------------------------------------------------------------------------- stated ratios

RATIO = dict(id="stated_ratio", kind="stated_ratio", sources=["dvc"], tolerance="last_shown_decimal")


def dvc_ratio(total, online, stated, decimals):
    return observations([("service", "PL2-08", "dvc_dossiers_total", total, "D13"),
                         ("service", "PL2-08", "dvc_dossiers_online", online, "E13"),
                         ("service", "PL2-08", "dvc_online_ratio", stated, "F13", decimals)], source="dvc")


def test_stated_ratio_off_by_more_than_the_last_decimal_fails():
    result = run(dvc_ratio(4152, 3248, 0.7825, 2), rule(**RATIO))
    f = result.findings.row(0, named=True)
    assert f["actual"] == 0.7825 and f["expected"] == pytest.approx(3248 / 4152)
    assert f["cell"] == "F13; E13; D13"
    assert "78,25%" in f["message_vi"] and "78,23%" in f["message_vi"]


@pytest.mark.parametrize("stated, decimals", [(0.913, 1), (0.914, 1), (0.9137, 2), (0.91, 0)])
def test_stated_ratio_accepts_rounding_and_truncation(stated, decimals):
    # 2.798.936 / 3.063.393 = 91,367%: "91,3%" truncates, "91,4%" rounds
    obs = observations([("province", "38", "vax_persons", 3063393, "D7"),
                        ("province", "38", "vax_persons_verified", 2798936, "E7"),
                        ("province", "38", "vax_verified_ratio", stated, "F7", decimals)], source="tiem_chung")
    assert run(obs, rule(**{**RATIO, "sources": ["tiem_chung"]})).findings.is_empty()


def test_stated_ratio_tolerance_boundary():
    # 1/8 = 12,50%: 12,51% is one unit of the last decimal away, 12,52% two
    assert run(dvc_ratio(8, 1, 0.1251, 2), rule(**RATIO)).findings.is_empty()
    assert run(dvc_ratio(8, 1, 0.1252, 2), rule(**RATIO)).findings.height == 1


def test_stated_ratio_decimals_inferred_when_unknown():
    assert run(dvc_ratio(4152, 3248, 0.7823, None), rule(**RATIO)).findings.is_empty()
    assert run(dvc_ratio(4152, 3248, 0.7825, None), rule(**RATIO)).findings.height == 1


@pytest.mark.parametrize("total, online, stated", [(4152, 3248, None), (0, 0, 0.0), (None, 63, None)])
def test_stated_ratio_blank_or_zero_denominator_is_missing(total, online, stated):
    result = run(dvc_ratio(total, online, stated, 2), rule(**RATIO))
    assert result.findings.is_empty()
    assert counts(result, "stated_ratio") == (1, 0, 0, 1)


# ----------------------------------------------------------------------------- stated totals

TOTAL = dict(id="stated_total", kind="stated_total", sources=["ho_tich"], missing="zero", applies_to="total_row",
             measures=["civil_entered_total"])


def ho_tich(total, units):
    rows = [("province", "38", "civil_entered_total", total, "I35")] if total is not False else []
    rows += [("district", code, "civil_entered_total", v, f"I{8 + i}") for i, (code, v) in enumerate(units)]
    return observations(rows, source="ho_tich")


def test_total_row_equal_to_unit_sum_passes():
    assert run(ho_tich(300, [("380", 100), ("381", 200)]), rule(**TOTAL)).findings.is_empty()


def test_total_row_different_from_unit_sum_fails():
    result = run(ho_tich(300790, [("380", 150000), ("399", 150800)]), rule(**TOTAL))
    f = result.findings.row(0, named=True)
    assert (f["expected"], f["actual"], f["difference"]) == (300800.0, 300790.0, -10.0)
    assert f["cell"] == "I35; I8:I9"
    assert "I8:I9" in f["message_vi"] and "300.800" in f["message_vi"]


def test_total_row_tolerance_boundary():
    tolerant = rule(**{**TOTAL, "tolerance": 10})
    assert run(ho_tich(300790, [("380", 150000), ("399", 150800)]), tolerant).findings.is_empty()
    assert run(ho_tich(300789, [("380", 150000), ("399", 150800)]), tolerant).findings.height == 1


def test_total_row_missing_or_blank_units():
    assert counts(run(ho_tich(False, [("380", 1)]), rule(**TOTAL)), "stated_total") == (1, 0, 0, 1)
    # zero policy: a blank unit counts as none
    assert run(ho_tich(100, [("380", 100), ("381", None)]), rule(**TOTAL)).findings.is_empty()
    skip = rule(**{**TOTAL, "missing": "skip"})
    assert counts(run(ho_tich(100, [("380", 100), ("381", None)]), skip), "stated_total") == (1, 0, 0, 1)


# ----------------------------------------------------------------------------- stocks

STOCK = dict(id="stock_not_falling", kind="stock_not_falling", sources=["bhxh"], natures=["stock"],
             measures=["participants_verified"], applies_to="unit_rows")


def bhxh_months(aug, sep, aug_kind="district"):
    return pl.concat([
        observations([(aug_kind, "384" if aug_kind == "district" else "38", "participants_verified", aug, "D9")],
                     period="2023-08", source="bhxh", as_of=date(2023, 8, 15), file="T8.xlsx"),
        observations([("district", "384", "participants_verified", sep, "D9")], source="bhxh", file="T9.xlsx"),
    ])


def test_stock_rising_passes_and_falling_fails():
    assert run(bhxh_months(32600, 32674), rule(**STOCK)).findings.is_empty()
    f = run(bhxh_months(32674, 32637), rule(**STOCK)).findings.row(0, named=True)
    assert (f["unit_code"], f["expected"], f["actual"], f["difference"]) == ("384", 32674.0, 32637.0, -37.0)
    assert "T8.xlsx" in f["message_vi"] and "tháng 8/2023" in f["message_vi"] and "2023-08" in f["message_en"] and f["file"] == "T9.xlsx"


def test_stock_unchanged_is_the_boundary():
    assert run(bhxh_months(32674, 32674), rule(**STOCK)).findings.is_empty()


def test_stock_without_an_earlier_month_is_missing():
    obs = observations([("district", "384", "participants_verified", 5, "D9")], source="bhxh")
    result = run(obs, rule(**STOCK))
    assert result.findings.is_empty() and counts(result, "stock_not_falling") == (1, 0, 0, 1)


def test_stock_compared_at_province_level_when_last_month_had_only_a_total_row():
    result = run(bhxh_months(40, 32, aug_kind="province"), rule(**STOCK))
    f = result.findings.row(0, named=True)
    assert (f["unit_kind"], f["expected"], f["actual"]) == ("province", 40.0, 32.0)


# ----------------------------------------------------------------------------- outliers

OUTLIER = dict(id="outlier", kind="outlier", sources=["dvc"], natures=["flow"], measures=["dvc_dossiers_total"],
               series="value", min_history=6, z_threshold=3.5, max_fold_change=2.0, min_absolute_change=100,
               applies_to="unit_rows")


def dvc_months(values):
    months = [f"2023-{m:02d}" for m in range(13 - len(values), 13)]
    return pl.concat([observations([("service", "PL2-03", "dvc_dossiers_total", v, "D8")], period=p, source="dvc")
                      for p, v in zip(months, values)]), months[-1]


@pytest.mark.parametrize("values, flagged", [
    ([1000, 1500], False),        # ordinary growth
    ([1000, 2500], True),         # a 2,5-fold jump
    ([1000, 2000], False),        # exactly the 2-fold limit
    ([10, 50], False),            # 5-fold, but only 40 more: small counts stay quiet
    ([1000, 400], True),          # a fall to less than half
])
def test_jump_threshold_while_history_is_short(values, flagged):
    obs, period = dvc_months(values)
    result = run(obs, rule(**OUTLIER), period)
    assert result.findings.height == int(flagged)
    if flagged:
        f = result.findings.row(0, named=True)
        assert (f["expected"], f["actual"]) == (values[0], values[1])


def test_outlier_without_history_or_from_zero_is_missing():
    obs, period = dvc_months([0, 500])
    assert counts(run(obs, rule(**OUTLIER), period), "outlier") == (1, 0, 0, 1)
    obs, period = dvc_months([500])
    assert counts(run(obs, rule(**OUTLIER), period), "outlier") == (1, 0, 0, 1)


def test_modified_z_score_once_history_is_long_enough():
    steady = [1000, 1040, 980, 1010, 1030, 990]
    obs, period = dvc_months(steady + [1020])
    assert run(obs, rule(**OUTLIER), period).findings.is_empty()
    obs, period = dvc_months(steady + [1900])          # < 2-fold, but far outside the usual spread
    f = run(obs, rule(**OUTLIER), period).findings.row(0, named=True)
    assert f["actual"] == 1900 and f["expected"] == median(steady + [1900])   # the typical month
    assert "z" in f["message_en"]


def test_modified_z_score_boundary():
    assert engine.modified_z([1, 2, 3]) == pytest.approx(0.6745)
    assert engine.modified_z([5, 5, 5]) is None


# ----------------------------------------------------------------------------- completeness

UNITS = dict(id="completeness.units", kind="completeness_units", sources=["thue"], applies_to="unit_rows")


def tax_offices(codes, as_of=SEPT):
    return observations([("tax_office", c, "tax_ids_to_review", 1, f"C{i}") for i, c in enumerate(codes, 2)],
                        source="thue", as_of=as_of)


def test_every_expected_unit_present_once_passes():
    codes = [u.unit_code for u in reference.expected_units("tax_office", SEPT)]
    result = run(tax_offices(codes), rule(**UNITS))
    assert result.findings.is_empty() and counts(result, "completeness.units") == (11, 11, 0, 0)


def test_missing_duplicated_and_unexpected_units_are_reported():
    codes = [u.unit_code for u in reference.expected_units("tax_office", SEPT)]
    delivered = [c for c in codes if c != "CCT05"] + ["CCT01", "CCT99"]
    f = run(tax_offices(delivered), rule(**UNITS)).findings
    assert sorted(zip(f["unit_code"], f["actual"], f["expected"])) == [
        ("CCT01", 2.0, 1.0), ("CCT05", 0.0, 1.0), ("CCT99", 1.0, 0.0)]
    assert f.filter(pl.col("unit_code") == "CCT05")["message_vi"][0].startswith("Thiếu đơn vị CCT05")


def test_expected_units_follow_the_as_of_date():
    # Đông Sơn (405) is no longer expected once merged into Thanh Hóa city (01/01/2025)
    as_of = date(2025, 3, 15)
    codes = [u.unit_code for u in reference.expected_units("district", as_of)]
    assert "405" not in codes
    obs = observations([("district", c, "merit_to_review", 1, "C1") for c in codes], period="2025-03", as_of=as_of)
    assert run(obs, rule(**{**UNITS, "sources": ["nguoi_co_cong"]}), "2025-03").findings.is_empty()


def test_undelivered_source_is_reported():
    rules = rule(id="completeness.sources", kind="completeness_sources", sources=["thue", "dvc"])
    result = engine.reconcile(tax_offices(["CCT01"]), "2023-09", rules)
    assert result.findings["source"].to_list() == ["dvc"]
    assert counts(result, "completeness.sources") == (2, 1, 1, 0)


# ----------------------------------------------------------------------------- whole deliveries

def consistent_merit_delivery(period="2023-09", as_of=SEPT, extra=0):
    rows, total = [], [0, 0]
    for i, u in enumerate(reference.expected_units("district", as_of)):
        to_review, cleaned = 1000 + 37 * i, 900 + 31 * i + extra
        total[0] += to_review
        total[1] += cleaned
        r = 6 + i
        rows += [("district", u.unit_code, "merit_to_review", to_review, f"C{r}"),
                 ("district", u.unit_code, "merit_cleaned", cleaned, f"D{r}"),
                 ("district", u.unit_code, "merit_remaining", to_review - cleaned, f"E{r}"),
                 ("district", u.unit_code, "merit_cleaned_ratio", round(cleaned / to_review, 4), f"F{r}", 2)]
    rows += [("province", "38", "merit_to_review", total[0], "C33"),
             ("province", "38", "merit_cleaned", total[1], "D33"),
             ("province", "38", "merit_remaining", total[0] - total[1], "E33"),
             ("province", "38", "merit_cleaned_ratio", round(total[1] / total[0], 4), "F33", 2)]
    return observations(rows, period=period, as_of=as_of)


def test_a_consistent_delivery_produces_no_finding_at_all():
    result = engine.check_delivery(consistent_merit_delivery())
    assert result.findings.is_empty()
    assert result.summary["failed"].sum() == 0 and result.summary["passed"].sum() > 50


def test_a_consistent_delivery_with_history_produces_no_finding():
    august = consistent_merit_delivery("2023-08", date(2023, 8, 15))
    september = consistent_merit_delivery(extra=5)
    result = engine.check_delivery(september, history=august)
    assert result.findings.is_empty()
    assert result.summary.filter(pl.col("rule_id") == "stock_not_falling")["passed"].sum() == 27


def test_check_delivery_runs_only_the_delivery_own_source():
    result = engine.check_delivery(merit_total_row(5123))
    assert set(result.summary["source"]) == {"nguoi_co_cong"}
    assert "completeness.sources" not in set(result.summary["rule_id"])
    assert set(result.findings["rule_id"]) >= {"nguoi_co_cong.remaining"}


def test_rules_run_as_pandera_checks():
    rules = rule(**REMAINING)
    schema = engine.item_schema(rules)
    assert [c.name for c in schema.checks] == ["t.rule"]
    items = run(merit_total_row(5123), rules).items
    assert engine.failing_rows(items, rules) == [0]


def test_source_check_for_asset_checks():
    result = run(merit_total_row(5123), rule(**REMAINING))
    check = engine.source_check(result, "nguoi_co_cong")
    assert (check.passed, check.errors, check.warnings, check.severity) == (False, 0, 1, "warning")
    assert check.failing["cell"].to_list() == ["E33; C33; D33"]
    assert engine.source_check(result, "dvc").passed


def test_short_text_summary_for_the_cli():
    result = run(merit_total_row(5123), rule(**REMAINING))
    text = engine.format_summary(result)
    assert text.splitlines()[0] == "2023-09: 0 error(s), 1 warning(s) from 1 rule instances"
    assert "[warning] nguoi_co_cong 38 t.rule" in text


def test_expected_units_follow_the_month_when_the_delivery_states_no_date():
    """A delivery without a cut-off date (the tax CSV) is checked against the units of its month."""
    codes = [u.unit_code for u in reference.expected_units("district", date(2025, 3, 15))]
    assert "405" not in codes
    obs = observations([("district", c, "merit_to_review", 1, "C1") for c in codes], period="2025-03", as_of=None)
    assert run(obs, rule(**{**UNITS, "sources": ["nguoi_co_cong"]}), "2025-03").findings.is_empty()


@pytest.mark.parametrize("typo", [dict(nature=["stock"]), dict(exclude_measure=["merit_remaining"]),
                                  dict(tolerence=5)])
def test_an_unknown_field_in_the_rule_table_fails_loudly(typo):
    """A misspelt field would otherwise be ignored and the rule silently widened or loosened."""
    with pytest.raises(ValueError, match=list(typo)[0]):
        rule(kind="stock_not_falling", sources=["nguoi_co_cong"], **typo)


def test_a_compare_rule_over_a_text_measure_fails_when_the_table_is_read():
    with pytest.raises(ValueError, match="dvc_connected"):
        rule(kind="compare", sources=["dvc"], left="dvc_connected", op="<=", right="dvc_dossiers_total")
