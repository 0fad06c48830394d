"""Patching a worksheet cell reads the sheet only up to the row after it, and everything when the rows
are out of order."""
import io
import re
import zipfile

import openpyxl

from toolkit.forms.patch import SheetPlace, patch_text

SHEET = "xl/worksheets/sheet1.xml"


def workbook(change=None) -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "表"
    for row in range(1, 6):
        book.active.cell(row, 1, f"第{row}行")
    buffer = io.BytesIO()
    book.save(buffer)
    if change is None:
        return buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, change(data) if info.filename == SHEET else data)
    return out.getvalue()


def third_row_last(xml: bytes) -> bytes:
    third = re.search(rb'<row r="3".*?</row>', xml).group(0)
    return xml.replace(third, b"").replace(b"</sheetData>", third + b"</sheetData>")


def rows_of(data: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return re.findall(rb'<row r="(\d+)"', package.read(SHEET))


def test_a_cell_is_patched_in_its_row_and_the_rest_of_the_sheet_kept():
    patched = patch_text(workbook(), SheetPlace("表", 2, 1), "TS2026110001")
    assert openpyxl.load_workbook(io.BytesIO(patched))["表"]["A2"].value == "TS2026110001"
    assert [openpyxl.load_workbook(io.BytesIO(patched))["表"].cell(r, 1).value for r in (1, 3, 4, 5)] == \
        ["第1行", "第3行", "第4行", "第5行"]


def test_a_row_standing_after_higher_rows_is_found_not_added_twice():
    data = workbook(third_row_last)
    assert rows_of(data) == [b"1", b"2", b"4", b"5", b"3"]
    patched = patch_text(data, SheetPlace("表", 3, 1), "TS2026110001")
    assert rows_of(patched) == [b"1", b"2", b"4", b"5", b"3"]
    with zipfile.ZipFile(io.BytesIO(patched)) as package:
        assert b"TS2026110001" in re.search(rb'<row r="3".*?</row>', package.read(SHEET)).group(0)
