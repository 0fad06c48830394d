"""The .xlsx/.xlsm route: calamine for values and merges, the package's XML for the few styles reading
needs, openpyxl only to re-save a file the number cannot be patched into."""
import zipfile
from datetime import datetime

import openpyxl
import pytest
from openpyxl.styles import Font

from toolkit.clock import Clock
from toolkit.forms import grid
from toolkit.forms.grid import load_xlsx
from toolkit.forms.kinds import INTAKE
from toolkit.forms.reader import read
from toolkit.policy import load_policy
from toolkit.process import Env

ENV = Env(Clock(datetime(2026, 11, 21, 9, 0)).now(), load_policy())


def reading(path):
    return read(load_xlsx(path.read_bytes()), INTAKE, ENV)


def restyled(path, ref, value, **style):
    book = openpyxl.load_workbook(path)
    cell = book.active[ref]
    cell.value = value
    for name, setting in style.items():
        setattr(cell, name, setting)
    book.save(path)
    return path


@pytest.mark.parametrize("font, severity", [("Wingdings", "重大"), ("Wingdings 2", "非重大")])
def test_check_boxes_typed_in_a_symbol_font_read_as_ticks(intake, font, severity):
    # Wingdings þ = ☑, ¨ = □; Wingdings 2 R = ☑, £ = □ (B8 holds 投诉类别 in the annex layout)
    text = "þ重大投诉 ¨非重大投诉" if font == "Wingdings" else "£重大投诉 R非重大投诉"
    path = restyled(intake(), "B8", text, font=Font(name=font))
    assert reading(path).value("severity") == severity


def test_the_same_letters_in_a_plain_font_stay_letters(intake):
    path = restyled(intake(), "B2", "Rose", font=Font(name="Arial"))
    assert reading(path).value("customer_name") == "Rose"


def test_a_phone_typed_as_a_number_gets_its_leading_zero_from_the_format(intake):
    path = restyled(intake(), "B3", 5932856677, number_format="00000000000")
    source = load_xlsx(path.read_bytes())
    cell = source.pages[0].grids[0].at(3, 2)
    assert (cell.value, cell.number_format) == (5932856677, "00000000000")
    assert reading(path).value("phone") == "0593-2856677"


def test_accepting_a_form_does_not_load_it_through_openpyxl(tousu, intake, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("openpyxl.load_workbook called on the common path")
    path = intake()
    monkeypatch.setattr(grid.openpyxl, "load_workbook", forbidden)
    code, lines, output = tousu("process", path)
    assert code == 0 and lines[-1]["status"] == "accepted", output


def test_a_formula_reads_as_its_cached_value_or_as_its_text_when_never_calculated(intake, tmp_path):
    path = restyled(intake(), "B2", '="陈"&"美华"')      # openpyxl writes no cached value
    assert load_xlsx(path.read_bytes()).pages[0].grids[0].at(2, 2).value == '="陈"&"美华"'
    with zipfile.ZipFile(path) as book:
        parts = {info.filename: book.read(info) for info in book.infolist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"<v></v>", '<v>陈美华</v>'.encode()).replace(b'<c r="B2" s="3">', b'<c r="B2" s="3" t="str">')
    calculated = tmp_path / "calculated.xlsx"
    with zipfile.ZipFile(calculated, "w") as book:
        for name, content in parts.items():
            book.writestr(name, content)
    assert reading(calculated).value("customer_name") == "陈美华"
