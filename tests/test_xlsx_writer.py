"""The workbook writer (p06/documents/xlsx.py) on values and names the month's tables do not hold today but a
department's figures or a catalog's titles could: what openpyxl reads back."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from openpyxl import load_workbook

from p06.documents.xlsx import Book


def test_missing_numbers_are_blank_text_stays_text_and_dates_are_dates(tmp_path):
    book = Book()
    sheet = book.add_sheet("Số liệu")
    sheet.append([float("nan"), float("inf"), float("-inf"), pd.NaT, pd.NA, None, ""])
    sheet.append(["=SUM(A1:A2)", "+84 912", "http://example.com", "3.079.271", Decimal("96.25"), True,
                  dt.date(2025, 7, 15), dt.datetime(2025, 7, 15, 8, 30, tzinfo=dt.timezone.utc)])
    ws = load_workbook(book.save(tmp_path / "x.xlsx"))["Số liệu"]
    assert [c.value for c in ws[1]] == [None] * 8
    assert [c.value for c in ws[2]][:6] == ["=SUM(A1:A2)", "+84 912", "http://example.com", "3.079.271", 96.25, True]
    assert [c.data_type for c in ws[2]][:4] == ["s"] * 4          # never a formula, a number or a link
    assert ws["G2"].value == dt.datetime(2025, 7, 15) and ws["G2"].number_format == "dd/mm/yyyy"
    assert ws["H2"].value == dt.datetime(2025, 7, 15, 8, 30)
    assert ws.max_row == 2 and sheet.rows == 2


def test_sheet_names_are_cut_cleaned_and_unique(tmp_path):
    book = Book()
    long = "Bảng nhóm 4 - Hoàn thiện hệ sinh thái dữ liệu dân cư"
    for title in (long, long, "History", "'Phụ lục [I]: 1/2'"):
        book.add_sheet(title).append([title])
    names = load_workbook(book.save(tmp_path / "x.xlsx")).sheetnames
    assert names == [long[:31], f"{long[:27]} (2)", "History (2)", "Phụ lục -I-- 1-2"]
    assert all(len(n) <= 31 for n in names)
